"""A Run in a notebook cell: its mimebundle, and an output that keeps current until it ends.

See docs/ARCHITECTURE.md, "A Run in a cell": the output is an IPython display with a display
id, updated from the controller thread; outside a kernel the Run is shown once, as text.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from ..results.display import bundle
from ..wire.statuses import Phase

if TYPE_CHECKING:
    from ..client.core import Status
    from ..results.files import InlineImage

log = logging.getLogger("inference_nb")

MIN_INTERVAL = 0.2
"""Seconds between two updates of one output: status changes closer than this are merged."""
TICK = 1.0
"""Seconds between updates while nothing changes, so that the elapsed time keeps moving."""


class Shown(Protocol):
    """What a live output needs of a Run (a `Run`, or a stand-in in tests)."""

    @property
    def done(self) -> bool: ...

    def on_change(self, listener: Callable[[Any], None]) -> None: ...

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> tuple[dict, dict]: ...


class Displayed(Protocol):
    """What a Run's notebook display reads of it (`run.Run`, which imports this module)."""

    id: str
    kind: str
    label: str
    status: Status
    done: bool
    title: str
    elapsed: float | None
    result: Any
    output: Any
    summary: str | None
    error: str | None
    provenance: dict[str, Any]
    images: list[InlineImage]


def mimebundle(run: Displayed) -> tuple[dict, dict]:
    """The (data, metadata) of a Run's notebook display; a succeeded run's images are fetched for it."""
    shown_images = []
    if run.done and run.status.phase is Phase.SUCCEEDED:
        try:
            shown_images = run.images
        except Exception as error:  # show the rest; say why the images are missing
            log.warning("images of %s could not be shown: %s", run.id, error)
    return bundle(
        title=run.title,
        status_name=run.status.name,
        phase=run.status.phase.value,
        elapsed=run.elapsed,
        result=run.result if run.result is not None else (None if run.kind == "run" else run.output),
        summary=run.summary,
        error=run.error,
        images=shown_images,
        provenance=run.provenance,
    )


def show(run: Shown, loop: asyncio.AbstractEventLoop, stopped: Callable[[], bool]) -> None:
    """Display `run` in the current cell: in a kernel, as an output that follows it until it ends.

    Args:
        run: the Run.
        loop: the controller's loop, whose thread calls the Run's listeners.
        stopped: whether following the run has stopped (it ended, or could not be followed further).

    In a terminal IPython (no display ids, and no thread may print there later) it is shown once.
    """
    from IPython import get_ipython
    from IPython.display import display

    shell = get_ipython()
    data, metadata = run._repr_mimebundle_()
    if run.done or not hasattr(shell, "kernel"):  # a terminal shows text/plain of this, once
        display(data, metadata=metadata, raw=True)
        return
    handle = display(data, metadata=metadata, raw=True, display_id=True)
    live = LiveOutput(run, handle, loop, stopped)
    run.on_change(live.changed)
    live.changed(run)  # it may have ended, or changed, before the listener was there


class LiveOutput:
    """Updates one displayed output of a Run: throttled while it runs, its final view once it ends.

    Args:
        run: the Run shown.
        handle: the IPython `DisplayHandle` of its output.
        loop: the controller's loop.
        stopped: whether following the run has stopped.
    """

    def __init__(self, run: Shown, handle: Any, loop: asyncio.AbstractEventLoop, stopped: Callable[[], bool]) -> None:
        self._run, self._handle, self._loop, self._stopped = run, handle, loop, stopped
        self._state = threading.Lock()
        self._publishing = threading.Lock()  # an update under way finishes before the final view
        self._last = time.monotonic()
        self._pending: asyncio.TimerHandle | None = None
        self._ended = False

    def changed(self, run: Shown) -> None:
        """The Run's listener (controller thread), and called once by the cell that showed it."""
        if not run.done:
            self._loop.call_soon_threadsafe(self._schedule, MIN_INTERVAL)
            return
        with self._state:
            if self._ended:
                return
            self._ended = True
        # Not on the controller thread: the final view fetches the run's images through it.
        threading.Thread(target=self._publish, args=(True,), name="inference_nb-final-view", daemon=True).start()

    def _schedule(self, interval: float) -> None:
        """On the controller loop: one update pending at most, `interval` after the last one."""
        if self._ended:
            return
        when = self._loop.time() + max(0.0, self._last + interval - time.monotonic())
        if self._pending is not None:
            if self._pending.when() <= when:
                return
            self._pending.cancel()
        self._pending = self._loop.call_at(when, self._tick)

    def _tick(self) -> None:
        self._pending = None
        # The snapshot changes on this thread too, so a run seen running here is still running.
        if self._ended or self._run.done or self._stopped():
            return
        self._publish(False)
        self._schedule(TICK)

    def _publish(self, final: bool) -> None:
        with self._publishing:
            if self._ended and not final:
                return
            self._last = time.monotonic()
            try:
                data, metadata = self._run._repr_mimebundle_()
                # An empty context: ipykernel then sends under the parent header of the latest request,
                # not one this thread inherited (see docs/ARCHITECTURE.md, "A Run in a cell").
                contextvars.Context().run(self._handle.update, data, metadata=metadata, raw=True)
            except Exception:  # the kernel is going away, say: the output keeps its last view
                log.exception("the output of a run could not be updated")
