"""A widget restored from a saved notebook without its kernel object: a read-only snapshot that still
shows its runs (images from the saved buffers included) and says to re-run the cell."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import expect

from .conftest import screenshot

pytestmark = pytest.mark.browser

WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def saved_widget_models(path) -> dict:
    """The saved notebook's widget models; none while JupyterLab is caught mid-write (an empty or cut file),
    so that a caller polling for them reads again."""
    try:
        nb = json.loads(path.read_text())
    except json.JSONDecodeError:
        return {}
    return nb.get("metadata", {}).get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def wait_for(condition: Callable[[], bool], failure: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(failure)
        time.sleep(0.2)


@pytest.mark.timeout(420)
def test_a_saved_widget_reloaded_without_its_kernel_is_a_read_only_snapshot(lab_widget, tmp_path):
    saved = tmp_path / "root" / "restore.ipynb"  # the copy JupyterLab serves and saves
    shown = "client = inference_nb.Client()\nwidget = client.widget(mode='app')\nwidget"
    with lab_widget(shown, name=saved.name) as (page, widget, panel, status, submit):
        expect(widget.locator(".inb-snapshot-note")).to_be_hidden()  # the live widget answered its ping

        panel.get_by_label("App", exact=True).select_option("demo/picture@1.0.0")
        panel.get_by_label("Prompt").fill("A sunset over mountains")
        panel.get_by_label("Width").fill("96")
        submit.click()
        expect(status).to_have_text("Completed", timeout=30_000)
        image = widget.locator(".inb-results img")
        expect(image).to_have_count(1, timeout=30_000)
        assert image.get_attribute("src").startswith("blob:")  # made from the bytes of a binary buffer
        loaded = "(img) => img.complete && img.naturalWidth === 96"
        page.wait_for_function(loaded, arg=image.element_handle(), timeout=10_000)
        panel.get_by_label("App", exact=True).select_option("demo/sql@1.0.0")
        panel.get_by_label("Query").fill("SELECT name, qty FROM inventory ORDER BY name LIMIT 3")
        submit.click()
        expect(widget.locator(".inb-table-foot")).to_contain_text("of 3 rows", timeout=30_000)
        expect(widget.locator(".inb-history-item")).to_have_count(2)

        page.locator('.jp-NotebookPanel-toolbar [data-command="docmanager:save"]').click()
        # The widget, its two run models (and anywidget's own) are in the saved file.
        wait_for(lambda: len(saved_widget_models(saved)) >= 3, "the notebook was not saved with widget state")

        page.get_by_role("menuitem", name="Kernel", exact=True).click()
        page.get_by_role("menuitem", name="Shut Down Kernel", exact=True).click()
        # Reloaded only once the kernel is gone: a page that reconnects to a kernel still shutting
        # down asks it for the models instead of reading the saved state.
        kernels = "fetch('/api/kernels').then((r) => r.json())"
        wait_for(lambda: page.evaluate(kernels) == [], "the kernel was not shut down")
        page.reload()

        widget = page.locator(".inb-widget")
        expect(widget).to_be_visible(timeout=60_000)
        note = widget.locator(".inb-snapshot-note")
        expect(note).to_be_visible(timeout=30_000)
        expect(note).to_have_text("Saved view — re-run the cell to use it.")
        expect(widget.get_by_role("button", name="Submit")).to_be_disabled()
        expect(widget.locator(".inb-run-status")).to_have_text("Completed")
        expect(widget.locator(".inb-table-foot")).to_contain_text("of 3 rows")
        expect(widget.locator(".inb-history-item")).to_have_count(2)
        screenshot(page, "restore-snapshot", widget)

        # The history is browsable here: the older run's saved view, its image from the saved bytes.
        widget.locator(".inb-history-item").nth(1).click()
        image = widget.locator(".inb-results img")
        expect(image).to_have_count(1)
        assert image.get_attribute("src").startswith("blob:")
        page.wait_for_function(loaded, arg=image.element_handle(), timeout=10_000)
        expect(widget.get_by_role("button", name="Submit")).to_be_disabled()
        screenshot(page, "restore-snapshot-older-run", widget)
