"""What a benchmark hands to `run.py`: one round's figures, each with its baseline from the same round.

Every benchmark module has `rounds(count)`, a generator that sets up once (a child server, data)
and yields one list of `Figure`s per round, measuring ours and its baseline in turns within the
round, so that a busy moment of the machine hits both alike. `run.py` takes the median of each
figure over the rounds, with its min–max (docs/ARCHITECTURE.md, "Benchmarks").
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # for tests/apps.py and tests/child_server.py, shared with the tests


@dataclass(frozen=True)
class Figure:
    """One row of the README table, as measured in one round."""

    label: str
    ours: float
    unit: str
    """How `ours` and `baseline` print: "ms", "s", "%", "bytes", "runs"."""
    baseline: float | None = None
    baseline_label: str = ""
    """What the baseline is ("bare httpx POST"); printed after its figure."""
    limit: float | None = None
    """Target: `ours` at most this (without a baseline)."""
    ratio_limit: float | None = None
    """Target: `ours / baseline` at most this."""
    ratio_floor: float | None = None
    """Target: `ours / baseline` at least this."""

    @property
    def ratio(self) -> float | None:
        return None if self.baseline is None else self.ours / self.baseline


def percentile(values: list[float], q: float) -> float:
    """The `q` quantile (0..1) of `values`, nearest rank."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else float("nan")


def median(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def timed(call: Callable[[], object]) -> Callable[[], float]:
    """`call` made to return the seconds it took."""

    def one() -> float:
        began = time.perf_counter()
        call()
        return time.perf_counter() - began

    return one


def in_turns(count: int, *calls: Callable[[], float]) -> list[list[float]]:
    """`count` results of each call, the calls taking turns, in the given order then the reverse
    (ours, baseline, baseline, ours, …): no call always comes right after the same other one, whose
    aftermath (a server still busy with its last request, a stream still reading) it would pay."""
    results: list[list[float]] = [[] for _ in calls]
    for turn in range(count):
        order = list(zip(calls, results, strict=True))
        for call, kept in order if turn % 2 == 0 else reversed(order):
            kept.append(call())
    return results
