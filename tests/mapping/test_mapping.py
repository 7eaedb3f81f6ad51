"""`client.map` over real HTTP against the embedded server: rows in, one DataFrame out."""

from __future__ import annotations

import _thread
import asyncio
import math
import re
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator

import httpx
import pandas as pd
import pytest
from pydantic import BaseModel

from inference_nb.api import Client
from inference_nb.client.errors import DeadlineExceeded, InvalidRequest
from inference_nb.mapping.join import BOOKKEEPING
from inference_nb.server import App, EmbeddedServer, start_server

from ..apps import GateApp
from ..server.helpers import status_names

ULID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
INVENTORY_QUESTION = 'What is the value of our "{category}" inventory?'
VALUE_SCHEMA = {
    "type": "object",
    "properties": {"category": {"type": "string"}, "value": {"type": "number"}, "units": {"type": "integer"}},
    "required": ["category", "value"],
}

_attempts: Counter[str] = Counter()
_busy = {"now": 0, "max": 0}


class FlakyApp(App):
    """Fails the first attempt of a row that asks for it, naming the row; later attempts succeed."""

    name = "test/flaky"
    description = "Fails once on request."

    class Input(BaseModel):
        n: int
        fail: bool = False
        tag: str = ""
        note: str | None = None

    class Output(BaseModel):
        n: int
        square: int
        info: dict[str, str]

    async def run(self, input: Input) -> Output:
        key = f"{input.tag}/{input.n}"
        _attempts[key] += 1
        if input.fail and _attempts[key] == 1:
            raise RuntimeError(f"row {input.n} failed on purpose")
        parity = "even" if input.n % 2 == 0 else "odd"
        return self.Output(n=input.n, square=input.n**2, info={"parity": parity, "note": str(input.note)})


class BusyApp(App):
    """Records how many of its runs are in progress at once."""

    name = "test/busy"
    description = "Sleeps a little, counting concurrent runs."

    class Input(BaseModel):
        n: int
        seconds: float = 0.1

    class Output(BaseModel):
        n: int

    async def run(self, input: Input) -> Output:
        _busy["now"] += 1
        _busy["max"] = max(_busy["max"], _busy["now"])
        try:
            await asyncio.sleep(input.seconds)
        finally:
            _busy["now"] -= 1
        return self.Output(n=input.n)


@pytest.fixture
def server(tmp_path) -> Iterator[EmbeddedServer]:
    with start_server(data_dir=tmp_path / "server", apps=[FlakyApp, BusyApp, GateApp]) as srv:
        yield srv


@pytest.fixture
def client(server: EmbeddedServer) -> Client:
    return Client(base_url=server.url, key=server.token, wait_timeout=30)


def server_tasks(server: EmbeddedServer) -> list[dict]:
    """Every task on the server, through the list endpoint's pages."""
    tasks, cursor = [], None
    with httpx.Client(base_url=server.url, headers={"authorization": f"Bearer {server.token}"}) as http:
        while True:
            page = http.get("/tasks", params={"limit": 100, **({"cursor": cursor} if cursor else {})}).json()
            tasks += page["tasks"]
            if not (cursor := page["next_cursor"]):
                return tasks


def server_runs(server: EmbeddedServer, cluster: str = "demo") -> list[dict]:
    runs, cursor = [], None
    with httpx.Client(base_url=server.url, headers={"authorization": server.token}) as http:
        while True:
            response = http.get(
                f"/clusters/{cluster}/runs", params={"limit": 100, **({"cursor": cursor} if cursor else {})}
            )
            runs += response.json()
            if not (cursor := response.headers.get("x-next-cursor")):
                return runs


def test_200_rows_with_failures_rerun_submits_nothing_and_retry_makes_one_attempt_per_failed_row(server, client):
    failing = {i for i in range(200) if i % 7 == 3}
    rows = pd.DataFrame(
        {"n": range(200), "fail": [i in failing for i in range(200)], "tag": "two-hundred"},
        index=pd.Index([f"r{i}" for i in range(200)], name="row"),
    )

    first = client.map("test/flaky", rows, progress=False)

    assert first.index.equals(rows.index)
    pd.testing.assert_frame_equal(first[["n", "fail", "tag"]], rows)
    assert first["status"].value_counts().to_dict() == {"succeeded": 200 - len(failing), "failed": len(failing)}
    failed = first[first["status"] == "failed"]
    assert set(failed["n"]) == failing
    for n, error in zip(failed["n"], failed["error"], strict=True):
        assert f"row {n} failed on purpose" in error
    succeeded = first[first["status"] == "succeeded"]
    assert succeeded["error"].isna().all()
    assert (succeeded["output.n"] == succeeded["n"]).all()  # the output's `n` clashes with the input's
    assert (succeeded["square"] == succeeded["n"] ** 2).all()
    assert succeeded.loc["r4", "info.parity"] == "even"
    assert first["run_id"].is_unique
    assert len(server_tasks(server)) == 200

    again = client.map("test/flaky", rows, progress=False)
    assert len(server_tasks(server)) == 200
    assert again["run_id"].tolist() == first["run_id"].tolist()
    assert again["status"].tolist() == first["status"].tolist()

    retried = client.map("test/flaky", rows, retry_failed=True, progress=False)
    assert len(server_tasks(server)) == 200 + len(failing)
    assert (retried["status"] == "succeeded").all()
    changed = retried["run_id"] != first["run_id"]
    assert set(retried.loc[changed, "n"]) == failing

    # Every failed row now has a succeeded attempt: retrying again submits nothing.
    client.map("test/flaky", rows, retry_failed=True, progress=False)
    assert len(server_tasks(server)) == 200 + len(failing)


