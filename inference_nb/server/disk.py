"""A full disk: how it is recognised, named and refused (docs/ARCHITECTURE.md, "Storage")."""

from __future__ import annotations

import errno
import shutil
import sqlite3
from pathlib import Path

MIN_FREE_BYTES = 2**20
"""Below this much free space on the data dir's disk, new work is refused (`check_room`)."""


class DiskFull(RuntimeError):
    """The disk holding the data dir has no room: a write failed, or new work was refused before it
    could fail. Answered with a 507."""


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` is a write that failed for want of space (SQLITE_FULL, ENOSPC, EDQUOT)."""
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def disk_full_message(data_dir: Path) -> str:
    return f"the disk holding the server's data dir ({data_dir}) is full; free some space there and try again"


def check_room(data_dir: Path) -> None:
    """Raise DiskFull when `data_dir`'s disk has less than MIN_FREE_BYTES free: new work is refused
    before it could fail half-way (one statvfs call: a few microseconds)."""
    if shutil.disk_usage(data_dir).free < MIN_FREE_BYTES:
        raise DiskFull(disk_full_message(data_dir))
