"""A widget over a kernel restart, a save and a reload, in JupyterLab and Notebook 7 (issue 21): what was
typed is kept, the form keeps its order, a Submit after a restart says the kernel is gone at once, the
status is announced to screen readers, and the Ask form fits a 400 px page."""

from __future__ import annotations

import json
import re
import time

import pytest
from playwright.sync_api import Page, expect

from .conftest import run_all_cells, screenshot, write_notebook
from .test_restore import saved_widget_models, wait_for

pytestmark = pytest.mark.browser

MESSAGE = "How many hammers are in stock?"
PROMPT = "A lake at dawn"
# Records every text the live region is given, from the moment the widget is there.
RECORD_ANNOUNCEMENTS = """(region) => {
  window.__said = [];
  const record = () => window.__said.push(region.textContent);
  new MutationObserver(record).observe(region, {childList: true, characterData: true, subtree: true});
}"""


# The visible elements of the widget that reach past its right edge, by class.
STICKING_OUT = """(root) => {
  const edge = root.getBoundingClientRect().right + 0.5;
  return [...root.querySelectorAll("*")]
    .filter((el) => el.offsetParent !== null && el.getBoundingClientRect().right > edge)
    .map((el) => `${el.tagName}.${el.className} +${Math.round(el.getBoundingClientRect().right - edge)}px`);
}"""


@pytest.fixture
def widget_notebook(tmp_path):
    code = "import inference_nb\n\nclient = inference_nb.Client()\nwidget = client.widget()\nwidget"
    return write_notebook(tmp_path / "kernel_gone.ipynb", code)


def labels(page: Page) -> list[str]:
    panel = page.locator(".inb-widget [role=tabpanel]:visible")
    return panel.locator(".inb-schema-form .inb-field > .inb-label").all_inner_texts()


def fits(page: Page, width: int, name: str) -> None:
    """At `width` px, nothing of the widget sticks out of it, the examples select included."""
    # JupyterLab opens with its file browser beside the notebook: at 400 px it would leave the notebook
    # a sliver. Collapsed (a click on its open tab), the notebook takes the width, as a user would have it.
    open_side = page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current")
    if open_side.count():
        open_side.first.click()
    page.set_viewport_size({"width": width, "height": 900})
    widget = page.locator(".inb-widget")
    select = widget.locator("select[aria-label='Insert an example schema']")
    expect(select).to_be_visible()
    page.wait_for_function("(el) => el.getBoundingClientRect().width < 400", arg=widget.element_handle())
    assert widget.bounding_box()["width"] > 250  # the page gives the widget its width, not a sliver
    screenshot(page, name, widget)
    box, inner = widget.bounding_box(), select.bounding_box()
    assert inner["x"] + inner["width"] <= box["x"] + box["width"] + 0.5, (inner, box)
    sticking_out = widget.evaluate(STICKING_OUT)
    assert sticking_out == [], f"these stick out of the widget: {sticking_out}"


def save(page: Page) -> None:
    page.locator('[data-command="docmanager:save"]').first.click()


def typed_state_saved(page: Page, saved) -> bool:
    """Save, and say whether the saved widget state holds what was typed (the kernel set it: its traits
    came back to the page, whose models are what gets saved)."""
    save(page)
    states = [m.get("state", {}) for m in saved_widget_models(saved).values()]
    return any(s.get("message") == MESSAGE and s.get("input_values", {}).get("prompt") == PROMPT for s in states)


