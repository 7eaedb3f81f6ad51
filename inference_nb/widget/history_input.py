"""What a run was given, as the widget's history shows it (`RunInput` in js/types.ts).

A view is saved into the notebook, so it is capped and keeps no secret: a field whose
name looks like a credential is left out, and so are file bytes sent inline (data: URIs).
A view missing anything says so (`complete` false); the front end then offers to load
it into the form but not to run it again as it is.
"""

from __future__ import annotations

import json
import math
from typing import Any

from ..kernel.run import Run
from ..results.display import SECRET_NAME
from .key_order import with_key_order

VALUE_CHARS = 1000
"""The longest string value kept."""
LIST_ITEMS = 100
"""The most items kept of a list."""
INPUT_CHARS = 8000
"""The most JSON text a whole input view may take; past that only the app or message is kept."""


def input_view(run: Run) -> dict[str, Any] | None:
    """The run's input for the history, or None when the server's answer does not carry it."""
    if run.kind == "task":
        values = run.raw.get("input")
        if not isinstance(values, dict):
            return None
        kept = _Kept()
        view = {"kind": "app", "app": str(run.raw.get("app") or run.label), "values": kept.value(values)}
    else:
        detail = run.raw.get("run") if isinstance(run.raw.get("run"), dict) else {}
        message = detail.get("message") or detail.get("initialPrompt")
        if not isinstance(message, str) or not message:
            return None
        kept = _Kept()
        schema = detail.get("resultSchema")  # `result` is the answer itself once the run is done
        view = {"kind": "ask", "message": kept.value(message), "schema": kept.value(schema) if schema else None}
    view["complete"] = kept.complete
    if len(json.dumps(view)) > INPUT_CHARS:
        shortened = {"values": {}} if view["kind"] == "app" else {"message": view["message"][:200], "schema": None}
        view.update(shortened, complete=False)
    return with_key_order(view)  # the values' order, which saving the notebook sorts


class _Kept:
    """Copies JSON data for a view, noting whether anything was left out."""

    def __init__(self) -> None:
        self.complete = True

    def value(self, value: Any) -> Any:
        if isinstance(value, dict):
            kept = {}
            for key, item in value.items():
                if SECRET_NAME.search(str(key)) or _inline_file(item):
                    self.complete = False
                    continue
                kept[str(key)] = self.value(item)
            return kept
        if isinstance(value, list | tuple):
            if len(value) > LIST_ITEMS:
                self.complete = False
            return [self.value(item) for item in value[:LIST_ITEMS] if not _inline_file(item)]
        if isinstance(value, str) and len(value) > VALUE_CHARS:
            self.complete = False
            return value[: VALUE_CHARS - 1] + "…"
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if value is None or isinstance(value, str | int | float | bool):
            return value
        self.complete = False
        return str(value)


def _inline_file(value: Any) -> bool:
    return isinstance(value, str) and value[:5].lower() == "data:"
