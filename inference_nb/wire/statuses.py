"""Task status numberings: the one place that says what a status code means.

A status code means nothing without knowing which numbering the server speaks.
The tasks API document numbers 1..11; the hosted service renumbered in 2026
(0..13, adding Unknown, Dispatched, Cancelling and Rejected). The embedded server
speaks both, as two `Dialect`s (docs/ARCHITECTURE.md, "The two APIs"): each task
keeps the dialect of the route that created it, and a request may ask for either.
Everything else in the package goes through these tables and works with names,
never bare numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum, StrEnum


class Phase(StrEnum):
    """What a status means to a person, whatever the server calls it."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def terminal(self) -> bool:
        """Whether the task or run has ended: succeeded, failed or cancelled."""
        return self in (Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELLED)


@dataclass(frozen=True)
class StatusInfo:
    """One row of a numbering: a status code, its name and its phase."""

    code: int
    """The code in its numbering."""
    name: str
    """The status's name ("Setting Up", "Completed")."""
    phase: Phase
    """What it means: pending, running, succeeded, failed or cancelled."""

    @property
    def terminal(self) -> bool:
        """Whether a task with this status has ended."""
        return self.phase.terminal


@dataclass(frozen=True)
class Numbering:
    """One server's table of status codes, in the order a task passes them."""

    label: str
    """The numbering's name, for messages ("spec (1..11)")."""
    statuses: tuple[StatusInfo, ...]
    """Its rows, in order."""

    def __post_init__(self) -> None:
        # Every status of every snapshot is looked up here (a hot path): by dict, not by scanning the rows.
        object.__setattr__(self, "_by_code", {info.code: info for info in self.statuses})
        names = {_fold(info.name): info for info in self.statuses}
        object.__setattr__(self, "_by_name", {**names, **{info.name: info for info in self.statuses}})

    def by_code(self, code: int) -> StatusInfo:
        """The status with this code.

        Raises:
            KeyError: the numbering has no such code.
        """
        info = self._by_code.get(code)  # type: ignore[attr-defined]
        if info is None:
            raise KeyError(f"status code {code} is not part of the {self.label} numbering")
        return info

    def by_name(self, name: str) -> StatusInfo:
        """The status with this name, ignoring case, spaces, "_" and "-" ("setting_up" is "Setting Up").

        Raises:
            KeyError: the numbering has no such name.
        """
        info = self._by_name.get(name) or self._by_name.get(_fold(name))  # type: ignore[attr-defined]
        if info is None:
            raise KeyError(f"status {name!r} is not part of the {self.label} numbering")
        return info

    def code(self, name: str) -> int:
        """The code of a status name (matched as `by_name` does).

        Raises:
            KeyError: the numbering has no such name.
        """
        return self.by_name(name).code


def _fold(name: str) -> str:
    return name.replace(" ", "").replace("_", "").replace("-", "").lower()


def _table(label: str, rows: list[tuple[int, str, Phase]]) -> Numbering:
    return Numbering(label, tuple(StatusInfo(int(code), name, phase) for code, name, phase in rows))


class SpecStatus(IntEnum):
    """The spec's codes, as the embedded server speaks them."""

    RECEIVED = 1
    QUEUED = 2
    SCHEDULED = 3
    PREPARING = 4
    SERVING = 5
    SETTING_UP = 6
    RUNNING = 7
    UPLOADING = 8
    COMPLETED = 9
    FAILED = 10
    CANCELLED = 11

    @property
    def info(self) -> StatusInfo:
        """This code's row of `SPEC`."""
        return SPEC.by_code(self.value)


_P, _R = Phase.PENDING, Phase.RUNNING

