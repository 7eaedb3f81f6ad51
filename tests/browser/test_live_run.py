"""In a real JupyterLab + Chromium: a `Run` shown in a cell updates in place until it ends, without
running the cell again; and an App widget named `namespace/name` opens that app, pre-filled (issue 11)."""

from __future__ import annotations

import time

import nbformat
import pytest
from playwright.sync_api import expect

from .conftest import run_all_cells, screenshot, write_notebook

pytestmark = pytest.mark.browser


def shown_text(path) -> str:
    """The text/plain of the second cell's outputs as saved in the notebook file ("" while it is being written)."""
    try:
        cell = nbformat.read(path, as_version=4).cells[1]
    except nbformat.reader.NotJSONError:  # caught between JupyterLab's truncate and write
        return ""
    return "".join(output.get("data", {}).get("text/plain", "") for output in cell.outputs)


@pytest.mark.timeout(300)
def test_a_shown_run_updates_in_place_until_it_completes(lab, tmp_path):
    source = write_notebook(
        tmp_path / "runs.ipynb",
        # A finished run first: the server is up and the kernel has shown a Run once before the timed one.
        'import inference_nb\nclient = inference_nb.Client()\nclient.run("demo/sleep", {"seconds": 0}).wait()',
        'run = client.run("demo/sleep", {"seconds": 8, "steps": 8})\nrun',
    )
    with lab(source) as page:
        run_all_cells(page)
        output = page.locator(".jp-Cell").nth(1).locator(".jp-OutputArea-output")
        expect(output).to_contain_text("demo/sleep@1.0.0", timeout=60_000)
        first = output.inner_text()
        assert "Completed" not in first, first
        screenshot(page, "live-run-running", output)
        expect(output).to_contain_text("Completed", timeout=60_000)
        expect(output).to_contain_text('"steps": 8')
        expect(output).to_have_count(1)  # updated in place, not appended
        assert output.inner_text() != first
        counts = page.locator(".jp-InputArea-prompt").all_inner_texts()
        assert [c.strip() for c in counts] == ["[1]:", "[2]:"], counts  # nothing ran again
        screenshot(page, "live-run-completed", output)

        # Saved, the notebook keeps the final view.
        page.locator(".jp-Cell").nth(1).locator(".jp-InputArea-prompt").click()
        page.keyboard.press("Control+s")
        saved = tmp_path / "root" / source.name
        deadline = time.monotonic() + 30
        while "Completed" not in (text := shown_text(saved)):
            assert time.monotonic() < deadline, f"the saved output is not the final view: {text}"
            time.sleep(0.2)
        assert "Running" not in text


@pytest.mark.timeout(300)
def test_an_app_named_without_version_opens_prefilled(lab, tmp_path):
    source = write_notebook(
        tmp_path / "runs.ipynb",
        "import inference_nb\nclient = inference_nb.Client()\n"
        'client.widget(mode="app", app="demo/picture", input={"prompt": "A lighthouse at dusk", "width": 128})',
    )
    with lab(source, height=1100) as page:
        run_all_cells(page)
        widget = page.locator(".inb-widget")
        expect(widget).to_be_visible(timeout=60_000)
        panel = widget.locator("[role=tabpanel]:visible")
        expect(widget.get_by_role("tab", name="App")).to_have_attribute("aria-selected", "true")
        expect(panel.get_by_label("App", exact=True)).to_have_value("demo/picture@1.0.0")
        expect(panel.get_by_label("Prompt")).to_have_value("A lighthouse at dusk")
        expect(panel.get_by_label("Width")).to_have_value("128")
        screenshot(page, "app-id-prefilled", widget)
        widget.get_by_role("button", name="Submit").click()
        expect(widget.locator(".inb-run-status")).to_have_text("Completed", timeout=60_000)
        expect(widget.locator(".inb-results img")).to_have_count(1)
        screenshot(page, "app-id-completed", widget)
