"""Run a Python module as a child that ends when its parent does, however the parent ended.

    python -m inference_nb.server.orphan_guard PARENT_PID MODULE [ARGS...]

The bundled model's server is a child process of the kernel (or of `inference-nb serve`). An
`atexit` hook stops it when its owner exits, but a SIGKILLed or crashed owner runs no hook, and the
model would go on holding its memory and port. Here a daemon thread looks every second whether
the process is still the child of `PARENT_PID` (once the parent is gone, the child is someone
else's: init's or a subreaper's) and ends the process then.
"""

from __future__ import annotations

import os
import runpy
import sys
import threading
import time

CHECK_SECONDS = 1.0


def _watch(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(CHECK_SECONDS)
    os._exit(0)  # no cleanup to wait for: the owner that wanted this process is gone


def main(argv: list[str]) -> None:
    if len(argv) < 2 or not argv[0].isdigit():
        sys.exit("usage: python -m inference_nb.server.orphan_guard PARENT_PID MODULE [ARGS...]")
    parent, module = int(argv[0]), argv[1]
    if os.getppid() != parent:  # the parent died before we started watching
        sys.exit(0)
    threading.Thread(target=_watch, args=(parent,), name="orphan-guard", daemon=True).start()
    sys.argv = [module, *argv[2:]]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main(sys.argv[1:])
