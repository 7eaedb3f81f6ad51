"""Nothing started is lost: a start its caller gave up on (an interrupt, the start timeout) is
found on the server and cancelled, and `Controller.call` leaves no coroutine behind.

A create whose answer never comes is made with `tests/faults.py`'s `stall`: the request reaches
the server, which makes the task or run, and the proxy holds its answer back. The interrupt is a
real SIGINT sent to the main thread (what the kernel's Interrupt button does).
"""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import closing, contextmanager

import pytest

from inference_nb.api import Client
from inference_nb.client.profile import hosted_tasks
from inference_nb.kernel import base_client as base
from inference_nb.kernel.controller import Controller

from ..faults import FaultProxy

RESTOCK = 'restock name="Claw Hammer" qty=2'
"""A question whose run pauses for an approval: it stays unfinished until cancelled."""


@contextmanager
def interrupted_once(ready: threading.Event) -> Iterator[None]:
    """SIGINT to the main thread once `ready` is set, as the kernel's Interrupt button would."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    main = threading.main_thread().ident

    def interrupt() -> None:
        if ready.wait(30):
            signal.pthread_kill(main, signal.SIGINT)

    helper = threading.Thread(target=interrupt, daemon=True)
    helper.start()
    try:
        yield
    finally:
        helper.join(30)
        signal.signal(signal.SIGINT, previous)


def stall_first(method: str, path_start: str):
    """A proxy rule holding back the answer to the first `method` request whose path starts so."""
    stalled: list[str] = []

    def rule(request_method: str, path: str, body: bytes) -> str | None:
        if request_method == method and path.startswith(path_start) and not stalled:
            stalled.append(path)
            return "stall"
        return None

    return rule


def tasks_on(embedded) -> list[tuple[str, str]]:
    """(id, status name) of every task the server has."""
    observer = Client(base_url=embedded.url, key=embedded.token)
    return [(run.id, run.status.name) for run in observer.runs(limit=50)]


def runs_on(embedded) -> list[tuple[str, str]]:
    observer = Client(base_url=embedded.url, key=embedded.token)
    return [(run.id, run.status.name) for run in observer.runs(limit=50, kind="run")]


async def _running_coroutines(names: set[str]) -> list[str]:
    return [name for task in asyncio.all_tasks() if (name := task.get_coro().__name__) in names]


def test_a_call_that_times_out_leaves_no_coroutine_on_the_loop():
    controller = Controller.get()

    async def held_forever() -> None:
        await asyncio.Event().wait()

    with pytest.raises(TimeoutError):
        controller.call(held_forever(), timeout=0.05)
    assert controller.call(_running_coroutines({"held_forever"})) == []


def test_an_interrupted_call_leaves_no_coroutine_on_the_loop():
    controller = Controller.get()
    begun = threading.Event()
    unwound = []

    async def held_until_interrupted() -> None:
        begun.set()
        try:
            await asyncio.Event().wait()
        finally:
            unwound.append(True)

    with interrupted_once(begun), pytest.raises(KeyboardInterrupt):
        controller.call(held_until_interrupted())
    assert unwound == [True]  # it unwound before the interrupt went on
    assert controller.call(_running_coroutines({"held_until_interrupted"})) == []


def test_an_interrupted_run_leaves_no_task_running(embedded):
    with FaultProxy(embedded.url, seed=1, rate=0, rule=stall_first("POST", "/run")) as proxy:
        client = Client(base_url=proxy.url, key=embedded.token)
        with interrupted_once(proxy.stalled), pytest.raises(KeyboardInterrupt) as stopped:
            client.run("demo/sleep", {"seconds": 60})
    [(task_id, status)] = tasks_on(embedded)
    assert status == "Cancelled"
    assert f"task {task_id} was cancelled on the server" in str(stopped.value)


def test_a_timed_out_run_leaves_no_task_running(embedded, monkeypatch):
    monkeypatch.setattr(base, "START_TIMEOUT", 2.0)
    with FaultProxy(embedded.url, seed=1, rate=0, rule=stall_first("POST", "/run")) as proxy:
        client = Client(base_url=proxy.url, key=embedded.token)
        client.controller.call(client.check_input("demo/sleep", {"seconds": 60}))  # imports, the apps: sent sooner
        with pytest.raises(TimeoutError, match="not accepted the task .* after 2 s") as stopped:
            client.run("demo/sleep", {"seconds": 60})
        reached_the_server = proxy.stalled.is_set()
    tasks = tasks_on(embedded)
    assert all(status == "Cancelled" for _, status in tasks)  # cancelled, or none at all
    # Whether the create left within the timeout is up to the machine's speed; both ends are checked.
    if reached_the_server:
        [(task_id, _)] = tasks
        assert f"task {task_id} was cancelled on the server" in str(stopped.value)


def test_an_interrupted_question_leaves_no_run_going(embedded):
    with FaultProxy(embedded.url, seed=1, rate=0, rule=stall_first("POST", "/clusters/")) as proxy:
        client = Client(base_url=proxy.url, key=embedded.token)
        with interrupted_once(proxy.stalled), pytest.raises(KeyboardInterrupt) as stopped:
            client.ask(RESTOCK)
    [(run_id, status)] = runs_on(embedded)
    assert status == "cancelled"
    assert f"run {run_id} was cancelled on the server" in str(stopped.value)


def test_a_timed_out_question_leaves_no_run_going(embedded, monkeypatch):
    monkeypatch.setattr(base, "START_TIMEOUT", 2.0)
    with FaultProxy(embedded.url, seed=1, rate=0, rule=stall_first("POST", "/clusters/")) as proxy:
        client = Client(base_url=proxy.url, key=embedded.token)
        client.check_question(RESTOCK)
        with pytest.raises(TimeoutError, match="not accepted the run") as stopped:
            client.ask(RESTOCK)
        reached_the_server = proxy.stalled.is_set()
    runs = runs_on(embedded)
    assert all(status == "cancelled" for _, status in runs)
    if reached_the_server:
        [(run_id, _)] = runs
        assert f"run {run_id} was cancelled on the server" in str(stopped.value)


def test_a_run_whose_answer_was_lost_is_sent_again_without_a_second_task(embedded):
    creates: list[str] = []

    def lose_first_answer(method: str, path: str, body: bytes) -> str | None:
        if method == "POST" and path.startswith("/run"):
            creates.append(path)
            return "reset_after" if len(creates) == 1 else None
        return None

    with FaultProxy(embedded.url, seed=1, rate=0, rule=lose_first_answer) as proxy:
        run = Client(base_url=proxy.url, key=embedded.token).run("test/echo", {"text": "once"})
        assert proxy.counts["reset_after"] == 1 and len(creates) == 2
    assert [task_id for task_id, _ in tasks_on(embedded)] == [run.id]


def keys_kept_by(embedded) -> list[str]:
    """The Idempotency-Keys the embedded server has seen (read from its database)."""
    with closing(sqlite3.connect(f"file:{embedded.data_dir / 'inference_nb.sqlite3'}?mode=ro", uri=True)) as db:
        return [key for (key,) in db.execute("SELECT key FROM idempotency")]


def test_the_hosted_dialect_keeps_a_given_key_and_makes_none_itself(embedded):
    client = Client(tasks=hosted_tasks(embedded.token, base_url=embedded.url))
    first = client.run("test/echo", {"text": "hosted"}, idempotency_key="kept-key")
    again = client.run("test/echo", {"text": "hosted"}, idempotency_key="kept-key")
    other = client.run("test/echo", {"text": "hosted"})
    assert first.id == again.id != other.id
    assert keys_kept_by(embedded) == ["kept-key"]


def test_every_run_without_a_key_gets_its_own(client, embedded):
    client.run("test/echo", {"text": "same"})
    client.run("test/echo", {"text": "same"})
    assert len(set(keys_kept_by(embedded))) == 2
