"""The server's workers: a freed worker goes to the first task waiting that may use it."""

from __future__ import annotations

import asyncio

from inference_nb.server.tasks.workers import Workers


async def hold(workers: Workers, task_id: str, allowed: list[str] | None, log: list, release: asyncio.Event) -> None:
    async with workers.take(task_id, allowed) as worker:
        log.append((task_id, worker))
        await release.wait()


def test_waiting_tasks_get_freed_workers_in_order_and_a_named_worker_waits_for_its_own():
    async def scenario() -> list:
        workers, log, gates = Workers(2), [], {name: asyncio.Event() for name in "abcde"}
        tasks = {name: asyncio.create_task(hold(workers, name, None, log, gates[name])) for name in "ab"}
        await asyncio.sleep(0)
        tasks["c"] = asyncio.create_task(hold(workers, "c", ["worker-2"], log, gates["c"]))
        tasks["d"] = asyncio.create_task(hold(workers, "d", None, log, gates["d"]))
        await asyncio.sleep(0)
        gates["a"].set()  # worker-1 is freed: c may not take it, d (behind c) does
        await asyncio.sleep(0.01)
        assert log[-1] == ("d", "worker-1")
        gates["b"].set()  # worker-2 is freed: c's
        await asyncio.sleep(0.01)
        assert log[-1] == ("c", "worker-2")
        for gate in gates.values():
            gate.set()
        await asyncio.gather(*tasks.values())
        return workers.describe()

    described = asyncio.run(scenario())
    assert [w["status"] for w in described] == ["idle", "idle"]


def test_a_task_cancelled_while_it_waits_leaves_no_worker_taken():
    async def scenario() -> list:
        workers, log, release = Workers(1), [], asyncio.Event()
        first = asyncio.create_task(hold(workers, "first", None, log, release))
        await asyncio.sleep(0)
        waiting = [asyncio.create_task(hold(workers, f"w{i}", None, log, release)) for i in range(3)]
        await asyncio.sleep(0)
        waiting[0].cancel()
        release.set()  # the worker skips the cancelled one
        await asyncio.gather(first, *waiting, return_exceptions=True)
        assert [task_id for task_id, _ in log] == ["first", "w1", "w2"]
        return workers.describe()

    assert asyncio.run(scenario())[0]["status"] == "idle"


def test_a_worker_handed_over_as_its_taker_is_cancelled_goes_to_the_next():
    async def scenario() -> list:
        workers, log, release = Workers(1), [], asyncio.Event()
        release.set()
        held = workers.take("first", None)
        await held.__aenter__()
        second = asyncio.create_task(hold(workers, "second", None, log, release))
        third = asyncio.create_task(hold(workers, "third", None, log, release))
        await asyncio.sleep(0)
        await held.__aexit__(None, None, None)  # worker-1 goes to second, which has not run since
        second.cancel()
        await asyncio.gather(second, third, return_exceptions=True)
        assert log == [("third", "worker-1")]
        return workers.describe()

    assert asyncio.run(scenario())[0]["status"] == "idle"
