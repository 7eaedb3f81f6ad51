"""Every error the client raises: one tree, each saying what happened in words a
user can act on, with the run or task id when there is one, never the key.

    InferenceError
    ├── ConfigurationError        no server to talk to, a malformed profile
    ├── InvalidRequest            refused before any request was sent (bad app id, schema, input)
    ├── TransportError            the request did not get an answer
    │   ├── ConnectError          the server could not be reached
    │   └── RequestTimeout        the server did not answer in time
    ├── ServerError               the server answered with an error status
    │   ├── AuthenticationError   401 / 403: the key
    │   ├── NotFoundError         404
    │   ├── ConflictError         409 / 410
    │   ├── RateLimited           429 (retry_after seconds, when said)
    │   └── BadResponse           an answer that is not what the protocol says
    └── RunError                  a run that ended without a result
        ├── RunFailed             failed (the server's reason)
        ├── RunCancelled          cancelled
        └── DeadlineExceeded      a wait ran out of time (the remote run was cancelled)
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
    pass


class InvalidRequest(InferenceError, ValueError):
    """Bad input, found before anything was sent; `field` names what is wrong."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class TransportError(InferenceError):
    pass


class ConnectError(TransportError):
    pass


class RequestTimeout(TransportError):
    pass


class ServerError(InferenceError):
    """The server answered with an error; `status_code` and its `code` and message."""

    def __init__(self, message: str, *, status_code: int, code: str | None = None, run_id: str | None = None) -> None:
        super().__init__(message, run_id=run_id)
        self.status_code = status_code
        self.code = code


class AuthenticationError(ServerError):
    pass


class NotFoundError(ServerError):
    pass


class ConflictError(ServerError):
    pass


class RateLimited(ServerError):
    def __init__(self, message: str, *, status_code: int, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, status_code=status_code, **kw)
        self.retry_after = retry_after


class BadResponse(ServerError):
    pass


class RunError(InferenceError):
    pass


class RunFailed(RunError):
    pass


class RunCancelled(RunError):
    pass


class DeadlineExceeded(RunError, TimeoutError):
    pass
