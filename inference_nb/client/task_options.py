"""A task's submit options: one keyword-only dataclass, the one place they are listed and described.

`client.run(app, input, **options)` takes its fields, and so do `TasksClient.submit`, `start_task`
and `client.map` (`setup`, `function`, `variant`); `TasksCore.submit` turns them into the request.
A new option is a new field here (and, when it goes in the body, in `wire.tasks.RunTaskRequest`,
which checks its value).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields, replace
from typing import Any

from .errors import InvalidRequest


@dataclass(frozen=True, kw_only=True, slots=True)
class TaskOptions:
    """What a task's submit takes besides its app and input; each is left out of the request when None.

    The values are checked when the request is built (`TasksCore.submit_body`), against the
    tasks API's own model, so an error names the field and what it expected.
    """

    setup: dict[str, Any] | None = None
    """The app's setup parameters."""
    session: str | None = None
    """ "new" to start a session, or the id of one to continue."""
    session_timeout: float | None = None
    """Seconds a new session may stay idle (1..3600, only with `session="new"`)."""
    webhook: str | None = None
    """An http(s) URL the server posts the task to when it ends."""
    idempotency_key: str | None = None
    """The Idempotency-Key header (not part of the body): sending the same key again returns the first
    task, not a new one. When None and the server honours keys, each submit makes its own, so that a
    retried create never makes a second task and an interrupted one can be found again."""
    function: str | None = None
    """The app's function to run (hosted dialect only; default "run")."""
    variant: str | None = None
    """The app's variant to run, as its `inf.yml` names them (default: its default)."""

    def __post_init__(self) -> None:
        key = self.idempotency_key
        if key is not None and not (isinstance(key, str) and key.strip() and key.isprintable()):
            raise InvalidRequest(f"idempotency_key: expected non-empty printable text, not {key!r}",
                                 field="idempotency_key")  # fmt: skip

    @classmethod
    def of(cls, options: dict[str, Any], *, caller: str = "client.run") -> TaskOptions:
        """The options from a caller's keywords.

        Raises:
            InvalidRequest: an unknown option (the known ones are listed) or a bad idempotency key.
        """
        unknown = options.keys() - _NAMES
        if unknown:
            name = min(unknown)
            raise InvalidRequest(f"{caller} has no option {name!r}; its options are {', '.join(sorted(_NAMES))}",
                                 field=name)  # fmt: skip
        return cls(**options)

    def body(self, app: str, input: Any) -> dict[str, Any]:
        """The create's JSON body: `app`, `input` and every option given that goes in the body."""
        body = {"app": app, "input": input}
        for name in _BODY_NAMES:
            value = getattr(self, name)
            if value is not None:
                body[name] = value
        return body

    def keyed(self, *, honoured: bool) -> TaskOptions:
        """These options with a new random Idempotency-Key when none is given and the server keeps keys
        (`honoured`: `Profile.idempotent_create`; a key sent to one that drops it protects nothing)."""
        if self.idempotency_key is not None or not honoured:
            return self
        return replace(self, idempotency_key=str(uuid.uuid4()))


_NAMES = frozenset(f.name for f in fields(TaskOptions))
_BODY_NAMES = tuple(f.name for f in fields(TaskOptions) if f.name != "idempotency_key")
