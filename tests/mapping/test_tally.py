"""`Tally`: rows by state, counted as they change; a redraw reads only the rows settled since the last one."""

from __future__ import annotations

from inference_nb.mapping.tally import Tally


def test_counts_fold_in_only_the_rows_settled_since_the_last_look():
    states = {0: "succeeded", 1: "failed", 2: "succeeded"}
    looked: list[int] = []

    def status(i: int) -> str:
        looked.append(i)
        return states[i]

    tally = Tally(5)
    assert tally.counts(status, "queued") == {"queued": 5}
    tally.running = 2
    tally.settled += [0, 1]
    assert tally.counts(status, "queued") == {"succeeded": 1, "failed": 1, "running": 2, "queued": 1}
    tally.running = 1
    tally.settled.append(2)
    assert tally.counts(status, "not sent") == {"succeeded": 2, "failed": 1, "running": 1, "not sent": 1}
    assert looked == [0, 1, 2]  # each settled row looked at once
