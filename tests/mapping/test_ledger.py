"""The run ledger: identical rows run once, a killed map resumes with no task made twice, kernels share it.

The hosted dialect keeps no Idempotency-Key (as far as anyone knows), so these maps go through a
proxy that drops the header: only the ledger and the lookup on the server stand between a kill -9
and a task paid twice.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from inference_nb import Client, hosted_tasks
from inference_nb.client.errors import InvalidRequest
from inference_nb.mapping import Ledger
from inference_nb.server import EmbeddedServer, start_server

from ..faults import FaultProxy
from .test_mapping import FlakyApp, server_tasks

CHILD = Path(__file__).with_name("map_in_child.py")
NO_IDEMPOTENCY = ("idempotency-key",)


@pytest.fixture
def server(tmp_path) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path / "server", apps=[FlakyApp]) as srv:
        yield srv


@pytest.fixture
def proxy(server) -> Iterator[FaultProxy]:
    with FaultProxy(server.url, seed=1, rate=0, dropping=NO_IDEMPOTENCY) as relay:
        yield relay


def hosted(proxy: FaultProxy, server: EmbeddedServer) -> Client:
    return Client(tasks=hosted_tasks(server.token, base_url=proxy.url), wait_timeout=60)


def child(url: str, server: EmbeddedServer, rows: list[dict], concurrency: int = 4) -> subprocess.Popen:
    spec = {"url": url, "token": server.token, "app": "demo/sleep", "rows": rows, "concurrency": concurrency}
    return subprocess.Popen([sys.executable, str(CHILD), json.dumps(spec)], stdout=subprocess.PIPE, text=True)


def finished(process: subprocess.Popen) -> dict:
    out, _ = process.communicate(timeout=180)
    assert process.returncode == 0
    return json.loads(out)


def messages(server: EmbeddedServer) -> Counter[str]:
    return Counter(task["input"]["message"] for task in server_tasks(server))


def test_identical_rows_share_one_task_and_the_map_returns(server, proxy):
    rows = [{"n": 7, "tag": "same"}] * 5 + [{"n": 8, "tag": "same"}]

    frame = hosted(proxy, server).map("test/flaky", rows, progress=False)

    assert frame["status"].tolist() == ["succeeded"] * 6
    assert frame["run_id"][:5].nunique() == 1 and frame["run_id"][5] != frame["run_id"][0]
    assert frame["square"].tolist() == [49] * 5 + [64]
    assert len(server_tasks(server)) == 2


def test_a_map_killed_mid_way_resumes_in_a_new_process_with_exactly_one_task_per_row(server, ledger_path):
    rows = [{"seconds": 0.3, "steps": 1, "message": f"row {i}"} for i in range(16)]

    stalling = {"on": True}

    def stall_row_8(method: str, path: str, body: bytes) -> str | None:
        return "stall" if stalling["on"] and method == "POST" and b'"row 8"' in body else None

    # Row 8 is sent once 5 rows have ended (4 at once); its task is made, its answer never comes.
    # One proxy throughout: the ledger knows a server by its URL.
    with FaultProxy(server.url, seed=1, rate=0, rule=stall_row_8, dropping=NO_IDEMPOTENCY) as proxy:
        first = child(proxy.url, server, rows)
        assert proxy.stalled.wait(120)
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        stalling["on"] = False
        with sqlite3.connect(ledger_path) as db:  # killed wherever it was, writing or not
            assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
            states = dict(db.execute("SELECT state, count(*) FROM entries GROUP BY state").fetchall())
        assert states["submitting"] >= 1 and states["succeeded"] >= 5  # row 8 in doubt, what ended recorded
        before = messages(server)
        assert before["row 8"] == 1 and len(before) < len(rows)

        resumed = finished(child(proxy.url, server, rows))
        assert messages(server) == Counter({row["message"]: 1 for row in rows})  # no row paid twice
        assert resumed["status"] == ["succeeded"] * len(rows)
        assert sum(resumed["from_ledger"]) >= 5  # what had ended came from the ledger
        tasks = {task["input"]["message"]: task["id"] for task in server_tasks(server)}
        assert resumed["run_id"] == [tasks[row["message"]] for row in rows]

        again = finished(child(proxy.url, server, rows))
        assert again["from_ledger"] == [True] * len(rows) and again["run_id"] == resumed["run_id"]
        assert len(server_tasks(server)) == len(rows)  # a finished map submits nothing

    stored = b"".join(p.read_bytes() for p in ledger_path.parent.glob("ledger.sqlite3*"))
    assert server.token.encode() not in stored  # no secret in the ledger


def test_two_processes_mapping_the_same_rows_at_once_share_the_ledger_and_make_each_task_once(server, proxy):
    rows = [{"seconds": 0.1, "steps": 1, "message": f"shared {i}"} for i in range(24)]

    one, two = child(proxy.url, server, rows), child(proxy.url, server, rows)
    results = [finished(one), finished(two)]

    assert all(result["status"] == ["succeeded"] * len(rows) for result in results)
    assert results[0]["run_id"] == results[1]["run_id"]
    assert messages(server) == Counter({row["message"]: 1 for row in rows})
    maps = Ledger().maps()
    assert len(maps) == 1 and maps[0].done and maps[0].counts == {"succeeded": len(rows)}


def test_a_row_in_another_map_reuses_its_result_unless_told_not_to(server, proxy):
    client = hosted(proxy, server)
    first = client.map("test/flaky", [{"n": 1, "tag": "cache"}, {"n": 2, "tag": "cache"}], progress=False)

    other = client.map("test/flaky", [{"n": 2, "tag": "cache"}, {"n": 3, "tag": "cache"}], progress=False)
    assert other["from_ledger"].tolist() == [True, False]
    assert other["run_id"][0] == first["run_id"][1] and len(server_tasks(server)) == 3

    uncached = client.map("test/flaky", [{"n": 2, "tag": "cache"}], cache=False, progress=False)
    assert uncached["from_ledger"].tolist() == [False] and uncached["run_id"][0] not in set(first["run_id"])
    assert len(server_tasks(server)) == 4

    again = client.map("test/flaky", [{"n": 1, "tag": "cache"}, {"n": 2, "tag": "cache"}], fresh=True, progress=False)
    assert not again["from_ledger"].any() and set(again["run_id"]).isdisjoint(first["run_id"])
    assert len(server_tasks(server)) == 6


def test_the_columns_say_attempts_and_timings(server, proxy):
    rows = [{"n": 1, "fail": True, "tag": "columns"}, {"n": 2, "tag": "columns"}]
    client = hosted(proxy, server)

    first = client.map("test/flaky", rows, progress=False)
    retried = client.map("test/flaky", rows, retry_failed=True, progress=False)

    assert first["attempts"].tolist() == [1, 1] and first["status"].tolist() == ["failed", "succeeded"]
    assert retried["attempts"].tolist() == [2, 1] and retried["from_ledger"].tolist() == [False, True]
    assert (retried["queued_s"] >= 0).all() and (retried["run_s"] >= 0).all()
    assert retried["run_s"].tolist() == [retried.loc[0, "run_s"], first.loc[1, "run_s"]]


def test_the_ledger_lists_maps_with_their_progress_and_forgets_one(server, proxy):
    client = hosted(proxy, server)
    client.map("test/flaky", [{"n": i, "fail": i == 0, "tag": "list"} for i in range(3)], progress=False)

    (record,) = client.ledger.maps()
    assert record.target == "test/flaky" and record.kind == "task" and record.rows == 3
    assert record.counts == {"succeeded": 2, "failed": 1} and record.done
    assert server.token not in repr(record)

    assert client.ledger.forget(record.id) and client.ledger.maps() == []
    again = client.map("test/flaky", [{"n": i, "fail": i == 0, "tag": "list"} for i in range(3)], progress=False)
    assert not again["from_ledger"].any()


@pytest.mark.parametrize(
    ("value", "words"),
    [
        (float("nan"), "NaN is not JSON: use None"),
        (float("inf"), "infinity is not JSON"),
        ({1, 2}, "a set is not JSON: use a list"),
        (np.array([1, 2]), "an array is not JSON: use .tolist()"),
        (object(), "a object is not JSON data"),
        ({"deep": [1, np.float64("nan")]}, "field 'note.deep[1]': NaN"),
    ],
)
def test_a_bad_row_fails_alone_saying_which_field(client_of_server, value, words):
    rows = [{"n": 1, "tag": "bad"}, {"n": 2, "tag": "bad", "note": value}, {"n": 3, "tag": "bad"}]

    frame = client_of_server.map("test/flaky", rows, progress=False)

    assert frame["status"].tolist() == ["succeeded", "failed", "succeeded"]
    assert words in frame.loc[1, "error"] and "row 1" in frame.loc[1, "error"]
    assert frame.loc[1, "run_id"] is None


def test_a_circular_row_fails_alone(client_of_server):
    loop: dict = {}
    loop["self"] = loop

    frame = client_of_server.map("test/flaky", [{"n": 1, "tag": "loop", "note": loop}], progress=False)

    assert "contains itself" in frame.loc[0, "error"] and "'note.self'" in frame.loc[0, "error"]


def test_numpy_scalars_of_every_kind_are_sent_as_numbers(client_of_server):
    rows = [{"n": np.int64(4), "fail": np.bool_(False), "tag": np.str_("np")}, {"n": np.int32(5), "tag": "np"}]

    frame = client_of_server.map("test/flaky", rows, progress=False)

    assert frame["square"].tolist() == [16, 25]


def test_an_unknown_option_is_named_with_the_known_ones(client_of_server):
    with pytest.raises(InvalidRequest, match="no option 'concurency'.*concurrency"):
        client_of_server.map("test/flaky", [{"n": 1}], concurency=2)


@pytest.fixture
def client_of_server(server) -> Client:
    return Client(base_url=server.url, key=server.token, wait_timeout=30)


def test_rerunning_a_finished_map_of_1000_rows_submits_nothing(client_of_server, server):
    rows = pd.DataFrame({"n": range(1000), "tag": "thousand"})
    first = client_of_server.map("test/flaky", rows, concurrency=32, progress=False)

    again = client_of_server.map("test/flaky", rows, progress=False)

    assert again["from_ledger"].all() and len(server_tasks(server)) == 1000
    assert again["run_id"].tolist() == first["run_id"].tolist()
    assert again["square"].tolist() == first["square"].tolist()


def test_a_faulty_network_to_a_server_that_keeps_no_idempotency_key_makes_each_task_once(server):
    rows = [{"n": i, "tag": "hosted-faults"} for i in range(60)]

    with FaultProxy(server.url, seed=7, rate=0.25, dropping=NO_IDEMPOTENCY) as faulty:
        frame = hosted(faulty, server).map("test/flaky", rows, concurrency=8, progress=False)
        assert faulty.counts["reset_after"] + faulty.counts["truncate"] > 0  # answers lost after the work

    assert frame["status"].tolist() == ["succeeded"] * 60
    tasks = server_tasks(server)
    assert Counter(task["input"]["n"] for task in tasks) == Counter(range(60))  # none made twice
    assert set(frame["run_id"]) == {task["id"] for task in tasks}
