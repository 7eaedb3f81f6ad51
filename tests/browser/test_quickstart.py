"""The quickstart notebook in a real JupyterLab + Chromium, as `./dev lab` opens it: every cell
runs (the embedded server starts in the kernel), the picture, the table and the widget show."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import REPO, run_all_cells, screenshot

pytestmark = pytest.mark.browser


@pytest.mark.timeout(300)
def test_the_quickstart_runs_in_jupyterlab(lab):
    with lab(REPO / "notebooks" / "quickstart.ipynb") as page:
        run_all_cells(page)
        widget = page.locator(".inb-widget")
        expect(widget).to_be_visible(timeout=60_000)
        expect(page.locator(".jp-RenderedImage img")).to_have_count(1)
        expect(page.locator(".jp-RenderedHTMLCommon table").first).to_contain_text("category")
        outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
        assert not any("Traceback" in text for text in outputs), outputs
        widget.scroll_into_view_if_needed()
        screenshot(page, "quickstart")
