"""The kernel's Interrupt button is a SIGINT: a waiting run is cancelled on the server before it re-raises."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from inference_nb.api import Client

SCRIPT = textwrap.dedent(
    """
    import asyncio, os, sys
    from inference_nb.api import Client

    client = Client(base_url=os.environ["TEST_SERVER_URL"], key=os.environ["TEST_SERVER_KEY"])
    run = client.run("demo/sleep", {"seconds": 60})
    print(run.id, flush=True)
    try:
        if sys.argv[1] == "await":
            asyncio.run(run.wait_async())
        else:
            run.wait()
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
    """
)


@pytest.mark.parametrize("how", ["wait", "await"])
def test_sigint_during_a_wait_cancels_the_run_on_the_server(embedded, how):
    env = os.environ | {"TEST_SERVER_URL": embedded.url, "TEST_SERVER_KEY": embedded.token}
    process = subprocess.Popen(
        [sys.executable, "-c", SCRIPT, how], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        run_id = process.stdout.readline().strip()
        observer = Client(base_url=embedded.url, key=embedded.token).get(run_id)
        deadline = time.monotonic() + 10
        while observer.refresh().status.name != "Running" and time.monotonic() < deadline:
            time.sleep(0.02)
        interrupted_at = time.monotonic()
        process.send_signal(signal.SIGINT)
        out, err = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 130, err
    assert "interrupted" in out
    assert observer.wait(timeout=5, raise_on_failure=False).status.name == "Cancelled"
    assert time.monotonic() - interrupted_at < 5
