"""`map`'s result: the input rows with each row's status, error, run id and result joined on."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from ..wire.statuses import Phase
from .scheduler import NOT_SENT

if TYPE_CHECKING:
    from .scheduler import Mapper

BOOKKEEPING = ("status", "error", "run_id")
"""The columns `map` adds before the results."""


def _results(values: list[Any], typed: bool) -> pd.DataFrame:
    """Dict results as columns (nested dicts dotted); anything else, and typed results, in one `result` column."""
    present = [v for v in values if v is not None]
    if not typed and present and all(isinstance(v, dict) for v in present):
        return pd.json_normalize([v if v is not None else {} for v in values], sep=".")
    return pd.DataFrame({"result": pd.Series(values, dtype=object)})


def joined(frame: pd.DataFrame, mapper: Mapper, typed: bool) -> pd.DataFrame:
    status, errors, ids, values = [], [], [], []
    for i, run in enumerate(mapper.runs):
        status.append(mapper.status(i))
        errors.append(mapper.errors[i] or (run.error if run is not None else f"{NOT_SENT}: {mapper.stopped}"))
        ids.append(None if run is None else run.id)
        values.append(run.result if run is not None and run.status.phase is Phase.SUCCEEDED else None)
    columns = zip(BOOKKEEPING, (status, errors, ids), strict=True)
    meta = pd.DataFrame({name: pd.Series(column, dtype=object) for name, column in columns})
    taken = {str(c) for c in frame.columns} | set(BOOKKEEPING)
    results = _results(values, typed).rename(columns=lambda c: f"output.{c}" if c in taken else c)
    joined = pd.concat([frame.reset_index(drop=True), meta, results], axis=1)
    joined.index = frame.index
    return joined
