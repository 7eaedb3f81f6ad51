"""`AppSession`: calls on one session of an app, which keeps one app instance and its state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..client.errors import InvalidRequest
from .backends import TaskBackend
from .run import Run


class AppSession:
    """Calls on one session of an app (`client.session(app)`); the first call starts it.

    Args:
        run: what starts a call (`Client.run`, with its uploads and checks).
        backend: the tasks backend the session lives on.
        app: the app id.
        setup: the setup parameters of the session's instance.
        timeout: seconds the session may stay idle before the server ends it.
    """

    def __init__(
        self,
        run: Callable[..., Run],
        backend: TaskBackend,
        app: str,
        *,
        setup: dict[str, Any] | None,
        timeout: float | None,
    ) -> None:
        self._run, self._backend, self._setup, self._timeout = run, backend, setup, timeout
        self.app = app
        """The app id."""
        self.id: str | None = None
        """The session's id, once the first call started it."""

    def run(self, input: dict[str, Any] | None = None, *, function: str | None = None) -> Run:
        """Start one call in the session and return its Run at once (raises as `Client.run`).

        Args:
            input: the call's input.
            function: the app's function to call (hosted dialect only; default "run").
        """
        if self.id is None:
            run = self._run(self.app, input, setup=self._setup, session="new", session_timeout=self._timeout,
                                   function=function)  # fmt: skip
            self.id = run.session_id
            return run
        return self._run(self.app, input, session=self.id, function=function)

    def info(self) -> dict[str, Any]:
        """The session on the server: `{id, status, expires_at, call_count…}`.

        Raises:
            InvalidRequest: the session has not started (no call yet).
            NotFoundError: the server has no such session.
        """
        return self._call(self._backend.client.session(self._started()))

    def keepalive(self) -> dict[str, Any]:
        """Start the session's idle time again; returns the session as `info` does.

        Raises:
            InvalidRequest: the session has not started.
            ConflictError: it has ended or expired.
        """
        return self._call(self._backend.client.keepalive(self._started()))

    def end(self) -> None:
        """End the session on the server and free its app instance.

        Raises:
            InvalidRequest: the session has not started.
            ConflictError: it had already ended.
        """
        self._call(self._backend.client.end_session(self._started()))

    def _call(self, coro: Any) -> Any:
        return self._backend.controller.call(coro)

    def _started(self) -> str:
        if self.id is None:
            raise InvalidRequest(f"the session of {self.app} has not started: call it first", field="session")
        return self.id

    def __call__(self, input: dict[str, Any] | None = None, *, timeout: float | None = None) -> Run:
        """Run one call and wait for it (raises as `Run.wait`)."""
        return self.run(input).wait(timeout)

    def __repr__(self) -> str:
        return f"<AppSession {self.app} {self.id or '(not started)'}>"
