"""The widget and what only it needs (docs/ARCHITECTURE.md, "The widget").

- `inference_widget`: the anywidget class: traits and the browser's messages;
- `submit`: a Submit of the App form checked, its files uploaded, its task started;
- `form_checks`: the checks the form asks for while the user types;
- `run_model` / `run_view`: each run as a child model, and the small view of it the browser gets;
- `history_input`: a run's input as the history keeps it (capped, without secrets);
- `text_fallback`: the widget as text and HTML where no front end runs;
- `bundle`: how the front end (`static/`) reaches the page once per kernel.
"""

from __future__ import annotations

from .inference_widget import InferenceWidget, Widget

__all__ = ["InferenceWidget", "Widget"]
