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
from inference_nb.kernel.controller import Controller

from ..faults import FaultProxy

RESTOCK = 'restock name="Claw Hammer" qty=2'
"""A question whose run pauses for an approval: it stays unfinished until cancelled."""


def _raise_timeout(signum: int, frame: object) -> None:
    raise TimeoutError


STOP_SIGNALS = {
    KeyboardInterrupt: (signal.SIGINT, signal.default_int_handler),
    TimeoutError: (signal.SIGUSR1, _raise_timeout),
}


@contextmanager
def stopped_once(ready: threading.Event, stop: type[BaseException]) -> Iterator[None]:
    """`stop` raised in the main thread once `ready` is set, by a signal: for KeyboardInterrupt a
    SIGINT, as the kernel's Interrupt button sends; for TimeoutError a SIGUSR1 whose handler raises
    it where the caller's wait would time out (inside `Controller.call`), at a moment the test
    chooses rather than after a start timeout that a slow machine could reach first."""
    signum, handler = STOP_SIGNALS[stop]
    previous = signal.signal(signum, handler)
    main = threading.main_thread().ident

    def send() -> None:
        if ready.wait(30):
            signal.pthread_kill(main, signum)

    helper = threading.Thread(target=send, daemon=True)
    helper.start()
    try:
        yield
    finally:
        helper.join(30)
        signal.signal(signum, previous)


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

    with stopped_once(begun, KeyboardInterrupt), pytest.raises(KeyboardInterrupt):
        controller.call(held_until_interrupted())
    assert unwound == [True]  # it unwound before the interrupt went on
    assert controller.call(_running_coroutines({"held_until_interrupted"})) == []


STARTS = {
    "run": (("POST", "/run"), lambda client: client.run("demo/sleep", {"seconds": 60}), tasks_on, "task", "Cancelled"),
    "ask": (("POST", "/clusters/"), lambda client: client.ask(RESTOCK), runs_on, "run", "cancelled"),
}


@pytest.mark.parametrize("stop", [KeyboardInterrupt, TimeoutError], ids=["interrupted", "timed-out"])
@pytest.mark.parametrize("start", STARTS)
def test_a_start_given_up_on_leaves_nothing_running(embedded, start, stop):
    """Given up on while the server has made the task or run and its answer is held back."""
    create, submit, made_on, kind, cancelled = STARTS[start]
    with FaultProxy(embedded.url, seed=1, rate=0, rule=stall_first(*create)) as proxy:
        client = Client(base_url=proxy.url, key=embedded.token)
        with stopped_once(proxy.stalled, stop), pytest.raises(stop) as stopped:
            submit(client)
    [(made_id, status)] = made_on(embedded)
    assert status == cancelled
    assert f"{kind} {made_id} was cancelled on the server" in str(stopped.value)
    if stop is TimeoutError:
        assert f"the server had not accepted the {kind}" in str(stopped.value)


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