@pytest.mark.timeout(600)
@pytest.mark.parametrize("front_end", ["lab", "notebook7"])
def test_a_widget_over_a_restart_and_a_reload(front_end, request, widget_notebook, tmp_path):
    opener = request.getfixturevalue(front_end)
    saved = tmp_path / "root" / widget_notebook.name
    errors: list[str] = []
    with opener(widget_notebook, height=1400) as page:
        page.on("pageerror", lambda error: errors.append(str(error)))
        run_all_cells(page)
        widget = page.locator(".inb-widget")
        expect(widget).to_be_visible(timeout=60_000)
        note = widget.locator(".inb-snapshot-note")
        submit = widget.get_by_role("button", name="Submit")
        expect(widget.locator(".inb-check")).to_have_text(
            "✓ no schema: the answer comes back as the server gives it", timeout=30_000
        )
        expect(note).to_be_hidden()

        fits(page, 400, f"{front_end}-400px")
        page.set_viewport_size({"width": 1280, "height": 1400})

        # The App form in the schema's order; a run whose statuses the live region says.
        widget.get_by_role("tab", name="App").click()
        panel = widget.locator("[role=tabpanel]:visible")
        panel.get_by_label("App", exact=True).select_option("demo/picture@1.0.0")
        order = labels(page)
        assert order[:4] == ["Prompt *", "Width", "Height", "Seed"], order
        widget.locator(".inb-sr[aria-live=polite]").evaluate(RECORD_ANNOUNCEMENTS)
        panel.get_by_label("Prompt").fill(PROMPT)
        submit.click()
        expect(widget.locator(".inb-run-status")).to_have_text("Completed", timeout=30_000)
        region = widget.locator(".inb-sr[aria-live=polite]")
        expect(region).to_contain_text("Completed")
        said = page.evaluate("window.__said")
        assert len(set(said)) >= 2 and not any("Completed" in text for text in said[:1]), said

        # Typed text is state: the kernel has it, a reload shows it.
        widget.get_by_role("tab", name="Ask").click()
        widget.get_by_label("Message", exact=True).fill(MESSAGE)
        wait_for(lambda: typed_state_saved(page, saved), "what was typed did not reach the kernel")
        page.reload()
        widget = page.locator(".inb-widget")
        expect(widget.get_by_label("Message", exact=True)).to_have_value(MESSAGE, timeout=60_000)
        expect(widget.locator(".inb-snapshot-note")).to_be_hidden()
        widget.get_by_role("tab", name="App").click()
        expect(widget.locator("[role=tabpanel]:visible").get_by_label("Prompt")).to_have_value(PROMPT)
        save(page)  # the state a reload after the restart reads

        # A restart: Submit says at once that the kernel is gone.
        page.get_by_role("menuitem", name="Kernel", exact=True).click()
        page.get_by_role("menuitem", name=re.compile(r"^Restart Kernel")).first.click()
        dialog = page.locator(".jp-Dialog")
        expect(dialog).to_contain_text("Restart", timeout=10_000)
        screenshot(page, f"{front_end}-restart-dialog")
        dialog.locator(".jp-Dialog-button.jp-mod-accept").click()
        submit = widget.get_by_role("button", name="Submit")
        note = widget.locator(".inb-snapshot-note")
        clicked = time.monotonic()
        if submit.is_enabled():
            submit.click()
        expect(note).to_be_visible(timeout=3_000)
        assert time.monotonic() - clicked < 3
        expect(note).to_contain_text("re-run the cell")
        expect(submit).to_be_disabled()
        screenshot(page, f"{front_end}-kernel-gone", widget)
        assert not [e for e in errors if "Cannot send" in e], errors

        # Reloaded: a saved view, the form in the order it had, the typed text still there.
        page.reload()
        widget = page.locator(".inb-widget")
        note = widget.locator(".inb-snapshot-note")
        expect(note).to_have_text("Saved view — re-run the cell to use it.", timeout=60_000)
        widget.get_by_role("tab", name="App").click()
        expect(widget.locator("[role=tabpanel]:visible").get_by_label("Prompt")).to_have_value(PROMPT)
        assert labels(page) == order
        widget.get_by_role("tab", name="Ask").click()
        expect(widget.get_by_label("Message", exact=True)).to_have_value(MESSAGE)
        history = widget.locator(".inb-history-label").all_inner_texts()
        assert history == [f"demo/picture: prompt={PROMPT}"], history  # no defaults, no nulls
        screenshot(page, f"{front_end}-reloaded-after-restart", widget)
    assert json.dumps(errors).count("Cannot send") == 0
