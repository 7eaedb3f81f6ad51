"""Cold start: a fresh process's first `Client()` and first completed `demo/picture` run with its image.

    python benchmarks/cold_start.py [--repeats 5]

Each measure is the wall time of a whole fresh `python -c` (interpreter start included), the
median of a few; the baseline is `python -c "import httpx, pydantic"`. The server runs in a
child process started once, so its imports are not counted. Also reported: whether pandas was
imported on the way (a picture must not need it).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time

from child_server import child_server

BASELINE = "import httpx, pydantic"
FIRST_PICTURE = """
import sys
from inference_nb import Client
client = Client(base_url=sys.argv[1], key=sys.argv[2])
run = client.run("demo/picture", {"prompt": "a lake at dawn", "width": 64, "height": 64}).wait()
assert run.status.name == "Completed", run.status
assert run.images and run.images[0].data.startswith(b"\\x89PNG")
print("pandas" in sys.modules)
"""


def wall(code: str, *args: str) -> tuple[float, str]:
    began = time.perf_counter()
    # Byte code cached as in any installed environment (the first, warming run writes it).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    done = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env)
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return time.perf_counter() - began, done.stdout.strip()


def measure(repeats: int) -> tuple[float, float, bool]:
    """(median seconds of the baseline, median seconds of the first picture, whether pandas was imported)."""
    with child_server() as (url, token):
        wall(FIRST_PICTURE, url, token)  # the first one warms the disk cache of both
        base, picture = [], []
        for _ in range(repeats):
            base.append(wall(BASELINE)[0])
            seconds, pandas = wall(FIRST_PICTURE, url, token)
            picture.append(seconds)
    return statistics.median(base), statistics.median(picture), pandas == "True"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    base, picture, pandas = measure(parser.parse_args().repeats)
    print(f"import httpx, pydantic: {base:.2f} s; first Client + picture run + image: {picture:.2f} s")
    print(f"x{picture / base:.2f}; pandas imported: {pandas}; cores: {os.cpu_count()}")


if __name__ == "__main__":
    main()
