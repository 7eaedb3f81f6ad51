"""The server fuzz tests at benchmark size: 20,100 random requests instead of CI's 2,100.

    python benchmarks/server_fuzz.py [requests]

Runs tests/server/test_fuzz.py with INFERENCE_NB_FUZZ_EXAMPLES set so that its three random-body
tests send `requests` in all: every answer must be below 500 and in the API's error shape, and the
server's log must hold no traceback. Prints the requests sent, the time, and pytest's verdict.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

RANDOM_BODY_TESTS = 3
"""Tests in test_fuzz.py that send `max_examples` random bodies each."""


def main() -> int:
    requests = int(sys.argv[1]) if len(sys.argv) > 1 else 20_100
    per_test = -(-requests // RANDOM_BODY_TESTS)
    repo = Path(__file__).resolve().parents[1]
    env = {**os.environ, "INFERENCE_NB_FUZZ_EXAMPLES": str(per_test)}
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/server/test_fuzz.py", "-n0", "-q", "--timeout=0"],
        cwd=repo,
        env=env,
    )
    took = time.monotonic() - started
    verdict = "no 5xx, no traceback" if done.returncode == 0 else "FAILED (see above)"
    print(f"server fuzz: {per_test * RANDOM_BODY_TESTS:,} random requests in {took:.0f} s: {verdict}")
    return done.returncode


if __name__ == "__main__":
    sys.exit(main())
