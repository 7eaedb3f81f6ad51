"""Every error the client raises: one tree, each saying what happened in words a
user can act on, with the run or task id when there is one, never the key.

    InferenceError
    ├── ConfigurationError        no server to talk to, a malformed profile
    ├── InvalidRequest            refused before any request was sent (bad app id, schema, input)
    ├── TransportError            the request did not get an answer
    │   ├── ConnectError          the server could not be reached
    │   └── RequestTimeout        the server did not answer in time
    ├── StatusError               the server answered with an HTTP error status (status_code, code)
    │   ├── AuthenticationError   401 / 403: the key
    │   ├── NotFoundError         404
    │   ├── ConflictError         409 / 410
    │   ├── RequirementsNotMet    412: the app needs a secret, credential or scope (requirements)
    │   ├── RateLimited           429 (retry_after seconds, when said)
    │   └── ServerError           5xx: the server failed
    ├── BadResponse               a successful answer that is not what the protocol says
    └── RunError                  a run that ended without a result
        ├── RunFailed             failed (the server's reason)
        ├── RunCancelled          cancelled
        └── DeadlineExceeded      a wait ran out of time (the remote run was cancelled)

Other 4xx answers (400, 422…) are plain `StatusError`s; a `StatusError`'s `field_errors` name
each field the server refused (`{"input.width": "must be at most 1024"}`). In 0.1, `ServerError`
stood where `StatusError` stands now, with `BadResponse` under it: code that caught every error
answer with `except ServerError` should catch `StatusError` (and `BadResponse`) instead. Every
name of 0.1 is still here.
"""

from __future__ import annotations


class InferenceError(Exception):
    """Base of every inference_nb client error."""

    def __init__(self, message: str, *, run_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.run_id = run_id

    def __str__(self) -> str:
        return self.message


class ConfigurationError(InferenceError):
    """No server to talk to, or a profile that cannot work (a malformed URL, a missing key)."""


class InvalidRequest(InferenceError, ValueError):
    """Bad input, found before anything was sent; `field` names what is wrong."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TransportError(InferenceError):
    """The request got no answer (after the retries that were safe)."""


class ConnectError(TransportError):
    """The server could not be reached."""


class RequestTimeout(TransportError):
    """The server did not answer in time."""


class StatusError(InferenceError):
    """The server answered with an HTTP error status; the message is the server's own."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str | None = None,
        run_id: str | None = None,
        field_errors: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, run_id=run_id)
        self.status_code = status_code
        """The HTTP status of the answer (4xx or 5xx)."""
        self.code = code
        """The server's error code, when its body names one."""
        self.field_errors = dict(field_errors or {})
        """The server's message for each field it refused, by field ("input.width"); often empty."""


class AuthenticationError(StatusError):
    """401 / 403: the server refused the key (or its absence)."""


class NotFoundError(StatusError):
    """404: no such task, run, app or path on this server."""


class ConflictError(StatusError):
    """409 / 410: the request conflicts with the state of the task or run (or it is gone)."""


class RequirementsNotMet(StatusError):
    """412: the app needs what the account lacks; `requirements` lists each (the server's objects,
    `{"type": "secret" | "credential" | "scope", "key", "message", "action"?}`)."""

    def __init__(self, message: str, *, requirements: list[dict] | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.requirements = list(requirements or [])


class RateLimited(StatusError):
    """429: too many requests; `retry_after` is how long the server asked to wait, when it said."""

    def __init__(self, message: str, *, status_code: int, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, status_code=status_code, **kw)
        self.retry_after = retry_after


class ServerError(StatusError):
    """5xx: the server failed to answer the request."""


class BadResponse(InferenceError):
    """A successful answer that is not what the protocol says (not JSON, fields missing)."""


class RunError(InferenceError):
    """A run or task that ended without a result."""


class RunFailed(RunError):
    """The run failed; the message carries the server's reason."""


class RunCancelled(RunError):
    """The run was cancelled."""


class DeadlineExceeded(RunError, TimeoutError):
    """A wait ran out of time; the run was cancelled on the server (the message says if that failed)."""
