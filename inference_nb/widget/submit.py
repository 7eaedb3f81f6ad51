"""A Submit of the widget's App form made into a task: its fields checked, its files uploaded.

Every check that can refuse the message without the server runs before anything is uploaded, and
every file is checked before the first is sent, so a refusal leaves nothing behind. A refusal is
an `InvalidRequest` naming the form's field; the widget answers the browser with it.
"""

from __future__ import annotations

import json
from typing import Any

from ..client.errors import InferenceError, InvalidRequest
from ..kernel.base_client import BaseClient
from ..kernel.run import Run

MAX_FILE_BYTES = 8 * 2**20
"""The largest file a submit carries (the front end refuses bigger ones first, js/forms/file-control.ts:
Jupyter Server drops the page's websocket on a message over 10 MiB)."""


async def start_app(
    client: BaseClient, content: dict[str, Any], buffers: list[bytes], *, last_session_id: str | None
) -> Run:
    """The task a submit message of the App form asks for, started (with its files uploaded first).

    Args:
        client: where the task goes.
        content: the message: `app`, `input`, `setup_text`, `session` ("none", "new" or "last"), `files`.
        buffers: the bytes of the files the message carries (`files` maps field paths to indexes).
        last_session_id: the session "last" continues.
    """
    app_input = content.get("input")
    if not isinstance(app_input, dict):
        raise InvalidRequest("input: expected an object of the app's input fields", field="input")
    setup = json_field(content.get("setup_text"), "setup")
    if setup is not None and not isinstance(setup, dict):
        raise InvalidRequest("setup: must be a JSON object", field="setup")
    choice = content.get("session", "none")
    if choice == "last" and not last_session_id:
        raise InvalidRequest("session: no session was started here yet; choose new", field="session")
    session = {"none": None, "new": "new", "last": last_session_id}.get(choice)
    app = str(content.get("app") or "")
    app_input = await _with_files(client, app, app_input, content.get("files"), buffers)
    return await client.start_task(app, app_input, setup=setup, session=session)


async def _with_files(
    client: BaseClient, app: str, app_input: dict[str, Any], files: Any, buffers: list[bytes]
) -> dict[str, Any]:
    """`app_input` with each file sent with the submit uploaded, and its URI at its field's path."""
    if files is None:
        return app_input
    if not isinstance(files, dict):
        raise InvalidRequest("files: expected an object of field path → file", field="files")
    taken = []
    for path, ref in files.items():
        field = f"input.{path}"
        index = ref.get("buffer") if isinstance(ref, dict) else None
        if not isinstance(index, int) or not 0 <= index < len(buffers):
            raise InvalidRequest(f"{field}: the file's bytes did not arrive with the message", field=field)
        name = str(ref.get("filename") or "upload")
        if len(buffers[index]) > MAX_FILE_BYTES:
            limit = f"the widget sends files up to {MAX_FILE_BYTES // 2**20} MiB (client.upload takes bigger ones)"
            raise InvalidRequest(f"{field}: {name} is {len(buffers[index])} bytes; {limit}", field=field)
        taken.append((str(path), field, name, ref.get("content_type") or None, buffers[index]))
    await client.check_input(app, app_input, files=[path for path, *_ in taken])
    for path, field, name, content_type, data in taken:
        try:
            uri = await client.start_upload(data, filename=name, content_type=content_type)
        except InferenceError as error:
            raise InvalidRequest(f"{field}: {name} could not be uploaded: {error}", field=field) from error
        _put(app_input, path.split("."), uri, field)
    return app_input


def _put(value: dict[str, Any], path: list[str], item: Any, field: str) -> None:
    """Set `value[a][b]... = item` for the path a.b..., making the objects on the way."""
    for key in path[:-1]:
        value = value.setdefault(key, {})
        if not isinstance(value, dict):
            raise InvalidRequest(f"{field}: the input has no object at {key!r} to hold the file", field=field)
    value[path[-1]] = item


def json_field(text: Any, field: str) -> Any:
    """JSON text from a form field; empty means None."""
    if text is None or not str(text).strip():
        return None
    try:
        return json.loads(str(text))
    except ValueError as error:
        raise InvalidRequest(f"{field}: not valid JSON ({error})", field=field) from None
