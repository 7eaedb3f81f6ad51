"""The embedded server of this process: started on first use, on a daemon thread, shared by every Client."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..server import EmbeddedServer

_lock = threading.Lock()
_server: EmbeddedServer | None = None


def embedded_server() -> EmbeddedServer:
    """The embedded server of this process, started on first use (a daemon thread).

    When another kernel already holds the shared data dir, this kernel's server keeps its
    runs in `<data dir>/kernels/<pid>` instead, so two kernels never share one database
    (`start_server`'s default).

    Raises:
        RuntimeError, OSError: the server could not start (its port, its data dir).
    """
    global _server
    with _lock:
        if _server is None or not _server.running:
            from ..server import start_server  # the server costs imports: only when used

            _server = start_server()
        return _server


def embedded_server_running() -> bool:
    """Whether this process's embedded server is up (without starting it)."""
    return _server is not None and _server.running
