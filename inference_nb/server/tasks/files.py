"""Output files: found in an app's output, written under the data dir, served with auth."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from ..apps.base import File
from ..store import Store, TaskRow


def files_in(value: Any) -> list[File]:
    """Every File in an output that still has to be stored."""
    return [f for f in _walk(value) if f.pending_data is not None]


def _walk(value: Any) -> Iterator[File]:
    if isinstance(value, File):
        yield value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _walk(getattr(value, name))
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _walk(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _walk(item)


def rebase_file_uris(task: dict[str, Any], origin: str, base: str) -> dict[str, Any]:
    """The task with its file URIs pointing at `base` instead of the server address it had.

    A URI is stored with the base URL the task was submitted on; after a restart
    on another port, or when reached under another name, that address is stale.
    """
    if origin == base or not task.get("output"):
        return task
    old, new = f"{origin}/files/{task['id']}/", f"{base}/files/{task['id']}/"

    def rebase(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(old):
            return new + value[len(old) :]
        if isinstance(value, list):
            return [rebase(item) for item in value]
        if isinstance(value, dict):
            return {key: rebase(item) for key, item in value.items()}
        return value

    return {**task, "output": rebase(task["output"])}


def task_files_dir(data_dir: Path, task_id: str) -> Path:
    return data_dir / "files" / task_id


def store_files(store: Store, data_dir: Path, task: TaskRow, files: list[File]) -> None:
    folder = task_files_dir(data_dir, task.id)
    folder.mkdir(parents=True, exist_ok=True)
    taken: set[str] = set()
    for file in files:
        data = file.pending_data
        assert data is not None
        name = _unique(_safe_name(file.filename or "output.bin"), taken)
        (folder / name).write_bytes(data)
        store.save_file(task.id, name, file.content_type or "application/octet-stream", len(data))
        file.filename, file.size = name, len(data)
        file.mark_stored(f"{task.base_url}/files/{task.id}/{quote(name)}")


def _safe_name(filename: str) -> str:
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(filename).name).strip("._") or "output.bin"
    return name[:120]


def _unique(name: str, taken: set[str]) -> str:
    stem, dot, suffix = name.rpartition(".")
    candidate, n = name, 1
    while candidate in taken:
        n += 1
        candidate = f"{stem}-{n}.{suffix}" if dot else f"{name}-{n}"
    taken.add(candidate)
    return candidate
