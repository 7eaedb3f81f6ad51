"""The embedded server of this process: started on first use, on a daemon thread, shared by every Client."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .server import EmbeddedServer

log = logging.getLogger("inference_nb")

_lock = threading.Lock()
_server: EmbeddedServer | None = None


def embedded_server() -> EmbeddedServer:
    """The embedded server of this process, started on first use (a daemon thread).

    When another kernel already holds the shared data dir, this kernel's server keeps its
    runs in `<data dir>/kernels/<pid>` instead, so two kernels never share one database.

    Raises:
        RuntimeError, OSError: the server could not start (its port, its data dir).
    """
    global _server
    with _lock:
        if _server is None or not _server.running:
            from .server import DataDirInUse, default_data_dir, start_server  # the server costs imports: only when used

            try:
                _server = start_server()
            except DataDirInUse:
                data_dir = default_data_dir() / "kernels" / str(os.getpid())
                # Info, not a warning: a line on stderr in every cell's output would be noise.
                log.info("another inference_nb server uses %s; this kernel keeps its runs in %s",
                         default_data_dir(), data_dir)  # fmt: skip
                _server = start_server(data_dir=data_dir)
        return _server


def embedded_server_running() -> bool:
    """Whether this process's embedded server is up (without starting it)."""
    return _server is not None and _server.running
