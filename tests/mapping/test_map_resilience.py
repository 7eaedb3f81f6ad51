"""`client.map` through a bad network (tests/faults.py's proxy): one row's trouble stays that row's."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator

import pytest

from inference_nb.api import Client
from inference_nb.mapping import MapStopped
from inference_nb.server import EmbeddedServer, start_server

from ..faults import FAULTS, FaultProxy
from ..server.helpers import status_names
from .test_mapping import FlakyApp, server_tasks


@pytest.fixture
def server(tmp_path) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path / "server", apps=[FlakyApp]) as srv:
        yield srv


def through(proxy: FaultProxy, server: EmbeddedServer) -> Client:
    return Client(base_url=proxy.url, key=server.token, wait_timeout=60)


def test_300_tasks_through_a_faulty_network_are_each_found_once_and_agree_with_the_server(server):
    rows = [{"n": i, "tag": "faults"} for i in range(300)]

    with FaultProxy(server.url, seed=13, rate=0.2) as proxy:
        frame = through(proxy, server).map("test/flaky", rows, concurrency=16, progress=False)

    assert all(proxy.counts[fault] > 0 for fault in FAULTS), proxy.counts
    assert len(frame) == 300 and frame["status"].tolist() == ["succeeded"] * 300
    assert frame["square"].tolist() == [i * i for i in range(300)]
    tasks = {task["id"]: task for task in server_tasks(server)}
    assert len(tasks) == 300  # nothing duplicated by a retried submit
    assert set(frame["run_id"]) == set(tasks)  # nothing started that the table does not hold
    assert status_names([tasks[run_id]["status"] for run_id in frame["run_id"]]) == ["Completed"] * 300


def test_a_row_whose_submit_keeps_failing_fails_alone_and_the_map_goes_on(server):
    rows = [{"n": i, "tag": "doomed" if i == 3 else "fine"} for i in range(6)]

    def doomed(method: str, path: str, body: bytes) -> str | None:
        return "502" if method == "POST" and b"doomed" in body else None

    with FaultProxy(server.url, seed=1, rate=0, rule=doomed) as proxy:
        frame = through(proxy, server).map("test/flaky", rows, concurrency=2, progress=False)

    assert frame["status"].tolist() == ["succeeded"] * 3 + ["failed"] + ["succeeded"] * 2
    assert "not submitted after 3 attempts" in frame.loc[3, "error"] and "502" in frame.loc[3, "error"]
    assert frame["run_id"].isna().tolist() == [False] * 3 + [True] + [False] * 2
    assert len(server_tasks(server)) == 5


def test_a_refused_key_stops_the_map_which_returns_every_row_saying_why(server):
    creates: Counter[str] = Counter()

    def refuse_after_two(method: str, path: str, body: bytes) -> str | None:
        if method != "POST":
            return None
        creates["post"] += 1
        return "401" if creates["post"] > 2 else None

    with FaultProxy(server.url, seed=1, rate=0, rule=refuse_after_two) as proxy:
        with pytest.warns(MapStopped, match="refused the key") as warned:
            frame = through(proxy, server).map("test/flaky", [{"n": i} for i in range(6)], concurrency=1)

    assert frame["status"].tolist() == ["succeeded"] * 2 + ["failed"] + ["not sent"] * 3
    assert all("refused the key" in error for error in frame["error"][3:])
    stopped = [w for w in warned if issubclass(w.category, MapStopped)]  # not a stray ResourceWarning
    assert len(stopped) == 1 and "3 of 6 rows were not sent" in str(stopped[0].message)
    assert creates["post"] == 3  # nothing more was sent after the refusal


def test_a_server_that_no_row_reaches_stops_the_map_early(server):
    def unavailable(method: str, path: str, body: bytes) -> str | None:
        return "503" if method == "POST" else None

    with FaultProxy(server.url, seed=1, rate=0, rule=unavailable) as proxy:
        with pytest.warns(MapStopped, match="3 rows in a row could not be submitted"):
            frame = through(proxy, server).map("test/flaky", [{"n": i} for i in range(9)], concurrency=3)

    counts = Counter(frame["status"])
    assert set(counts) == {"failed", "not sent"} and counts["failed"] >= 3  # rows already submitting end failed
    assert all("could not be submitted" in error for error in frame["error"][frame["status"] == "not sent"])
    assert server_tasks(server) == []
