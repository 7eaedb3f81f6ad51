"""Cold start as a user meets it: a fresh process's first `Client()` to its first image shown.

    python benchmarks/run.py --only cold_start

Ours: a fresh `python` runs `Client()` (which starts the embedded server on first use, in a
fresh data dir), a `demo/picture` run, and makes the mimebundle of `run.images[0]` (what a
notebook shows). The baseline: a fresh `python` importing httpx and pydantic. Each is timed from
starting the process to the line it prints when done (interpreter start included, its exit not),
the two taking turns. Byte code is cached, as in any installed environment (the warm-up writes it).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator

from figures import Figure, in_turns, median

PAIRS = 2
"""Processes of each kind per round."""
BASELINE = "import httpx, pydantic; print('done', flush=True)"
FIRST_PICTURE = """
import sys
from inference_nb import Client
run = Client().run("demo/picture", {"prompt": "a lake at dawn", "width": 64, "height": 64}).wait()
bundle = run.images[0]._repr_mimebundle_()
assert bundle["image/png"], bundle
assert "pandas" not in sys.modules, "a picture must not need pandas"
print("done", flush=True)
"""


def until_done(code: str) -> float:
    """Seconds from starting a fresh `python -c code` to its "done" line."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    with tempfile.TemporaryDirectory() as data_dir:
        env["INFERENCE_NB_DATA_DIR"] = data_dir  # a fresh one: the server makes its database
        began = time.perf_counter()
        process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   env=env, text=True)  # fmt: skip
        line = process.stdout.readline() if process.stdout else ""
        seconds = time.perf_counter() - began
        _, errors = process.communicate(timeout=60)
    if line.strip() != "done" or process.returncode:
        raise RuntimeError(f"the cold start failed: {errors[-2000:]}")
    return seconds


def rounds(count: int) -> Iterator[list[Figure]]:
    until_done(FIRST_PICTURE)  # warm: byte code written, files in the disk cache
    for _ in range(count):
        base, picture = map(median, in_turns(PAIRS, lambda: until_done(BASELINE), lambda: until_done(FIRST_PICTURE)))
        yield [Figure("fresh process: `Client()` (server started) + `demo/picture` run + its image shown",
                      picture, "s", base, "`import httpx, pydantic`", ratio_limit=3.0)]  # fmt: skip
