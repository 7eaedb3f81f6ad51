"""The server badge widget: traits and message handlers only, no network code.

The front end is `js/widget.ts`, bundled into `static/widget.js` by `npm run build`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import anywidget
import traitlets

log = logging.getLogger(__name__)

_BUNDLE = Path(__file__).parent / "static" / "widget.js"


def _built(bundle: Path) -> Path:
    """Return `bundle` if it exists, else say how to build it.

    A fresh clone has no bundle (it is built, not committed); anywidget's own
    error would only say "File not found".
    """
    if not bundle.is_file():
        raise FileNotFoundError(
            f"The widget's front end is not built: {bundle} is missing. "
            "Run `npm install && npm run build` (or `./dev setup`) in the repository root."
        )
    return bundle


class ServerBadge(anywidget.AnyWidget):
    """Shows an inference server's base URL, app count and status, with a Ping button.

    Nothing secret belongs in a trait: widget state is saved into the notebook file.
    """

    _esm = _built(_BUNDLE)

    server_url = traitlets.Unicode("").tag(sync=True)
    """Base URL of the server, e.g. ``http://127.0.0.1:43121``; never carries a key."""
    app_count = traitlets.Int(0).tag(sync=True)
    """How many apps the server offers."""
    status = traitlets.Unicode("").tag(sync=True)
    """A short state for people, e.g. ``"ready"``."""

    def __init__(self, *, list_apps: Callable[[], Iterable[str]] | None = None, **traits: Any) -> None:
        """`list_apps` returns the app ids a ping answers with; it is kept out of the traits."""
        super().__init__(**traits)
        self._list_apps = list_apps or (lambda: ())
        self.on_msg(self._on_custom_msg)

    @traitlets.validate("server_url")
    def _no_credentials_in_url(self, proposal: traitlets.Bunch) -> str:
        # `http://user:key@host` or `...?token=...` would save a secret into the notebook.
        parts = urlsplit(proposal["value"])
        if parts.username or parts.password or parts.query or parts.fragment:
            raise traitlets.TraitError("server_url must be a bare base URL, without credentials or a query")
        return proposal["value"]

    def _on_custom_msg(self, _widget: ServerBadge, content: Any, _buffers: list[bytes]) -> None:
        # Replies go out as custom messages, never as trait sets: see DESIGN.md §4.
        msg_id = content.get("id") if isinstance(content, dict) else None
        kind = content.get("type") if isinstance(content, dict) else None
        if kind != "ping":
            self.send({"type": "error", "id": msg_id, "message": f"unknown message type: {kind!r}"})
            return
        # Called right here, on the kernel's message thread: fine for a cheap lookup.
        # A slow one (network I/O) belongs on the controller loop (DESIGN.md §4).
        try:
            apps = [str(app) for app in self._list_apps()]
        except Exception as exc:
            # Only the exception's type reaches the browser: its text might quote a
            # URL or header. The full traceback goes to the kernel log.
            log.exception("ServerBadge: list_apps failed")
            self.send({"type": "error", "id": msg_id, "message": f"listing apps failed ({type(exc).__name__})"})
            return
        self.send({"type": "pong", "id": msg_id, "apps": apps})
