"""One run as the front end sees it: a child model of the widget, with no view of its own.

Each run started from a widget gets a `RunModel`; the widget's `runs` trait lists references to
them. ipywidgets sends only the trait that changed, of the model that changed: a status change is
one small message with that run's view, and the images (binary buffers, never base64) travel once,
when they arrive. Both are saved with the notebook's widget state, so a reload without a kernel
still shows every run (docs/ARCHITECTURE.md, "The widget").
"""

from __future__ import annotations

from typing import Any

import anywidget
import traitlets

from ..kernel.run import Run
from ..results.files import image_refs, inline_image
from .run_view import IMAGE_BYTES, MAX_IMAGES


class RunModel(anywidget.AnyWidget):
    """The synced state of one run (`RunModelTraits` in js/types.ts), never displayed itself.

    An anywidget model rather than a plain `ipywidgets.Widget`: when a notebook is saved, a plain
    WidgetModel copies its state through JSON, which turns binary buffers into `{}`; anywidget's
    model copies it with `structuredClone`, so the images survive in the saved widget state.
    """

    _esm = "export default {};"

    view = traitlets.Dict().tag(sync=True)
    """The run's small view (`views.run_view`): statuses, timings, jobs, a capped preview; no images."""
    images = traitlets.List(traitlets.Dict()).tag(sync=True)
    """The run's shown images, each `{"data": bytes, "type": media type, "filename": str | None}`;
    the bytes go as binary buffers of the message, set once when they have been fetched."""


async def image_payloads(run: Run, fetch: Any) -> list[dict[str, Any]]:
    """Up to a few of the output's images, fetched (`await fetch(uri)`), as `RunModel.images` items."""
    payloads = []
    for ref in image_refs(run.output)[:MAX_IMAGES]:
        if ref.size is not None and ref.size > IMAGE_BYTES:
            continue
        data = await fetch(ref.uri)
        if len(data) <= IMAGE_BYTES:
            image = inline_image(ref, data)
            payloads.append({"data": image.data, "type": image.content_type, "filename": ref.filename})
    return payloads
