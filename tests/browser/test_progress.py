"""Progress, timeline, history and table actions in a real JupyterLab + Chromium: demo/sleep's steps
show as a progress bar while Running; the timeline keeps the fast statuses with their durations; a
history item shows its time and input, loads it back into the form and runs it again; a table result
copies as TSV and downloads as a CSV file."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from .conftest import screenshot

pytestmark = pytest.mark.browser

QUERY = "SELECT name, qty FROM inventory ORDER BY name LIMIT 3"


@pytest.mark.timeout(300)
def test_progress_timeline_history_and_table_actions(lab_widget):
    shown = "widget = inference_nb.Client().widget(mode='app', app='demo/sleep@1.0.0')\nwidget"
    with lab_widget(shown, name="progress.ipynb") as (page, widget, panel, status, submit):
        page.context.grant_permissions(["clipboard-read", "clipboard-write"])

        # demo/sleep in 8 steps: the app's progress shows while Running, then goes.
        panel.get_by_label("Seconds").fill("8")
        panel.get_by_label("Steps").fill("8")
        submit.click()
        progress = widget.locator(".inb-progress")
        expect(progress).to_be_visible(timeout=30_000)
        expect(progress).to_contain_text(re.compile(r"^[1-7] / 8 · waited"), timeout=30_000)
        assert progress.locator("progress").get_attribute("max") == "8"
        screenshot(page, "progress-running", widget)
        expect(status).to_have_text("Completed", timeout=30_000)
        expect(progress).to_be_hidden()

        # The statuses that passed in milliseconds stay readable, with their durations.
        timeline = widget.locator(".inb-timeline")
        expect(timeline).to_contain_text(re.compile(r"^Received <?\d+ ms · Queued <?\d+ ms · "))  # "<1 ms" when fast
        expect(timeline).to_contain_text(re.compile(r"Running \d\.\d s · Completed$"))

        # The history item: its local start time, its input; no button there answers to "Cancel".
        item = widget.locator(".inb-history-row").first
        expect(item.locator(".inb-history-clock")).to_have_text(re.compile(r"^\d\d:\d\d:\d\d$"))
        expect(item.locator(".inb-history-label")).to_contain_text("demo/sleep: seconds=8, steps=8")

        # Load into form puts the input back after it was changed.
        panel.get_by_label("Seconds").fill("1")
        item.get_by_role("button", name="Load into form").click()
        expect(panel.get_by_label("Seconds")).to_have_value("8")
        expect(widget.locator(".inb-notice")).to_have_text("Loaded into the form.")

        # A table: Copy puts TSV on the clipboard, Download CSV saves a file.
        panel.get_by_label("App", exact=True).select_option("demo/sql@1.0.0")
        panel.get_by_label("Query").fill(QUERY)
        submit.click()
        # Waited for by its table: the status shown may still be the earlier run's "Completed".
        expect(widget.locator(".inb-table tbody tr")).to_have_count(3, timeout=30_000)
        rows = [r.split("\t") for r in widget.locator(".inb-table tbody tr").all_inner_texts()]
        widget.get_by_role("button", name="Copy", exact=True).click()
        expect(widget.locator(".inb-table-note")).to_have_text("Copied all 3 rows.")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert copied.splitlines()[0] == "name\tqty" and len(copied.splitlines()) == 4, copied
        with page.expect_download() as download_info:
            widget.get_by_role("button", name="Download CSV").click()
        download = download_info.value
        assert download.suggested_filename == "result.csv"
        lines = open(download.path(), encoding="utf-8").read().splitlines()
        assert lines[0] == "name,qty" and len(lines) == 4, lines
        assert [line.split(",")[0] for line in lines[1:]] == [r[0].strip() for r in rows], (lines, rows)
        screenshot(page, "progress-table-actions", widget)

        # Run again: the same query as a new run.
        widget.locator(".inb-history-row").first.get_by_role("button", name="Run again").click()
        expect(widget.locator(".inb-history-row")).to_have_count(3, timeout=30_000)
        expect(status).to_have_text("Completed", timeout=30_000)
        expect(widget.locator(".inb-history-row").first.locator(".inb-history-label")).to_contain_text(QUERY[:30])
        screenshot(page, "progress-history", widget)
