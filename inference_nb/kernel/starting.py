"""Starting a task or run so that nothing started is lost when its caller stops waiting.

`client.run` and `client.ask` block while the create is on its way. When the caller stops waiting
(a kernel interrupt, or `START_TIMEOUT`), the create may have reached the server all the same. A
`Start` knows how to send that very create again: with the same Idempotency-Key (tasks) or run id
(runs) the server answers with the first task or run, whatever became of the first answer. Sending
it again rather than asking by id also covers a create still on its way: if it had not arrived,
it is made now, and the late first copy then finds it. What was found is cancelled, and the error
says which id (docs/ARCHITECTURE.md, "Anything started can be found again").
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from ..client.errors import ConflictError, InferenceError
from .controller import Controller
from .run import CANCEL_TIMEOUT


@dataclass
class Start:
    """What one `run` / `ask` has sent so far."""

    kind: str
    """"task" or "run", for messages."""
    label: str
    """What was started (the app, or the question's start), for messages."""
    again: Callable[[], Awaitable[str]] | None
    """Sends the same create once more and answers the id; set with `sent`, and left None when the
    server is not known to answer a repeated create with the first (no Idempotency-Key honoured)."""
    cancel: Callable[[str], Awaitable[None]]
    """Cancels the task or run of that id."""
    find_again: str
    """How the user finds it later by hand, for the message when it cannot be cancelled now."""
    sent: bool = False
    """Whether the create may have left: set just before it is sent."""


async def _withdraw(start: Start) -> tuple[str, bool]:
    """The id of what `start` created, cancelled now (True) or found already ended (False)."""
    assert start.again is not None
    found = await start.again()
    try:
        await start.cancel(found)
    except ConflictError:
        return found, False
    return found, True


def withdrawn(start: Start, controller: Controller, stop: BaseException, *, start_timeout: float) -> BaseException:
    """The error to raise for a start its caller gave up on (`stop`: a KeyboardInterrupt or the
    start's TimeoutError), once whatever it may have created is found and cancelled."""
    kind = KeyboardInterrupt if isinstance(stop, KeyboardInterrupt) else TimeoutError
    if kind is KeyboardInterrupt:
        head = f"interrupted while starting {start.label}"
    else:
        head = f"the server had not accepted the {start.kind} ({start.label}) after {start_timeout:g} s"
    if not start.sent:
        return kind(f"{head}; nothing was sent, so nothing was started")
    if start.again is None:
        return kind(f"{head}; the {start.kind} may have started on the server, which cannot be asked for it "
                    f"by its create (it honours no Idempotency-Key): look for it with client.runs()")  # fmt: skip
    try:
        found, cancelled = controller.call(_withdraw(start), CANCEL_TIMEOUT)
    except (InferenceError, TimeoutError, KeyboardInterrupt) as error:
        return kind(f"{head}; the {start.kind} may have started on the server and could not be looked up "
                    f"({type(error).__name__}: {error}): {start.find_again}")  # fmt: skip
    outcome = "was cancelled on the server" if cancelled else "had already ended on the server"
    return kind(f"{head}; {start.kind} {found} {outcome}")
