"""The embedded server in a spawned child process: its CPU is not the caller's (benchmarks/ uses it
to count only the client's work; apps from tests/apps.py are importable there too)."""

from __future__ import annotations

import multiprocessing
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def _serve(pipe: Any, data_dir: str, options: dict[str, Any]) -> None:
    from inference_nb.server import start_server

    with start_server(data_dir=data_dir, **options) as server:
        pipe.send((server.url, server.token))
        pipe.recv()  # until the caller is done


@contextmanager
def child_server(**options: Any) -> Iterator[tuple[str, str]]:
    """`(url, token)` of a fresh embedded server (`start_server(**options)`) in a spawned process.

    `options` cross to the child by pickling: apps are given as classes of an importable module."""
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory() as data_dir:
        mine, theirs = context.Pipe()
        server = context.Process(target=_serve, args=(theirs, data_dir, options), daemon=True)
        server.start()
        try:
            yield mine.recv()
        finally:
            mine.send("stop")
            server.join(30)
