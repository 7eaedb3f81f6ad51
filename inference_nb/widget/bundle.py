"""How the widget's front end reaches the page, and why a saved notebook holds it once.

anywidget saves every synced trait of every widget, `_esm` and `_css` included, into the
notebook. So each widget's `_esm` is only the small loader (`static/loader.js`); the bundle
(`static/widget.js` and `static/widget.css`) and other values many widgets repeat (the
server's app list) are `Shared` models, one per distinct value per kernel, which widgets name
in their `_shared` trait (docs/ARCHITECTURE.md, "Packaging: one bundle per page").
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import ipywidgets
import traitlets

STATIC = Path(__file__).parent.parent / "static"
LOADER = STATIC / "loader.js"
BUNDLE = (STATIC / "widget.js", STATIC / "widget.css")


class FrontEndMissing(FileNotFoundError):
    """The widget's front end is not built (a source checkout before `npm run build`)."""


class Shared(ipywidgets.Widget):
    """One JSON value that many widgets on a page read, stored once in a saved notebook.

    A plain `@jupyter-widgets/base` WidgetModel with no view: the front end reads it through
    the widget manager (js/loader.ts).
    """

    value = traitlets.Any().tag(sync=True)
    """The value, as JSON."""
    digest = traitlets.Unicode().tag(sync=True)
    """A hash of the value: the page imports a bundle once per digest."""


_interned: dict[str, Shared] = {}


def shared(value: Any) -> Shared:
    """The kernel's one open `Shared` model holding `value` (made on first use)."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    model = _interned.get(digest)
    if model is None or model.comm is None:  # closed, e.g. by `Widget.close_all()`
        model = _interned[digest] = Shared(value=value, digest=digest)
    return model


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FrontEndMissing(
            f"The widget's front end is not built: {path} is missing. In the repository root, run "
            "`npm ci && npm run build` (or `./dev setup`); `pip install` of the source builds it too."
        ) from None


def loader() -> str:
    """The `_esm` every widget carries (a few hundred bytes)."""
    return _read(LOADER)


def bundle() -> Shared:
    """The shared model holding the front end's code and styles."""
    esm, css = (_read(path) for path in BUNDLE)
    return shared({"esm": esm, "css": css})
