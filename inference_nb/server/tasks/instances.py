"""App instances: a warm pool for one-off tasks and one instance per session.

Setting an app up is its expensive part (a model load), so an instance that
finished a one-off task waits, idle, for the next one-off task with the same app
and setup: one-off tasks may share state, as on a warm worker. A session gets a
new instance of its own, set up afresh, and owns it until it ends (explicitly,
after its idle timeout, or when the server stops); it never goes to the pool.
An instance is used by one task at a time. See docs/ARCHITECTURE.md, "App instances".
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from ..apps.base import App, RunContext
from ..apps.calling import call_app_method, does_nothing
from ..apps.registry import app_id
from ..clock import SYSTEM_CLOCK, Clock
from ..store import Store, now_iso

log = logging.getLogger("inference_nb.server")

RunSync = Callable[[Callable[[], Any]], Awaitable[Any]]
DEFAULT_SESSION_TIMEOUT = 300.0


@dataclass
class Instance:
    app: App
    key: tuple[str, str, str]
    ready: bool = False
    discarded: bool = False


def _pool_key(app_cls: type[App], setup: dict[str, Any] | None) -> tuple[str, str, str]:
    # The class name too: the variants of an app in the service's format share an id, one class each,
    # while a class re-registered under its id keeps its name (its stale instances are found and unloaded).
    return app_id(app_cls), app_cls.__qualname__, json.dumps(setup or {}, sort_keys=True)


class InstancePool:
    def __init__(self, run_sync: RunSync, *, max_idle_per_key: int = 4) -> None:
        self._run_sync = run_sync
        self._idle: dict[tuple[str, str, str], list[Instance]] = {}
        self._max_idle = max_idle_per_key

    async def checkout(self, app_cls: type[App], setup: dict[str, Any] | None) -> Instance:
        """An idle instance of exactly `app_cls` with this setup, else a new one (not yet set up).

        An idle instance of a class since replaced under the same id (a re-registered app) is
        unloaded, never handed out: its code and models are the old ones.
        """
        key = _pool_key(app_cls, setup)
        idle = self._idle.get(key, [])
        while idle:
            instance = idle.pop()
            if type(instance.app) is app_cls:
                return instance
            await self.unload(instance)
        return self.new(app_cls, setup)

    def new(self, app_cls: type[App], setup: dict[str, Any] | None) -> Instance:
        """A new instance, to be set up before its first task (a session's, or the pool's)."""
        return Instance(app_cls(), _pool_key(app_cls, setup))

    async def set_up(self, instance: Instance, setup_model: Any, ctx: RunContext, *, run_sync: RunSync) -> None:
        if not does_nothing(instance.app, "setup"):
            await call_app_method(instance.app.setup, setup_model, ctx, run_sync=run_sync)
        instance.ready = True

    async def give_back(self, instance: Instance) -> None:
        idle = self._idle.setdefault(instance.key, [])
        if instance.ready and not instance.discarded and instance.app.reusable and len(idle) < self._max_idle:
            idle.append(instance)
        else:
            await self.unload(instance)

    async def unload(self, instance: Instance) -> None:
        instance.discarded = True
        if not instance.ready:
            return
        instance.ready = False
        if does_nothing(instance.app, "unload"):
            return
        try:
            await call_app_method(instance.app.unload, run_sync=self._run_sync)
        except Exception:
            log.exception("unload of %s failed", instance.key[0])

    async def close(self) -> None:
        for idle in self._idle.values():
            for instance in idle:
                await self.unload(instance)
        self._idle.clear()


@dataclass
class Session:
    id: str
    app_id: str
    setup: dict[str, Any] | None
    timeout: float
    instance: Instance
    created_at: str
    last_used: float
    """On the manager's clock (`Clock.monotonic`)."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    last_used_at: str = field(default_factory=now_iso)
    busy: int = 0

    def public(self, *, ended_at: str | None = None, end_reason: str | None = None) -> dict[str, Any]:
        return {
            "id": self.id,
            "app": self.app_id,
            "setup": self.setup,
            "timeout": self.timeout,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
            "ended_at": ended_at,
            "end_reason": end_reason,
        }


class SessionEnded(LookupError):
    """The session existed but is over; the message says when and why."""


class SessionManager:
    def __init__(self, store: Store, pool: InstancePool, clock: Clock = SYSTEM_CLOCK) -> None:
        self._store = store
        self._pool = pool
        self.clock = clock
        """What idle timeouts are measured on; `create_app` sets the server's."""
        self._live: dict[str, Session] = {}
        self._unloading: set[asyncio.Task] = set()  # held so they are not garbage-collected

    def create(self, app_cls: type[App], setup: dict[str, Any] | None, timeout: float | None) -> Session:
        session = Session(
            id=f"sess_{secrets.token_hex(10)}",
            app_id=app_id(app_cls),
            setup=setup,
            timeout=timeout or DEFAULT_SESSION_TIMEOUT,
            instance=self._pool.new(app_cls, setup),  # never a warm one: a session starts fresh
            created_at=now_iso(),
            last_used=self.clock.monotonic(),
        )
        self._live[session.id] = session
        self._store.save_session(session.public())
        return session

    def get(self, session_id: str) -> Session:
        """The live session, or KeyError (unknown) / SessionEnded (over)."""
        session = self._live.get(session_id)
        if session is not None and self._expired(session):
            self._expire(session)
            session = None
        if session is not None:
            return session
        stored = self._store.get_session(session_id)
        if stored is None:
            raise KeyError(session_id)
        raise SessionEnded(f"session {session_id} ended at {stored['ended_at']}: {stored['end_reason']}")

    def describe(self, session_id: str) -> dict[str, Any]:
        try:
            return {**self.get(session_id).public(), "status": "active"}
        except SessionEnded:
            return {**self._store.get_session(session_id), "status": "ended"}  # type: ignore[dict-item]

    def touch(self, session: Session) -> None:
        if session.id not in self._live:  # ended meanwhile: keep its end on record
            return
        session.last_used = self.clock.monotonic()
        session.last_used_at = now_iso()
        self._store.save_session(session.public())

    async def end(self, session: Session, reason: str) -> None:
        self._mark_ended(session, reason)
        await self._unload_when_free(session)

    async def _unload_when_free(self, session: Session) -> None:
        async with session.lock:  # a running call finishes before the instance goes
            await self._pool.unload(session.instance)

    def _mark_ended(self, session: Session, reason: str) -> None:
        self._live.pop(session.id, None)
        self._store.save_session(session.public(ended_at=now_iso(), end_reason=reason))

    def _expired(self, session: Session) -> bool:
        return not session.busy and self.clock.monotonic() - session.last_used > session.timeout

    def _expire(self, session: Session) -> None:
        self._mark_ended(session, f"expired after {session.timeout:g} s without a call")
        task = asyncio.get_running_loop().create_task(self._unload_when_free(session))
        self._unloading.add(task)
        task.add_done_callback(self._unloading.discard)

    async def reap_forever(self, every: float = 0.5) -> None:
        while True:
            await asyncio.sleep(every)
            for session in [s for s in self._live.values() if self._expired(s)]:
                self._expire(session)

    async def close(self, reason: str) -> None:
        for session in list(self._live.values()):
            await self.end(session, reason)
