"""The quickstart notebook in a real JupyterLab + Chromium, as `./dev lab` opens it:
run every cell (the embedded server starts in the kernel), see the picture, the
table and the server badge, click Ping, see the pong with the server's apps.

Recipe and pitfalls: /work/shared/TOOLCHAIN.md ("A real browser").
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
# Without the network flags Chromium keeps trying to reach the outside.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REPO = Path(__file__).resolve().parents[2]
SCREENSHOT = REPO / "test-artifacts" / "browser" / "quickstart.png"
NOTEBOOK = "quickstart.ipynb"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter-lab exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"jupyter-lab did not answer {url} within {deadline_s} s")


def wait_for_kernel_connection(base: str, token: str, deadline_s: float = 60) -> None:
    """Wait until the page's kernel has a websocket open and is idle.

    The page's own indicators read idle and "Python" a few seconds before the
    websocket connects, and Run All clicked in that window runs nothing.
    """
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=5) as resp:
            kernels = json.load(resp)
        if any(k["connections"] > 0 and k["execution_state"] == "idle" for k in kernels):
            return
        time.sleep(0.2)
    raise TimeoutError(f"no kernel connected within {deadline_s} s")


@pytest.fixture
def chromium_path() -> Path:
    if not CHROMIUM.exists():
        msg = f"{CHROMIUM} is missing: apt-get install -y chromium"
        if os.environ.get("CI"):
            pytest.fail(f"{msg} (CI must run the browser tests)")
        pytest.skip(msg)
    return CHROMIUM


@pytest.fixture
def jupyterlab(tmp_path):
    """A throwaway JupyterLab with its own config/settings/workspaces; yields (base url, token)."""
    if not (REPO / "inference_nb" / "static" / "widget.js").is_file():
        pytest.fail("the widget bundle is not built: run `npm install && npm run build` first")
    root = tmp_path / "root"
    root.mkdir()
    # A throwaway copy: JupyterLab autosaves what it runs.
    shutil.copy(REPO / "notebooks" / NOTEBOOK, root / NOTEBOOK)

    settings = tmp_path / "settings"
    # No "Jupyter news?" toast, and no request to the outside to fetch news.
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))

    port, token = free_port(), secrets.token_hex(16)
    env = os.environ | {
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
    }
    cmd = [
        str(Path(sys.executable).parent / "jupyter-lab"),
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.token={token}",
        f"--ServerApp.root_dir={root}",
    ]
    log = (tmp_path / "jupyterlab.log").open("w")
    proc = subprocess.Popen(cmd, env=env, cwd=root, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{base}/api/status?token={token}", proc)
        yield base, token
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.timeout(300)
def test_quickstart_runs_and_its_badge_pings_through_the_kernel(chromium_path, jupyterlab):
    base, token = jupyterlab
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{base}/lab/tree/{NOTEBOOK}?token={token}&reset")

            # Just after load the indicator may read idle while there is no kernel yet.
            expect(page.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
                "data-status", "idle", timeout=60_000
            )
            expect(page.locator(".jp-KernelName")).to_contain_text("Python", timeout=60_000)
            wait_for_kernel_connection(base, token)

            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click()

            badge = page.locator(".inb-badge")
            expect(badge.locator(".inb-badge-url")).to_have_text(
                re.compile(r"^http://127\.0\.0\.1:\d+$"), timeout=60_000
            )
            expect(badge.locator(".inb-badge-count")).to_have_text("6 apps")
            expect(badge.locator(".inb-badge-status")).to_have_text("ready")
            expect(page.locator(".jp-RenderedImage img")).to_have_count(1)
            expect(page.locator(".jp-RenderedHTMLCommon table").first).to_contain_text("category")
            outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
            assert not any("Error" in text for text in outputs), outputs

            badge.get_by_role("button", name="Ping").click()
            expect(badge.locator(".inb-badge-reply")).to_contain_text("demo/picture@1.0.0", timeout=30_000)
            expect(badge.locator(".inb-badge-reply")).to_contain_text("demo/sql@1.0.0")
            badge.scroll_into_view_if_needed()

            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(SCREENSHOT))
        finally:
            browser.close()
