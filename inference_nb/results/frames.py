"""Results → pandas DataFrames: arrays of objects are rows, nested objects dotted columns.

Pure functions, no network and no IPython; pandas is imported only when a frame is made.
"""

from __future__ import annotations

from itertools import chain
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    import pandas as pd


def to_plain(value: Any) -> Any:
    """JSON-shaped data from whatever the user got back (pydantic models, possibly nested in lists/dicts)."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, list | tuple):
        return [to_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: to_plain(v) for k, v in value.items()}
    return value


def _is_table(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, dict) for v in value)


def rows_of(value: Any) -> list[dict] | None:
    """The rows a plain value stands for when it is a table: a list of objects, or the only one inside an object."""
    if _is_table(value):
        return value
    if isinstance(value, dict):
        tables = [v for v in value.values() if _is_table(v)]
        if len(tables) == 1:
            return tables[0]
    return None


def _dumped(value: Any) -> Any:
    """One level of `to_plain`: a model becomes its JSON-shaped dict, a tuple a list; nothing below is walked."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    return list(value) if isinstance(value, tuple) else value


def _table_of(value: Any) -> list[dict] | None:
    """`value` as a list of row dicts when it is one (rows that are models dumped), without copying plain rows."""
    value = _dumped(value)
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(v, dict) for v in value):
        return value
    if all(isinstance(v, dict | BaseModel) for v in value):
        return [_dumped(v) for v in value]
    return None


def _table_rows(value: Any) -> list[dict] | None:
    """Like `rows_of(to_plain(value))`, walking only the levels a table can be found at."""
    value = _dumped(value)
    rows = _table_of(value)
    if rows is None and isinstance(value, dict):
        tables = [t for t in map(_table_of, value.values()) if t is not None]
        rows = tables[0] if len(tables) == 1 else None
    return rows


def _model_below(cells: Any, kinds: set[type]) -> bool:
    """Whether a model or a tuple lies anywhere inside `cells` (whose types are `kinds`), a level at a time."""
    while True:
        if any(issubclass(kind, BaseModel | tuple) for kind in kinds):
            return True
        if not any(issubclass(kind, list | dict) for kind in kinds):
            return False
        if kinds == {list}:  # the usual case (a column of lists) without a test per cell
            cells = list(chain.from_iterable(cells))
        else:
            containers = (c.values() if isinstance(c, dict) else c for c in cells if isinstance(c, (list, dict)))
            cells = list(chain.from_iterable(containers))
        kinds = set(map(type, cells))


def _object_cells(frame: pd.DataFrame) -> tuple[bool, bool]:
    """(some cell is a dict, some cell holds a model or tuple), looking only at columns of Python objects."""
    dicts = models = False
    for name, dtype in frame.dtypes.items():
        if dtype != object:  # noqa: E721 (pandas dtypes compare equal to the type, never identical)
            continue
        cells = frame[name].to_numpy()
        kinds = set(map(type, cells))
        dicts = dicts or any(issubclass(kind, dict) for kind in kinds)
        models = models or _model_below(cells, kinds)
    return dicts, models


def _rows_frame(rows: list[dict]) -> pd.DataFrame:
    """The frame `pd.json_normalize(to_plain(rows), sep=".")` gives, built the cheapest way that gives the same
    (docs/ARCHITECTURE.md, "Cold start and hot paths").

    Flat rows go straight to `pd.DataFrame` (what json_normalize ends with for them); rows holding
    objects go to json_normalize as they are. Only columns of Python objects are looked at again,
    for models or tuples below the rows (rare: then the rows are made plain first).
    """
    import pandas as pd

    frame = None
    if not any(isinstance(v, dict | BaseModel) for v in rows[0].values()):
        frame = pd.DataFrame(rows)
    dicts, models = _object_cells(frame) if frame is not None else (True, False)
    if dicts:
        frame = pd.json_normalize(rows, sep=".")
        models = models or _object_cells(frame)[1]
    return pd.json_normalize(to_plain(rows), sep=".") if models else frame


def to_dataframe(value: Any) -> pd.DataFrame:
    """A DataFrame of a result: arrays of objects are rows, nested objects become dotted columns.

    Args:
        value: JSON-shaped data or pydantic models. A list of objects (or an object holding
            exactly one such list) gives a row per object; another object gives one row; a list
            of scalars a `value` column; None an empty frame.
    """
    import pandas as pd  # only here: it takes seconds to import, and showing a Run must not wait for it

    rows = _table_rows(value)
    if rows is not None:
        return _rows_frame(rows)
    value = to_plain(value)
    if value is None:
        return pd.DataFrame()
    if isinstance(value, dict):
        return pd.json_normalize(value, sep=".")
    if isinstance(value, list):
        # Scalars get a `value` column; a mixed list keeps its objects as rows beside them.
        return pd.json_normalize([v if isinstance(v, dict) else {"value": v} for v in value], sep=".")
    return pd.DataFrame({"value": [value]})


def table_rows(value: Any) -> list[dict] | None:
    """The rows a result stands for when it is a table, else None."""
    return rows_of(to_plain(value))
