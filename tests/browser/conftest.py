"""A real JupyterLab (or Notebook 7) and Debian's Chromium, as TOOLCHAIN.md ("A real browser") describes.

`lab(notebook_path)` serves a throwaway copy of a notebook (JupyterLab autosaves
what it runs) and yields a Playwright page with the notebook open and its kernel
connected and idle; `notebook7(notebook_path)` does the same in Notebook 7 (`jupyter notebook`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest
from playwright.sync_api import Locator, Page, expect, sync_playwright

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
ARTIFACTS = REPO / "test-artifacts" / "browser"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, deadline_s: float = 60) -> None:
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the Jupyter server exited with code {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"the Jupyter server did not answer {url} within {deadline_s} s")


def wait_for_kernel_connection(base: str, token: str, deadline_s: float = 60) -> None:
    """Wait until the page's kernel has a websocket open and is idle.

    The page's own indicators read idle and "Python" a few seconds before the
    websocket connects, and Run All clicked in that window runs nothing.
    """
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(f"{base}/api/kernels?token={token}", timeout=5) as resp:
                kernels = json.load(resp)
        except urllib.error.HTTPError as error:
            # jupyter_server answers 500 (KeyError 'last_activity') while a kernel is still starting.
            if error.code != 500:
                raise
            kernels = []
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


@contextmanager
def jupyterlab(tmp_path: Path, notebook: Path, *, app: str = "lab") -> Iterator[tuple[str, str]]:
    """A throwaway JupyterLab (`app="notebook"`: Notebook 7) with its own config/settings/workspaces;
    yields (base url, token)."""
    if not (REPO / "inference_nb" / "static" / "widget.js").is_file():
        pytest.fail("the widget bundle is not built: run `npm install && npm run build` first")
    root = tmp_path / "root"
    root.mkdir()
    shutil.copy(notebook, root / notebook.name)

    settings = tmp_path / "settings"
    # No "Jupyter news?" toast, and no request to the outside to fetch news.
    notification = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notification.parent.mkdir(parents=True)
    notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
    # Save widget state with the notebook (off by default), as users who share notebooks turn it on.
    widgets = settings / "@jupyter-widgets" / "jupyterlab-manager" / "plugin.jupyterlab-settings"
    widgets.parent.mkdir(parents=True)
    widgets.write_text(json.dumps({"saveState": True}))

    port, token = free_port(), secrets.token_hex(16)
    env = os.environ | {
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(settings),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "INFERENCE_NB_DATA_DIR": str(tmp_path / "inference-data"),
    }
    cmd = [
        str(Path(sys.executable).parent / f"jupyter-{app}"),
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


@pytest.fixture
def lab(tmp_path, chromium_path):
    """`with lab(notebook) as page:` the notebook open in JupyterLab, its kernel ready."""
    return _opener(tmp_path, chromium_path, "lab")


@pytest.fixture
def notebook7(tmp_path, chromium_path):
    """`with notebook7(notebook) as page:` the notebook open in Notebook 7, its kernel ready."""
    return _opener(tmp_path, chromium_path, "notebook")


def _opener(tmp_path: Path, chromium_path: Path, app: str):
    @contextmanager
    def open_notebook(notebook: Path, *, width: int = 1280, height: int = 900) -> Iterator[Page]:
        with jupyterlab(tmp_path, notebook, app=app) as (base, token), sync_playwright() as p:
            browser = p.chromium.launch(executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS)
            try:
                page = browser.new_page(viewport={"width": width, "height": height})
                if app == "lab":
                    page.goto(f"{base}/lab/tree/{notebook.name}?token={token}&reset")
                    # Just after load the indicator may read idle while there is no kernel yet.
                    expect(page.locator(".jp-Notebook-ExecutionIndicator")).to_have_attribute(
                        "data-status", "idle", timeout=60_000
                    )
                    expect(page.locator(".jp-KernelName")).to_contain_text("Python", timeout=60_000)
                else:  # Notebook 7 has no execution indicator: the kernel's state is read from the server
                    page.goto(f"{base}/notebooks/{notebook.name}?token={token}")
                    expect(page.locator(".jp-Cell").first).to_be_visible(timeout=60_000)
                wait_for_kernel_connection(base, token)
                yield page
            finally:
                browser.close()

    return open_notebook


class ShownWidget(NamedTuple):
    """A widget shown by a notebook's cell in JupyterLab, and the parts of it every test uses."""

    page: Page
    widget: Locator
    panel: Locator
    """The visible tab's form."""
    status: Locator
    submit: Locator


@pytest.fixture
def lab_widget(lab, tmp_path):
    """`with lab_widget(code) as (page, widget, panel, status, submit):` a notebook of one cell,
    `import inference_nb` then `code` (which ends by showing a widget), open in JupyterLab, run,
    and its widget visible. The notebook is `tmp_path / name`; JupyterLab saves its copy under
    `tmp_path / "root"`."""

    @contextmanager
    def open_widget(code: str, *, name: str = "widget.ipynb") -> Iterator[ShownWidget]:
        notebook = write_notebook(tmp_path / name, f"import inference_nb\n\n{code}")
        with lab(notebook, height=1400) as page:
            run_all_cells(page)
            widget = page.locator(".inb-widget")
            expect(widget).to_be_visible(timeout=60_000)
            panel = widget.locator("[role=tabpanel]:visible")
            status = widget.locator(".inb-run-status")
            yield ShownWidget(page, widget, panel, status, widget.get_by_role("button", name="Submit"))

    return open_widget


def write_notebook(path: Path, *cells: str) -> Path:
    """A notebook of code `cells` at `path`, on the kernel the tests' JupyterLab offers."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(cell) for cell in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    nbformat.write(nb, path)
    return path


def run_all_cells(page: Page) -> None:
    page.get_by_role("menuitem", name="Run", exact=True).click()
    page.get_by_role("menuitem", name="Run All Cells", exact=True).click()


def screenshot(page: Page, name: str, locator=None) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    (locator or page).screenshot(path=str(path))
    return path