SPEC = _table(
    "spec (1..11)",
    [
        (SpecStatus.RECEIVED, "Received", _P),
        (SpecStatus.QUEUED, "Queued", _P),
        (SpecStatus.SCHEDULED, "Scheduled", _P),
        (SpecStatus.PREPARING, "Preparing", _R),
        (SpecStatus.SERVING, "Serving", _R),
        (SpecStatus.SETTING_UP, "Setting Up", _R),
        (SpecStatus.RUNNING, "Running", _R),
        (SpecStatus.UPLOADING, "Uploading", _R),
        (SpecStatus.COMPLETED, "Completed", Phase.SUCCEEDED),
        (SpecStatus.FAILED, "Failed", Phase.FAILED),
        (SpecStatus.CANCELLED, "Cancelled", Phase.CANCELLED),
    ],
)
"""The numbering of the tasks API document; the embedded server speaks it."""


class HostedStatus(IntEnum):
    """The hosted service's 2026 codes; the embedded server keeps every task's status in them."""

    UNKNOWN = 0
    RECEIVED = 1
    QUEUED = 2
    DISPATCHED = 3
    PREPARING = 4
    SERVING = 5
    SETTING_UP = 6
    RUNNING = 7
    CANCELLING = 8
    UPLOADING = 9
    COMPLETED = 10
    FAILED = 11
    CANCELLED = 12
    REJECTED = 13
    """Admission refused: the task was written already ended and never ran."""

    @property
    def info(self) -> StatusInfo:
        """This code's row of `RENUMBERED_2026`."""
        return RENUMBERED_2026.by_code(self.value)


RENUMBERED_2026 = _table(
    "renumbered 2026 (0..13)",
    [
        (0, "Unknown", _P),
        (1, "Received", _P),
        (2, "Queued", _P),
        (3, "Dispatched", _P),
        (4, "Preparing", _R),
        (5, "Serving", _R),
        (6, "Setting Up", _R),
        (7, "Running", _R),
        (8, "Cancelling", _R),
        (9, "Uploading", _R),
        (10, "Completed", Phase.SUCCEEDED),
        (11, "Failed", Phase.FAILED),
        (12, "Cancelled", Phase.CANCELLED),
        (13, "Rejected", Phase.FAILED),
    ],
)
"""The numbering the hosted service's current SDKs speak (docs/ARCHITECTURE.md, "The two APIs").

13 Rejected is an admission refused (on the embedded server: its queue was full); it ended
without running, so to a person it is a failure."""


SPEC_EQUIVALENT = {"Dispatched": "Scheduled", "Cancelling": "Running", "Rejected": "Failed", "Unknown": "Received"}
"""How a status of the 2026 numbering reads in the spec's, which has no such name."""

HOSTED_EQUIVALENT = {"Scheduled": "Dispatched"}
"""How a status of the spec's numbering reads in the 2026 one."""


class Dialect(StrEnum):
    """The two formats of the tasks API (docs/ARCHITECTURE.md, "The two APIs").

    `spec`: the tasks API document (`POST /run`, 1..11, `{"error": {code, message}}`).
    `hosted`: the hosted service today (`POST /apps/run`, 0..13, `{"data": …}` envelope,
    RFC 9457 problem+json errors).
    """

    SPEC = "spec"
    HOSTED = "hosted"

    @property
    def numbering(self) -> Numbering:
        """The status numbering this dialect speaks."""
        return SPEC if self is Dialect.SPEC else RENUMBERED_2026

    def code(self, status: int, numbering: Numbering) -> int:
        """`status`, a code of `numbering`, as this dialect numbers it (matched by name).

        Raises:
            KeyError: `status` is not a code of `numbering`.
        """
        name = numbering.by_code(status).name
        if self is Dialect.SPEC:
            name = SPEC_EQUIVALENT.get(name, name)
        elif numbering is SPEC:
            name = HOSTED_EQUIVALENT.get(name, name)
        return self.numbering.code(name)


DIALECT_HEADER = "Inference-Dialect"
"""Request header that picks the dialect of an answer (`spec` or `hosted`); answers carry it too."""
