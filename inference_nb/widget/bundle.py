"""How the widget's front end reaches the page, and why a saved notebook holds it once.

anywidget saves every synced trait of every widget, `_esm` and `_css` included, into the
notebook. So each widget's `_esm` is only the small loader (`static/loader.js`); the bundle
(`static/widget.js` and `static/widget.css`) and other values many widgets repeat (the
server's app list) are `Shared` models, one per distinct value per kernel, which widgets name
in their `_shared` trait (docs/ARCHITECTURE.md, "Packaging: one bundle per page").

With `INFERENCE_NB_HMR=1` in the kernel's environment (as anywidget's `ANYWIDGET_HMR`), a rebuilt
bundle reaches every widget on the page without re-running a cell (`BundleWatcher`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import os
import weakref
from pathlib import Path
from typing import Any

import ipywidgets
import traitlets

STATIC = Path(__file__).parent.parent / "static"
LOADER = STATIC / "loader.js"
BUNDLE_FILES = ("widget.js", "widget.css")
HOT_RELOAD = "INFERENCE_NB_HMR"
"""The environment variable that turns hot reloading of the front end on (`1`); anywidget's
`ANYWIDGET_HMR` does too."""

log = logging.getLogger("inference_nb")


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


def bundle(static: Path = STATIC) -> Shared:
    """The shared model holding the front end's code and styles (from `static`)."""
    esm, css = (_read(static / name) for name in BUNDLE_FILES)
    return shared({"esm": esm, "css": css})


def hot_reload_wanted() -> bool:
    """Whether the environment asks for the front end to reload when it is rebuilt."""
    value = os.environ.get(HOT_RELOAD) or os.environ.get("ANYWIDGET_HMR") or ""
    return value.strip().lower() in ("1", "true", "yes", "on")


class BundleWatcher:
    """Hands a rebuilt front end to every live widget of the kernel, for contributors (`npm run build
    -- --watch` beside a notebook): the page's loader (js/loader.ts) renders each widget again with it.

    Polls the bundle's files on the controller loop, which writes every widget trait.

    Args:
        static: the folder holding the built bundle.
        interval: seconds between two looks at the files.
    """

    def __init__(self, static: Path = STATIC, *, interval: float = 0.5) -> None:
        self.static, self.interval = static, interval
        self.widgets: weakref.WeakSet[Any] = weakref.WeakSet()
        self._seen = self._stamp()
        self._task: asyncio.Task | None = None

    def _stamp(self) -> tuple[tuple[int, int], ...]:
        stamps = []
        for name in BUNDLE_FILES:
            try:
                stat = (self.static / name).stat()
            except FileNotFoundError:  # between a rebuild's delete and write
                stamps.append((0, 0))
            else:
                stamps.append((stat.st_mtime_ns, stat.st_size))
        return tuple(stamps)

    def add(self, widget: Any, loop: asyncio.AbstractEventLoop) -> None:
        """Keep `widget` (a weak reference) current from now on; polling starts with the first one."""
        self.widgets.add(widget)
        loop.call_soon_threadsafe(self._start)

    def _start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._poll())

    async def _poll(self) -> None:
        while self.widgets:
            await asyncio.sleep(self.interval)
            self.check()

    def check(self) -> bool:
        """Hand the bundle to every widget when its files changed since the last look; whether it did."""
        stamp = self._stamp()
        if stamp == self._seen:
            return False
        self._seen = stamp
        try:
            front_end = bundle(self.static)
        except FrontEndMissing:  # mid-rebuild: the next look finds it whole
            return False
        for widget in list(self.widgets):
            if widget.comm is not None:
                widget._shared = {**widget._shared, "bundle": front_end}
        log.info("the widget's front end was rebuilt: %d widgets reload it", len(self.widgets))
        return True


_watcher: BundleWatcher | None = None


def watch(widget: Any, loop: asyncio.AbstractEventLoop) -> None:
    """With hot reloading asked for (`INFERENCE_NB_HMR=1`), keep `widget`'s front end current."""
    global _watcher
    if not hot_reload_wanted():
        return
    if _watcher is None:
        _watcher = BundleWatcher()
    _watcher.add(widget, loop)
