"""The quickstart notebook in a real JupyterLab (as `./dev lab` opens it) and in Notebook 7
(`jupyter notebook`, the `notebook` package), each with Chromium: every cell runs (the embedded
server starts in the kernel), the picture, the table and the widget show, and the widget answers."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from .conftest import REPO, run_all_cells, screenshot

pytestmark = pytest.mark.browser


@pytest.mark.timeout(300)
@pytest.mark.parametrize(("front_end", "url_part"), [("lab", "/lab/tree/"), ("notebook7", "/notebooks/")])
def test_the_quickstart_runs_and_its_widget_answers(request, front_end, url_part):
    opener = request.getfixturevalue(front_end)
    with opener(REPO / "notebooks" / "quickstart.ipynb", height=1400) as page:
        assert f"{url_part}quickstart.ipynb" in page.url
        run_all_cells(page)
        widget = page.locator(".inb-widget")
        expect(widget).to_be_visible(timeout=60_000)
        expect(page.locator(".jp-RenderedImage img")).to_have_count(1)
        expect(page.locator(".jp-RenderedHTMLCommon table").first).to_contain_text("category")
        outputs = page.locator(".jp-OutputArea-output").all_inner_texts()
        assert not any("Traceback" in text for text in outputs), outputs

        # The widget is alive: a question goes to the kernel and its table comes back.
        panel = widget.locator("[role=tabpanel]:visible")
        widget.get_by_role("tab", name="Ask").click()
        panel.get_by_label("Message", exact=True).fill("What does our inventory look like?")
        widget.get_by_role("button", name="Submit").click()
        expect(widget.locator(".inb-run-status")).to_have_text("done", timeout=60_000)
        expect(widget.locator(".inb-table")).to_be_visible()
        widget.scroll_into_view_if_needed()
        screenshot(page, f"quickstart-{front_end}", widget)
        screenshot(page, f"quickstart-{front_end}-page")
