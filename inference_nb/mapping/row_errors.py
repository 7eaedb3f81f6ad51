"""How one row of a map stops short, inside the scheduler (never raised to the caller)."""

from __future__ import annotations

from .ledger import Entry


class RowFailed(Exception):
    """This row failed; the others go on."""


class Refused(RowFailed):
    """This row failed, and the server certainly made nothing for it."""


class Claimed(Exception):
    """Another kernel claimed this row meanwhile (its ledger entry is `entry`)."""

    def __init__(self, entry: Entry) -> None:
        self.entry = entry
