"""A row's values as JSON data, or a plain-words reason naming the field that is not.

Numpy scalars of every kind become the Python number, text or bool they hold (`.item()`); what JSON
cannot carry (NaN and infinity, sets, arrays, bytes, objects that refer to themselves, any other
object) is refused with the field's dotted path, so that row fails alone and the map goes on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any


class NotJSON(ValueError):
    """A value JSON cannot carry; the message names the field."""


def json_row(row: Mapping[Any, Any]) -> dict[str, Any]:
    """The row with every value converted to JSON data.

    Raises:
        NotJSON: a value JSON cannot carry ("field 'a.b': NaN is not JSON: use None").
    """
    return {str(name): _value(value, str(name), ()) for name, value in row.items()}


def _value(value: Any, path: str, inside: tuple[int, ...]) -> Any:
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        if math.isnan(value):
            raise NotJSON(f"field {path!r}: NaN is not JSON: use None")
        if math.isinf(value):
            raise NotJSON(f"field {path!r}: infinity is not JSON: use None or a large number")
        return float(value)
    kind = type(value)
    if kind.__module__ == "numpy":  # numpy stays optional: recognised by its module, not imported
        if hasattr(value, "item") and getattr(value, "ndim", None) == 0:
            return _value(value.item(), path, inside)
        raise NotJSON(f"field {path!r}: an array is not JSON: use .tolist()")
    if id(value) in inside:
        raise NotJSON(f"field {path!r}: it contains itself (a circular structure is not JSON)")
    if isinstance(value, Mapping):
        inside = (*inside, id(value))
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise NotJSON(f"field {path!r}: the key {key!r} is not text (JSON keys are text)")
            out[key] = _value(item, f"{path}.{key}", inside)
        return out
    if isinstance(value, list | tuple):
        inside = (*inside, id(value))
        return [_value(item, f"{path}[{i}]", inside) for i, item in enumerate(value)]
    if isinstance(value, set | frozenset):
        raise NotJSON(f"field {path!r}: a set is not JSON: use a list")
    raise NotJSON(
        f"field {path!r}: a {kind.__name__} is not JSON data (text, numbers, booleans, lists, objects, None); "
        "convert it first"
    )
