"""The widget's live checks: the browser asks, while the user types, whether Submit would be
refused, and the kernel answers with the checks Submit itself runs (docs/ARCHITECTURE.md,
"One validator"), so the form never says "valid" for what Submit then refuses.

A check message is `{"type": "check", "id", "what": "schema", "schema_text"}` or
`{"type": "check", "id", "what": "input", "app", "input", "files"}`; the answer is the usual
`accepted`, or `refused` with the field and the problem.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from ..client.errors import InvalidRequest

if TYPE_CHECKING:
    from ..kernel.base_client import BaseClient

SCHEMA_ONLY = "(the result schema is checked alone)"
"""A message that passes, so that a check of the schema is refused for the schema only."""


async def check(client: BaseClient, content: dict[str, Any], *, cluster: str | None) -> None:
    """Refuse what Submit would refuse in `content`'s form field; return when it would pass.

    Raises:
        InvalidRequest: the field and what is wrong with it.
    """
    what = content.get("what")
    if what == "schema":
        client.check_question(SCHEMA_ONLY, schema_from_text(content.get("schema_text")), cluster=cluster)
    elif what == "input":
        app_input, files = content.get("input"), content.get("files") or []
        if not isinstance(app_input, dict):
            raise InvalidRequest("input: expected an object of the app's input fields", field="input")
        if not isinstance(files, list) or not all(isinstance(path, str) for path in files):
            raise InvalidRequest("files: expected a list of field paths", field="files")
        await client.check_input(str(content.get("app") or ""), app_input, files=files)
    else:
        raise InvalidRequest(f"what: expected 'schema' or 'input', not {what!r}", field="what")


def schema_from_text(text: Any) -> Any:
    """A result schema typed in the form: JSON text, empty for none.

    Raises:
        InvalidRequest: the text is not JSON (field "schema").
    """
    if text is None or not str(text).strip():
        return None
    try:
        return json.loads(str(text))
    except ValueError as error:
        raise InvalidRequest(f"schema: not valid JSON ({error})", field="schema") from None
