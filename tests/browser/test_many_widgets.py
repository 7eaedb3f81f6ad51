"""Three widgets on one JupyterLab page (Ask, App, and a locked pydantic schema): each label
focuses its own widget's control, keys typed in any control (the read-only schema box too)
never become notebook shortcuts, Ctrl+Enter and Tab still work, and a broken schema is
never called valid: the kernel's plain-word problem shows instead."""

from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from .conftest import run_all_cells, screenshot, write_notebook

pytestmark = pytest.mark.browser

# Each of these is a JupyterLab command-mode shortcut: b inserts a cell below, x cuts one,
# a inserts above, d d deletes, m turns a cell into markdown.
SHORTCUT_KEYS = "b x a d d m"

CELLS = [
    "import inference_nb\nfrom pydantic import BaseModel\n\n\nclass Item(BaseModel):\n    name: str\n    qty: int\n\n\n"
    "client = inference_nb.Client()",
    "client.widget()",
    'client.widget(mode="app", app="demo/counter@1.0.0")',
    'client.widget(message="What is in stock?", schema=list[Item])',
]


@pytest.fixture
def many_notebook(tmp_path):
    return write_notebook(tmp_path / "many.ipynb", *CELLS)


def cell_count(page: Page) -> int:
    return page.locator(".jp-Notebook .jp-Cell").count()


def focus_by_label(widget: Locator, label: str) -> Locator:
    """Click the label in `widget` and return the control it names, checking focus landed on it."""
    label_el = widget.locator("label.inb-label", has_text=label).first
    label_el.click()
    target = label_el.get_attribute("for")
    assert target, f"label {label!r} points at nothing"
    control = widget.locator(f"[id='{target}']")
    expect(control).to_have_count(1)
    expect(control).to_be_focused()
    return control


@pytest.mark.timeout(300)
def test_three_widgets_keep_their_ids_focus_and_keys(lab, many_notebook):
    with lab(many_notebook, height=2600) as page:
        run_all_cells(page)
        widgets = page.locator(".inb-widget")
        expect(widgets).to_have_count(3, timeout=60_000)
        ask, app, locked = widgets.nth(0), widgets.nth(1), widgets.nth(2)
        expect(locked.locator(".inb-note", has_text="from a pydantic model")).to_be_visible()
        cells = cell_count(page)
        assert cells == len(CELLS)

        ids = page.evaluate("() => Array.from(document.querySelectorAll('.inb-widget [id]'), (e) => e.id)")
        assert len(ids) > 30 and len(ids) == len(set(ids)), sorted(i for i in ids if ids.count(i) > 1)

        # Each widget's labels focus its own controls; typed letters land there, not in the notebook.
        message = focus_by_label(ask, "Message")
        page.keyboard.type(f"ask {SHORTCUT_KEYS}")
        expect(message).to_have_value(f"ask {SHORTCUT_KEYS}")

        note = focus_by_label(app, "Note")
        page.keyboard.type(f"app {SHORTCUT_KEYS}")
        expect(note).to_have_value(f"app {SHORTCUT_KEYS}")

        schema_box = focus_by_label(locked, "Result schema")
        before = schema_box.input_value()
        page.keyboard.type(SHORTCUT_KEYS)
        page.keyboard.press("Delete")
        expect(schema_box).to_have_value(before)  # read-only, and the keys went nowhere else

        locked_message = focus_by_label(locked, "Message")
        page.keyboard.press("Control+End")
        page.keyboard.type(f" {SHORTCUT_KEYS}")
        expect(locked_message).to_have_value(f"What is in stock? {SHORTCUT_KEYS}")
        assert cell_count(page) == cells

        # Tab still moves focus: to the next control of the same widget.
        message.focus()
        page.keyboard.press("Tab")
        expect(message).not_to_be_focused()
        assert page.evaluate("(root) => root.contains(document.activeElement)", ask.element_handle())

        # A broken schema is never called valid; the kernel's words show under the editor.
        page.evaluate(
            """(root) => {
                window.__inbSawValid = [];
                const seen = () => root.querySelectorAll('.inb-check').forEach((s) => {
                    if (!s.hidden && s.textContent.includes('valid')) window.__inbSawValid.push(s.textContent);
                });
                new MutationObserver(seen).observe(root, {subtree: true, childList: true, characterData: true,
                                                          attributes: true});
            }""",
            ask.element_handle(),
        )
        editor = focus_by_label(ask, "Result schema")
        problem = ask.locator("[data-field=schema] .inb-error")
        for text, words in [
            ('{"type": "object", "required": "name"}', "required must be a list of field names"),
            ('{"type": "object", "properties": {"n": {"minimum": "zero"}}}', "properties.n.minimum must be a number"),
            ('{"$ref": "#/$defs/x"}', "$ref points to #/$defs/x, which does not exist"),
        ]:
            editor.fill("")
            page.keyboard.type(text)
            expect(problem).to_contain_text(words, timeout=10_000)
        assert page.evaluate("() => window.__inbSawValid") == []
        screenshot(page, "many-widgets-invalid-schema", ask)

        editor.fill("")
        page.keyboard.type('{"type": "object", "properties": {"name": {"type": "string"}}}')
        expect(ask.locator(".inb-check")).to_have_text("✓ valid JSON Schema", timeout=10_000)
        expect(problem).to_be_hidden()

        # Ctrl+Enter still submits, from the widget it is typed in.
        note = focus_by_label(app, "Note")
        note.press("Control+Enter")
        expect(app.locator(".inb-run-status")).to_have_text("Completed", timeout=30_000)
        assert cell_count(page) == cells
        screenshot(page, "many-widgets", None)

        # Raw JSON input that breaks the app's schema: the kernel names the field while it is typed,
        # and Submit is refused with the same words before any request.
        app.get_by_label("Raw JSON").check()
        raw = app.get_by_label("Input as JSON")
        raw.fill("")
        raw.press_sequentially('{"amount": "lots"}')
        raw_problem = app.locator(".inb-raw .inb-error")
        expect(raw_problem).to_have_text("input.amount: must be a whole number, not text", timeout=10_000)
        app.get_by_role("button", name="Submit").click()
        expect(app.locator(".inb-notice")).to_have_text(
            "Not sent: input.amount: must be a whole number, not text", timeout=10_000
        )
        expect(raw_problem).to_have_text("input.amount: must be a whole number, not text")
        expect(app.locator(".inb-history-item")).to_have_count(1)
        screenshot(page, "many-widgets-raw-input", app)
