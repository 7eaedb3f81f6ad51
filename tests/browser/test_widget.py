"""The widget in a real JupyterLab + Chromium: ask, watch, see the table; start a slow app and cancel
it; see a failed run's reason; result text containing markup shows as text; pick a CSV file for
demo/sql and query it."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import screenshot

pytestmark = pytest.mark.browser

XSS = "<img src=x onerror=window.__xss=1>"
CITIES = b"city,people\nOslo,709000\nBergen,291000\nTromso,78000\n"


@pytest.mark.timeout(420)
def test_the_widget_end_to_end(lab_widget):
    shown = "client = inference_nb.Client()\nwidget = client.widget()\nwidget"
    with lab_widget(shown) as (page, widget, panel, status, submit):
        # Refused while invalid: nothing is sent.
        submit.click()
        expect(panel.locator("[data-field=message]")).to_contain_text("question", timeout=10_000)
        expect(widget.locator(".inb-history-item")).to_have_count(0)

        # Ask: a message, an example schema, Ctrl+Enter; the bar advances, the table appears.
        panel.get_by_label("Message", exact=True).fill("What does our inventory look like?")
        panel.get_by_label("Insert an example schema").select_option(label="List of objects with name and qty")
        panel.get_by_label("Message", exact=True).press("Control+Enter")
        expect(status).to_have_text("done", timeout=30_000)
        expect(widget.locator(".inb-table thead")).to_contain_text("name")
        expect(widget.locator(".inb-table thead")).to_contain_text("qty")
        expect(widget.locator(".inb-table-foot")).to_contain_text("of 40 rows")
        timed_steps = [t for t in widget.locator(".inb-step-time").all_inner_texts() if t.strip()]
        assert len(timed_steps) >= 2, timed_steps
        screenshot(page, "widget-ask-done", widget)

        # App: a slow run, then Cancel.
        widget.get_by_role("tab", name="App").click()
        panel.get_by_label("App", exact=True).select_option("demo/sleep@1.0.0")
        panel.get_by_label("Seconds").fill("60")
        submit.click()
        expect(status).to_have_text("Running", timeout=30_000)
        screenshot(page, "widget-app-running", widget)
        widget.get_by_role("button", name="Cancel").click()
        expect(status).to_have_text("Cancelled", timeout=10_000)
        expect(widget.locator(".inb-cancelled")).to_be_visible()

        # A failed run shows its reason, as text even when it holds markup.
        panel.get_by_label("App", exact=True).select_option("demo/fail@1.0.0")
        panel.get_by_label("Message").fill(f"{XSS} the disk is on fire")
        submit.click()
        expect(status).to_have_text("Failed", timeout=30_000)
        expect(widget.locator(".inb-failed")).to_contain_text(f"{XSS} the disk is on fire")
        screenshot(page, "widget-failed", widget)

        # A table cell holding markup is text too.
        panel.get_by_label("App", exact=True).select_option("demo/sql@1.0.0")
        panel.get_by_label("Query").fill(f"SELECT '{XSS}' AS name, 1 AS qty")
        submit.click()
        expect(status).to_have_text("Completed", timeout=30_000)
        expect(widget.locator(".inb-table tbody")).to_contain_text(XSS)
        expect(widget.locator(".inb-results img")).to_have_count(0)
        assert page.evaluate("window.__xss") is None
        expect(widget.locator(".inb-history-item")).to_have_count(4)
        screenshot(page, "widget-markup-as-text", widget)

        # A file field: pick a CSV (the kernel uploads it on Submit), query it as table "uploaded".
        picker = panel.get_by_label("CSV file", exact=True)
        picker.set_input_files({"name": "cities.csv", "mimeType": "text/csv", "buffer": CITIES})
        chosen = panel.locator("[data-field=csv_file] .inb-file-chosen")
        expect(chosen).to_contain_text("cities.csv")
        expect(chosen).to_contain_text(f"({len(CITIES)} bytes)")
        panel.get_by_label("Query").fill("SELECT city, people FROM uploaded WHERE people > 100000 ORDER BY people DESC")
        submit.click()
        expect(status).to_have_text("Completed", timeout=30_000)
        body = widget.locator(".inb-table tbody")
        expect(body.locator("tr")).to_have_count(2)
        expect(body.locator("tr").first).to_contain_text("Oslo")
        expect(body.locator("tr").nth(1)).to_contain_text("Bergen")
        expect(widget.locator(".inb-history-item")).to_have_count(5)
        screenshot(page, "widget-file-input", widget)

        # Remove puts the keyboard back on the picker; the next submit sends no file.
        panel.get_by_role("button", name="Remove cities.csv").click()
        expect(chosen).to_be_hidden()
        expect(picker).to_be_focused()
