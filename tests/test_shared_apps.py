"""The helpers benchmarks/ shares with the tests do what the benchmarks rely on (docs/ARCHITECTURE.md,
"Benchmarks"): a server in a child process serving tests/apps.py's apps, and `test/hold` keeping
every run of a group in flight until the last one is running."""

from __future__ import annotations

import time

from inference_nb.api import Client

from .apps import HoldApp
from .child_server import child_server


def test_a_held_group_ends_only_once_its_last_run_is_running():
    with child_server(apps=[HoldApp]) as (url, token):
        client = Client(base_url=url, key=token, wait_timeout=60)
        group = {"group": "three", "count": 3, "settle": 0.0}
        first, second = (client.run(HoldApp.name, group) for _ in range(2))
        first.refresh()
        assert not first.done  # two of three are running: held
        last_created = time.time()
        last = client.run(HoldApp.name, {**group, "place": 0.2})
        runs = [first.wait(), second.wait(), last.wait()]
    assert [run.status.name for run in runs] == ["Completed"] * 3
    ended = [run.output["ended"] for run in runs]
    assert min(ended) >= last_created  # nobody ended before the last was made
    assert ended[2] > max(ended[:2])  # its `place` ends it after the others
