"""`map`'s result: the input rows with each row's status, error, run id, attempts, timings and result joined on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..wire.statuses import Phase
from .ended import Ended
from .scheduler import NOT_SENT
from .timings import queued_and_run

if TYPE_CHECKING:
    from .scheduler import Mapper

BOOKKEEPING = ("status", "error", "run_id", "attempts", "queued_s", "run_s", "from_ledger")
"""The columns `map` adds before the results."""
DTYPES = {"attempts": "int64", "queued_s": "float64", "run_s": "float64", "from_ledger": "bool"}


def _results(values: list[Any], typed: bool) -> pd.DataFrame:
    """Dict results as columns (nested dicts dotted); anything else, and typed results, in one `result` column."""
    present = [v for v in values if v is not None]
    if not typed and present and all(isinstance(v, dict) for v in present):
        rows = [v if v is not None else {} for v in values]
        if any(isinstance(item, dict) for v in present for item in v.values()):
            return pd.json_normalize(rows, sep=".")
        return pd.DataFrame(rows)  # flat: json_normalize would first copy every dict (100,000 rows: ~25 MB)
    return pd.DataFrame({"result": pd.Series(values, dtype=object)})


def _of_row(mapper: Mapper, i: int, typed: Callable[[Any], Any]) -> tuple[Any, ...]:
    """The bookkeeping columns and the result of distinct row i (rows sharing it get the same)."""
    stored = mapper.stored[i]
    if stored is not None:
        value = typed(stored.value()) if stored.state == Phase.SUCCEEDED.value else None
        return stored.state, stored.error, stored.run_id, mapper.attempts[i], stored.queued_s, stored.run_s, True, value
    run = mapper.runs[i]
    if run is None:
        error = mapper.errors[i] or f"{NOT_SENT}: {mapper.stopped}"
        return mapper.status(i), error, None, mapper.attempts[i], None, None, False, None
    if isinstance(run, Ended):
        value = typed(run.output) if run.output is not None else None
        return run.phase.value, run.error, run.id, mapper.attempts[i], run.queued_s, run.run_s, False, value
    queued_s, run_s = queued_and_run(run.timeline) if run.done else (None, None)
    value = run.result if run.status.phase is Phase.SUCCEEDED else None
    status = mapper.status(i)
    return status, mapper.errors[i] or run.error, run.id, mapper.attempts[i], queued_s, run_s, False, value


def joined(
    frame: pd.DataFrame, mapper: Mapper, shared: list[int | str], *, typed: bool, typed_value: Callable[[Any], Any]
) -> pd.DataFrame:
    """The input rows with their columns joined on. `shared[k]` is input row k's distinct row in `mapper`,
    or the reason it was not sent (a bad row)."""
    distinct = [_of_row(mapper, i, typed_value) for i in range(len(mapper.rows))]
    unsent = ("failed", None, None, 0, None, None, False, None)
    columns = [distinct[at] if isinstance(at, int) else (unsent[0], at, *unsent[2:]) for at in shared]
    values = [c[-1] for c in columns]
    meta = pd.DataFrame(
        {name: pd.Series([c[k] for c in columns], dtype=DTYPES.get(name, object)) for k, name in enumerate(BOOKKEEPING)}
    )
    taken = {str(c) for c in frame.columns} | set(BOOKKEEPING)
    results = _results(values, typed).rename(columns=lambda c: f"output.{c}" if c in taken else c)
    joined = pd.concat([frame.reset_index(drop=True), meta, results], axis=1)
    joined.index = frame.index
    return joined
