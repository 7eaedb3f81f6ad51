"""An app's input checked against the app's own input schema before a task is sent.

The schema comes from the server's app list, fetched once and again when it does not name
the app or refuses an input (the app may have changed since). Problems read as
`wire.schema_words` words them, with the field named: "input.amount: must be a whole number,
not text" (docs/ARCHITECTURE.md, "One validator").
"""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from ..client.app_ids import resolve_app
from ..client.errors import BadResponse, InvalidRequest, StatusError
from ..wire.schema_words import validator_of, value_problem

FILE_PLACEHOLDER = "upload:pending"
"""What stands for a file not uploaded yet while the input is checked."""


class AppInputs:
    """Checks inputs against the input schemas of one server's apps.

    Args:
        fetch: the server's app list (`AsyncTasksClient.apps`), called on the controller loop.
    """

    def __init__(self, fetch: Callable[[], Awaitable[list[dict[str, Any]]]]) -> None:
        self._fetch = fetch
        self._apps: list[dict[str, Any]] | None = None
        self._listing: asyncio.Future[list[dict[str, Any]]] | None = None
        self._unlisted = False
        self._checks: dict[int, tuple[dict[str, Any], dict[str, Any], Any]] = {}
        """By id of an app list's schema: (that schema, kept so its id is not reused; its form with files
        as text; a validator of that form). Emptied with each new app list."""

    async def check(
        self, app: str, input: Any, files: Sequence[tuple[str | int, ...]] = (), *, function: str | None = None
    ) -> None:
        """Refuse `input` when it breaks the input schema of `app` (its `function`).

        Args:
            app: the app id, with or without `@version` (without: the latest).
            input: the input, files not uploaded yet.
            files: where files sit in it (paths starting at "input"); any text passes there.
            function: the app's function (default "run").

        Raises:
            InvalidRequest: the field that breaks the schema, named (`input.amount`).
        """
        if self._unlisted:
            return
        schema = await self._schema(app, function, fresh=self._apps is None)
        problem = schema and self._problem(schema, input, files)
        if problem:  # checked against the newest schema before refusing: the app may have changed
            schema = await self._schema(app, function, fresh=True)
            problem = schema and self._problem(schema, input, files)
        if problem:
            field, words = problem
            raise InvalidRequest(f"{field}: {words}", field=field)

    async def _schema(self, app: str, function: str | None, *, fresh: bool) -> dict[str, Any] | None:
        found = None if fresh else _find(self._apps or [], app)
        if found is None:
            try:
                self._apps = await self._listed()
                self._checks.clear()
            except (StatusError, BadResponse):  # a server without an app list: it checks inputs itself
                self._unlisted = True
                return None
            found = _find(self._apps, app)
        if found is None:  # an app the list does not show: the server says what is wrong with it
            return None
        functions = {f.get("name"): f for f in found.get("functions") or [] if isinstance(f, dict)}
        schema = functions.get(function or "run", found).get("input_schema")
        return schema if isinstance(schema, dict) else None

    async def _listed(self) -> list[dict[str, Any]]:
        """The app list, fetched once for all the checks that ask at the same time (the rows `map` sends
        at once would otherwise each fetch it)."""
        if self._listing is None or self._listing.done():
            self._listing = asyncio.ensure_future(self._fetch())
        return await asyncio.shield(self._listing)

    def _problem(
        self, schema: dict[str, Any], input: Any, files: Sequence[tuple[str | int, ...]]
    ) -> tuple[str, str] | None:
        """Where `input` breaks `schema`, through the validator built once per schema (a submit's hot path)."""
        kept = self._checks.get(id(schema))
        if kept is None:
            as_text = _files_as_text(schema)
            kept = self._checks[id(schema)] = (schema, as_text, validator_of(as_text))
        _, as_text, validator = kept
        return value_problem(as_text, _with_placeholders(input, files), at="input", validator=validator)


def _find(apps: list[dict[str, Any]], app: str) -> dict[str, Any] | None:
    """The app `app` names, resolved as everywhere else (`client.app_ids`), or None when none matches."""
    try:
        return resolve_app(app, apps)
    except InvalidRequest:
        return None


def _with_placeholders(input: Any, files: Sequence[tuple[str | int, ...]]) -> Any:
    """A copy of `input` with text at each file's place (objects on the way made as uploading will)."""
    if not files:
        return input
    filled = copy.deepcopy(input)
    for path in files:
        holder: Any = filled
        for key in path[1:-1]:
            holder = holder.setdefault(key, {}) if isinstance(holder, dict) else _item(holder, key)
        if isinstance(holder, dict) or _item(holder, path[-1]) is not None:
            holder[path[-1]] = FILE_PLACEHOLDER
    return filled


def _item(holder: Any, key: str | int) -> Any:
    """`holder[key]` for a list that has it, else None (a place uploading will refuse, with its field)."""
    return holder[key] if isinstance(holder, list) and isinstance(key, int) and 0 <= key < len(holder) else None


def _files_as_text(schema: Any) -> Any:
    """`schema` with each file field (`"format": "file"`) also taking text: a file is sent as its URI."""
    if isinstance(schema, list):
        return [_files_as_text(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    copied = {key: _files_as_text(value) for key, value in schema.items()}
    if schema.get("format") == "file":
        return {"anyOf": [{"type": "string"}, copied]}
    return copied