def test_a_dataframe_keeps_its_index_and_columns_and_sends_nan_as_null(client):
    rows = pd.DataFrame({"n": [2, 3, 5], "note": ["a", math.nan, None]}, index=[10, 20, 30])

    out = client.map("test/flaky", rows, progress=False)

    assert list(out.index) == [10, 20, 30]
    assert list(out.columns[:2]) == ["n", "note"]
    assert out["status"].tolist() == ["succeeded"] * 3
    assert out["info.note"].tolist() == ["a", "None", "None"]
    assert out["square"].tolist() == [4, 9, 25]


def test_a_row_the_app_refuses_fails_alone(client):
    out = client.map("test/flaky", [{"n": 1}, {"n": "one"}, {"n": 3}], progress=False)

    assert out["status"].tolist() == ["succeeded", "failed", "succeeded"]
    assert "input.n" in out.loc[1, "error"] and out.loc[1, "run_id"] is None
    assert out["square"].tolist()[::2] == [1, 9]


def test_a_question_template_over_rows_makes_one_run_each(server, client):
    rows = pd.DataFrame({"category": ["garden", "tools", "kitchen"], "owner": ["ann", "bob", "cy"]})

    out = client.map(INVENTORY_QUESTION, rows, schema=VALUE_SCHEMA, progress=False)

    assert len(server_runs(server)) == 3
    assert out["status"].tolist() == ["succeeded"] * 3
    assert out["output.category"].tolist() == ["garden", "tools", "kitchen"]  # the result's, beside the input's
    assert (out["value"] > 0).all() and (out["units"] > 0).all()
    assert out["owner"].tolist() == ["ann", "bob", "cy"]
    assert all(ULID.match(run_id) for run_id in out["run_id"])

    again = client.map(INVENTORY_QUESTION, rows, schema=VALUE_SCHEMA, progress=False)
    assert len(server_runs(server)) == 3
    assert again["run_id"].tolist() == out["run_id"].tolist()


def test_retry_failed_gives_each_failed_question_one_new_run(server, client):
    server.clusters.ensure("later")  # no functions yet: a run there fails at once
    rows = [{"city": "Oslo"}, {"city": "Lima"}]
    question = 'What is the weather in "{city}"?'

    first = client.map(question, rows, cluster="later", progress=False)
    assert first["status"].tolist() == ["failed"] * 2 and first["error"].notna().all()
    # A new attempt that fails at once is still the one new attempt of this retry.
    still = client.map(question, rows, cluster="later", retry_failed=True, progress=False)
    assert still["status"].tolist() == ["failed"] * 2
    assert len(server_runs(server, "later")) == 4

    def weather(city: str) -> dict[str, str]:
        """The weather forecast of a city."""
        return {"city": city, "sky": "clear"}

    server.function(weather, cluster="later")
    retried = client.map(question, rows, cluster="later", retry_failed=True, progress=False)
    assert retried["status"].tolist() == ["succeeded"] * 2
    assert retried["output.city"].tolist() == ["Oslo", "Lima"] and (retried["sky"] == "clear").all()
    assert not set(retried["run_id"]) & (set(first["run_id"]) | set(still["run_id"]))
    assert len(server_runs(server, "later")) == 6

    client.map(question, rows, cluster="later", retry_failed=True, progress=False)
    assert len(server_runs(server, "later")) == 6


def test_a_list_result_stays_in_one_result_column(client):
    schema = {"type": "array", "items": {"type": "object", "properties": {"name": {"type": "string"}}}}

    out = client.map('List the items of category "{category}" in our inventory', [{"category": "garden"}],
                     schema=schema, progress=False)  # fmt: skip

    assert list(out.columns) == ["category", *BOOKKEEPING, "result"]
    assert isinstance(out.loc[0, "result"], list) and out.loc[0, "result"][0]["name"]


def test_a_pydantic_schema_keeps_instances_in_the_result_column(client):
    class Value(BaseModel):
        category: str
        value: float

    out = client.map(INVENTORY_QUESTION, [{"category": "garden"}, {"category": "office"}], schema=Value,
                     progress=False)  # fmt: skip

    assert all(isinstance(value, Value) for value in out["result"])
    assert [value.category for value in out["result"]] == ["garden", "office"]


