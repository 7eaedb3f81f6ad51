"""The server's side of an app's worker process (worker.py): start it, ask it, stop it.

See docs/ARCHITECTURE.md, "Apps in the service's format". One process holds one instance of the app;
a request is answered before the next is sent. Whatever ends the process (a crash, `os._exit`, a kill
after a timeout or a cancel) fails the request in progress with an `AppProcessEnded` saying how it
ended and what the app last wrote to stderr.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

log = logging.getLogger("inference_nb.server.apps")

WORKER_SCRIPT = Path(__file__).with_name("worker.py")
DESCRIBE_TIMEOUT = 120.0
"""Seconds importing an app to read what it offers may take (its imports may be heavy)."""
UNLOAD_TIMEOUT = 10.0
"""Seconds `unload` may take before the process is killed."""
STDERR_LINES = 20
"""Lines of the app's stderr kept to explain how its process ended."""
ANSWER_LIMIT = 64 * 2**20
"""The longest answer line read from a worker (an output of that much JSON)."""


class TaskFailure(Exception):
    """What an app's failure makes the task's `error` say, whole (the engine adds no type name)."""


class AppProcessEnded(TaskFailure):
    """The app's worker process ended while it held a request (or before one was sent)."""


def describe_app(folder: Path, *, env: dict[str, str]) -> dict[str, Any]:
    """What the app in `folder` offers (its functions' schemas, its setup schema), from a process
    that imports it and exits.

    Raises:
        ValueError: importing it failed, or it is not an app in the service's format (the message
            says why, with the end of its traceback).
    """
    try:
        done = subprocess.run(
            [sys.executable, str(WORKER_SCRIPT), "describe", str(folder)],
            capture_output=True,
            text=True,
            timeout=DESCRIBE_TIMEOUT,
            env=env,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise ValueError(f"{folder}: importing the app took more than {DESCRIBE_TIMEOUT:g} s") from None
    lines = done.stdout.strip().splitlines()
    answer = json.loads(lines[-1]) if lines else None
    if not answer or not answer.get("ok"):
        why = answer["error"] if answer else _how_it_ended(done.returncode)
        tail = (answer or {}).get("traceback") or done.stderr
        raise ValueError(f"{folder}: cannot load the app: {why}\n{_last_lines(tail, 8)}".rstrip())
    return answer


class AppProcess:
    """One worker process of one app, started by `start`.

    Args:
        folder: the app's folder.
        label: how the logs name it (`ns/name@version`).
        env: the process's environment.
    """

    def __init__(self, folder: Path, *, label: str, env: dict[str, str]) -> None:
        self._folder, self._label, self._env = folder, label, env
        self._process: asyncio.subprocess.Process | None = None
        self._stderr: collections.deque[str] = collections.deque(maxlen=STDERR_LINES)
        self._stderr_reader: asyncio.Task | None = None
        self._lock = asyncio.Lock()
        self._given_up = False
        """Killed, or the app ended its process: no request may go to it any more."""

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def alive(self) -> bool:
        return self._process is not None and self._process.returncode is None and not self._given_up

    async def start(self) -> None:
        """Start the process and wait until the app is imported and its instance made.

        Raises:
            AppProcessEnded, TaskFailure: it could not start, or importing or making the app failed.
        """
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(WORKER_SCRIPT),
            "serve",
            str(self._folder),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=self._env,
            limit=ANSWER_LIMIT,
            start_new_session=True,  # a Ctrl-C in the server's terminal is the server's to handle
        )
        self._stderr_reader = asyncio.get_running_loop().create_task(self._read_stderr())
        await self._answer("start")

    async def request(self, message: dict[str, Any], *, on_update: Callable[[int], None] | None = None) -> dict:
        """Send one request and return its answer; a cancel kills the process (an app cannot be
        interrupted mid-call), which then cannot be used again.

        Raises:
            TaskFailure: the app raised (its type and message).
            AppProcessEnded: the process ended before it answered.
        """
        async with self._lock:
            if not self.alive:
                raise AppProcessEnded(f"the worker process of {self._label} has ended ({self.ended_how()})")
            assert self._process is not None and self._process.stdin is not None
            try:
                self._process.stdin.write((json.dumps(message) + "\n").encode())
                await self._process.stdin.drain()
                return await self._answer(message["op"], on_update=on_update)
            except (ConnectionError, BrokenPipeError):
                raise await self._ended(message["op"]) from None
            except asyncio.CancelledError:
                self.kill()
                raise

    async def _answer(self, op: str, *, on_update: Callable[[int], None] | None = None) -> dict[str, Any]:
        assert self._process is not None and self._process.stdout is not None
        while True:
            line = await self._process.stdout.readline()
            if not line:
                raise await self._ended(op)
            answer = json.loads(line)
            if "update" in answer:
                if on_update is not None:
                    on_update(answer["update"])
                continue
            if answer.get("ok"):
                return answer
            if answer.get("fatal"):  # the app ended its process (sys.exit): the worker exits after this answer
                self.kill()
            if answer.get("traceback"):
                log.warning("%s (pid %s) failed in %s:\n%s", self._label, self.pid, op, answer["traceback"].rstrip())
            raise TaskFailure(answer["error"] + _FAILED_IN.get(op, ""))

    async def _ended(self, op: str) -> AppProcessEnded:
        assert self._process is not None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._process.wait(), 5)
        if self._stderr_reader is not None:
            with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(self._stderr_reader), 1)
        tail = "\n".join(self._stderr)
        said = f"; the last it wrote to stderr:\n{_last_lines(tail, 8)}" if tail.strip() else ""
        return AppProcessEnded(
            f"the worker process of {self._label} (pid {self.pid}) ended {_DURING[op]}: {self.ended_how()}{said}"
        )

    def ended_how(self) -> str:
        code = self._process.returncode if self._process else None
        return _how_it_ended(code)

    async def _read_stderr(self) -> None:
        assert self._process is not None and self._process.stderr is not None
        async for raw in self._process.stderr:
            line = raw.decode(errors="replace").rstrip()
            self._stderr.append(line)
            log.info("%s (pid %s): %s", self._label, self.pid, line)

    def kill(self) -> None:
        """End the process at once (a hung or cancelled app); its requests fail."""
        self._given_up = True
        if self._process is not None and self._process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()

    async def stop(self) -> None:
        """Ask the app to unload and the process to exit; kill it when it takes too long."""
        if not self.alive:
            return
        try:
            await asyncio.wait_for(self.request({"op": "unload"}), UNLOAD_TIMEOUT)
        except TaskFailure as failure:
            log.warning("unload of %s failed: %s", self._label, failure)
        except TimeoutError:
            log.warning("unload of %s took more than %g s; its process was killed", self._label, UNLOAD_TIMEOUT)
        finally:
            self.kill()
            if self._process is not None:
                await self._process.wait()


_FAILED_IN = {"start": " (while importing the app)", "setup": " (in setup)", "unload": " (in unload)"}
"""What a failure's message gets added, by request: a failed run's message is the app's own."""
_DURING = {
    "start": "while importing the app",
    "setup": "during setup",
    "run": "during the run",
    "unload": "during unload",
}


def _how_it_ended(code: int | None) -> str:
    if code is None:
        return "it did not exit"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"killed by {name}"
    return f"it exited with code {code}"


def _last_lines(text: str, count: int) -> str:
    return "\n".join(text.strip().splitlines()[-count:])


def child_env(extra: dict[str, str]) -> dict[str, str]:
    """The environment of an app's processes: the server's, the variant's `env`, and unbuffered output."""
    return {**os.environ, **extra, "PYTHONUNBUFFERED": "1"}
