"""`map`'s rows by state for the progress line, counted as they change (docs/ARCHITECTURE.md, "map's own cost").

The loop appends each row whose work is over to `settled` and keeps `running`; the caller's
thread folds only the rows settled since its last look into its counts, so a redraw costs the
rows that changed, not every row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable


class Tally:
    def __init__(self, total: int) -> None:
        self.total = total
        self.settled: list[int] = []
        """Rows whose work is over, in the order it ended (appended on the loop)."""
        self.running = 0
        """Rows with a run being followed (kept on the loop)."""
        self._read = 0
        self._ended: Counter[str] = Counter()

    def counts(self, status: Callable[[int], str], unsent: str) -> Counter[str]:
        """Rows by state; the rows not settled nor running count as `unsent` ("queued" or "not sent")."""
        settled = len(self.settled)
        self._ended.update(status(i) for i in self.settled[self._read : settled])
        self._read = settled
        counts = self._ended.copy()
        counts["running"] += self.running
        counts[unsent] += self.total - settled - self.running
        return +counts
