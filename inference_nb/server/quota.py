"""The storage quota: the most bytes uploaded and output files may take together (`max_storage`).

Counted from the store's files table (what is kept) plus what is being written now (reserved by
the upload or the task writing it), so two uploads at once cannot both squeeze past it.
docs/ARCHITECTURE.md, "Storage".
"""

from __future__ import annotations

import re

from .disk import DiskFull
from .store import Store

_UNITS = {"": 1, "k": 2**10, "m": 2**20, "g": 2**30, "t": 2**40}


class QuotaExceeded(DiskFull):
    """Writing more would take the stored files past `max_storage`. Answered with a 507."""


class StorageQuota:
    """Reservations against `limit` bytes (None: no limit); used from the server's loop thread only."""

    def __init__(self, store: Store, limit: int | None) -> None:
        self._store = store
        self.limit = limit
        self._reserved = 0

    def reserve(self, nbytes: int) -> None:
        """Count `nbytes` about to be written; `release` them once written (or given up).

        Raises:
            QuotaExceeded: they do not fit; nothing was reserved.
        """
        if self.limit is None:
            return
        used = self._store.stored_bytes() + self._reserved
        if used + nbytes > self.limit:
            raise QuotaExceeded(
                f"the server's storage limit (max_storage, {self.limit} bytes) would be exceeded: {used} bytes of "
                f"files are kept and {nbytes} more were asked for; delete tasks' files (DELETE /tasks/{{id}}/files) "
                "to make room"
            )
        self._reserved += nbytes

    def release(self, nbytes: int) -> None:
        if self.limit is not None:
            self._reserved -= nbytes


def parse_size(text: str) -> int:
    """`'500M'`, `'2G'`, `'1048576'` → bytes (K, M, G, T are powers of 1024).

    Raises:
        ValueError: not a whole number with an optional unit.
    """
    match = re.fullmatch(r"\s*([0-9]+)\s*([kmgt]?)i?b?\s*", text.lower())
    if match is None:
        raise ValueError(f"{text!r} is not a size: a whole number of bytes, or with K, M, G or T after it")
    return int(match[1]) * _UNITS[match[2]]
