"""Files: outputs found in an app's output, uploads, and input files resolved to local bytes.

Every stored file has an owner (the task whose output it is, or the upload it came
from), lives at `files/<owner>/<name>` under the data dir, and is served with auth
at `<base>/files/<owner>/<name>`. An input that names such a URI reads that file.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from pydantic import BaseModel

from ..apps.base import File
from ..store import Store, TaskRow


def files_in(value: Any) -> list[File]:
    """Every File in an output that still has to be stored."""
    return [f for f in _walk(value) if f.pending_data is not None]


def _walk(value: Any) -> Iterator[File]:
    for _, file in _walk_with_path(value, ()):
        yield file


def _walk_with_path(value: Any, path: tuple[str, ...]) -> Iterator[tuple[tuple[str, ...], File]]:
    if isinstance(value, File):
        yield path, value
    elif isinstance(value, BaseModel):
        for name, item in value:  # its fields, then any extra ones (apps/official/schema_models.py)
            yield from _walk_with_path(item, (*path, name))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _walk_with_path(item, (*path, str(index)))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from _walk_with_path(item, (*path, str(key)))


def stored_file_of(uri: str) -> tuple[str, str] | None:
    """(owner, filename) of a URI of the form `<any base>/files/<owner>/<name>`, else None.

    The host is not compared: a restarted server has another port, and owners are random ids.
    """
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https"):
        return None
    match = re.fullmatch(r".*/files/((?:task|file)_[0-9a-f]+)/([^/]+)", parts.path)
    return (match[1], unquote(match[2])) if match else None


def check_input_files(app_input: BaseModel, store: Store) -> tuple[list[tuple[str, str]], list[dict[str, str]]]:
    """The stored files an input names, and a problem per File field that names none of ours."""
    found, problems = [], []
    for path, file in _walk_with_path(app_input, ()):
        ref = stored_file_of(file.uri)
        field = ".".join(("input", *path))
        if ref is None:
            problems.append(
                {
                    "field": field,
                    "message": f"{file.uri[:200]!r} is not a file of this server: upload it with "
                    "POST /files (the SDK does so for a local path or data URI) and pass its uri",
                }
            )
        elif store.get_file(*ref) is None:
            problems.append(
                {
                    "field": field,
                    "message": f"no file {ref[1]!r} under {ref[0]} on this server (not uploaded yet, or deleted)",
                }
            )
        else:
            found.append(ref)
    return found, problems


def resolve_input_files(app_input: BaseModel, store: Store, data_dir: Path) -> None:
    """Point each File of an input at its bytes on disk, and fill in what the store knows of it."""
    for _, file in _walk_with_path(app_input, ()):
        ref = stored_file_of(file.uri)
        known = store.get_file(*ref) if ref else None
        if ref is None or known is None:
            continue
        file.attach_local(task_files_dir(data_dir, ref[0]) / ref[1])
        file.filename = file.filename or ref[1]
        file.content_type = file.content_type or known["content_type"]
        file.size = known["size"] if file.size is None else file.size


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
        name = _unique(safe_name(file.filename or "output.bin"), taken)
        (folder / name).write_bytes(data)
        store.save_file(task.id, name, file.content_type or "application/octet-stream", len(data))
        file.filename, file.size = name, len(data)
        file.mark_stored(f"{task.base_url}/files/{task.id}/{quote(name)}")


def safe_name(filename: str) -> str:
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