def test_concurrency_is_bounded(client):
    _busy.update(now=0, max=0)

    out = client.map("test/busy", [{"n": i, "seconds": 0.1} for i in range(12)], concurrency=3, progress=False)

    assert (out["status"] == "succeeded").all()
    assert 2 <= _busy["max"] <= 3


@pytest.mark.parametrize(
    ("target", "inputs", "options", "words"),
    [
        ("What is {colour}?", [{"category": "tools"}], {}, ["row 0", "{colour}", "category"]),
        ("demo/sleep", [{"seconds": 1}, "not a row"], {}, ["row 1", "str"]),
        ("Demo/Sleep", [{}], {}, ["not an app id", "kind='run'"]),
        ("what is this", [{}], {"kind": "task"}, ["not an app id"]),
        ("demo/sleep", [{"seconds": "soon"}], {"setup": []}, ["row 0", "setup"]),
        ("Tell me {q}", [{"q": 1}], {"schema": {"type": "nonsense"}}, ["schema"]),
        ("demo/sleep", {"seconds": 1}, {}, ["list of dicts"]),
        ("demo/sleep", [{}], {"concurrency": 0}, ["concurrency"]),
    ],
)
def test_bad_input_is_refused_before_any_request(target, inputs, options, words):
    nowhere = Client(base_url="http://127.0.0.1:9", key="k")  # a request sent here would be a connection error

    with pytest.raises(InvalidRequest) as refused:
        nowhere.map(target, inputs, progress=False, **options)

    for word in words:
        assert word in str(refused.value)


def test_the_deadline_cancels_what_still_runs_on_the_server(server, client):
    rows = [{"gate": f"never-{i}"} for i in range(5)]
    started = time.monotonic()

    with pytest.raises(DeadlineExceeded, match="5 of 5 rows"):
        client.map("test/gate", rows, concurrency=2, timeout=0.5, progress=False)

    assert time.monotonic() - started < 5
    tasks = server_tasks(server)
    assert status_names([task["status"] for task in tasks]) == ["Cancelled"] * 2  # the queued rows were never sent


def test_progress_outside_ipython_is_one_stderr_line_ending_with_the_final_counts(client, capsys, monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)  # as in a plain script

    client.map("test/flaky", [{"n": i, "fail": i < 2, "tag": "stderr"} for i in range(10)])

    err = capsys.readouterr().err
    assert err.endswith("\n") and err.count("\n") == 1
    final = err.rsplit("\r", 1)[-1]
    assert "10/10 rows" in final and "8 done" in final and "2 failed" in final and "0 running" in final


def test_progress_in_ipython_is_one_display_updated_in_place(client):
    from IPython.core.interactiveshell import InteractiveShell
    from IPython.utils.capture import capture_output

    InteractiveShell.instance()  # the process's shell (other tests may have made it already)
    with capture_output() as captured:
        client.map("test/busy", [{"n": i, "seconds": 0.15} for i in range(8)], concurrency=2)

    assert captured.stderr == ""
    ids = {output.transient["display_id"] for output in captured.outputs}
    assert len(ids) == 1
    assert [output.update for output in captured.outputs].count(False) == 1
    assert len(captured.outputs) >= 3
    final = captured.outputs[-1].data
    assert "8/8 rows" in final["text/plain"] and "8 done" in final["text/plain"]
    assert "inference-nb-map" in final["text/html"]


def test_an_interrupt_cancels_every_run_in_flight_then_raises_with_the_rows_so_far(server, client, capsys, monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython", raising=False)  # progress on stderr, to read its last line

    def interrupt_once_two_run() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if status_names([task["status"] for task in server_tasks(server)]).count("Running") == 2:
                _thread.interrupt_main()  # what the kernel's Interrupt button does: SIGINT in the main thread
                return
            time.sleep(0.02)

    watcher = threading.Thread(target=interrupt_once_two_run, daemon=True)
    watcher.start()
    rows = [{"seconds": 60, "message": str(i)} for i in range(4)]
    started = time.monotonic()

    with pytest.raises(KeyboardInterrupt) as interrupted:
        client.map("demo/sleep", rows, concurrency=2)

    assert time.monotonic() - started < 10  # not the 60 s the runs would take
    watcher.join()
    tasks = server_tasks(server)
    assert status_names([task["status"] for task in tasks]) == ["Cancelled"] * 2
    partial = interrupted.value.partial
    assert partial["status"].tolist()[2:] == ["not sent"] * 2
    assert set(partial["run_id"][:2]) == {task["id"] for task in tasks}
    final = capsys.readouterr().err.rsplit("\r", 1)[-1]
    assert "queued" not in final and "2 not sent" in final and "stopped: interrupted" in final
