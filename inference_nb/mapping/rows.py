"""Preparing `map`'s rows: each checked before anything is sent, and given the key that finds it again.

A row's idempotency key (tasks) or run id (runs) is a hash of what the row asks for (its content
key), so identical rows are one piece of work, and running the same cell again finds the tasks
and runs of the first time. A retry of a failed row uses a key derived from the same hash
(`:retry-1`, `:retry-2`…). A row whose create may have reached the server without its answer is
found again with `find_sent` before it is sent again (docs/ARCHITECTURE.md, "The run ledger").
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import pandas as pd
from pydantic import TypeAdapter

from ..client.errors import InvalidRequest, NotFoundError
from ..kernel.backends import resolve_schema
from ..kernel.run import Run
from ..wire.runs import ulid_shaped
from ..wire.tasks import APP_ID_PATTERN
from .values import NotJSON, json_row

if TYPE_CHECKING:
    from ..kernel.base_client import BaseClient


@dataclass(frozen=True, slots=True)
class Row:
    body: Any
    """The task's input, or the run's message."""
    digest: str
    """Hash of what the row asks for (its content key): the root of its idempotency key or run id."""
    error: str | None = None
    """Why this row cannot be sent (it then fails alone, and nothing is sent for it)."""


CLOCK_SLACK = 300.0
"""Seconds a server's clock may be behind ours: tasks created this long before a row was recorded
are still looked at when finding the row's task again."""
MAX_PAGES = 200
"""Pages of the task list looked through, at most, to find rows whose create was in doubt."""


def row_digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def attempt_key(digest: str, attempt: int) -> str:
    return digest if attempt == 0 else f"{digest}:retry-{attempt}"


def run_id_for(text: str) -> str:
    """26 Crockford base32 characters (the shape of a ULID, which the hosted service wants) derived from `text`."""
    value = int.from_bytes(hashlib.sha256(text.encode()).digest()[:16])
    return ulid_shaped(value)


class TaskRows:
    """One task of `app` per row, with the row as its input."""

    typed_results = False

    def __init__(
        self, client: BaseClient, app: str, setup: dict[str, Any] | None, *, options: dict[str, Any] | None = None
    ) -> None:
        if not APP_ID_PATTERN.match(app):
            raise InvalidRequest(
                f"{app!r} is not an app id (namespace/name or namespace/name@version, lower case); "
                "to send it as a question, pass kind='run'",
                field="app",
            )
        self.client, self.app, self.setup = client, app, setup
        self.options = {name: value for name, value in (options or {}).items() if value is not None}
        """`run`'s other options (`function`, `variant`), the same for every row."""

    def prepare(self, label: str, row: dict[str, Any]) -> Row:
        try:
            row = json_row(row)
        except NotJSON as bad:
            return Row(None, "", error=f"row {label}, {bad}")
        try:
            self.client.check_task(self.app, row, setup=self.setup, **self.options)
        except InvalidRequest as error:
            raise InvalidRequest(f"row {label}: {error}", field=error.field) from None
        # Options join the digest only when given, so rows mapped before they existed keep their keys.
        return Row(row, row_digest("task", self.app, row, self.setup, *([self.options] if self.options else [])))

    async def start(self, row: Row, token: str) -> tuple[Run, bool]:
        """The task for `token` (the existing one, if the server knows its key), and whether it had already ended."""
        key = "map-" + token
        run = await self.client.start_task(self.app, row.body, setup=self.setup, idempotency_key=key, **self.options)
        return run, run.done  # a new task is never over in its submit answer: an ended one is older

    async def attach(self, run_id: str) -> Run:
        return await self.client.attach(run_id, kind="task")

    def typed(self, value: Any) -> Any:
        return value

    async def find_sent(self, wanted: dict[str, tuple[Row, str, float]], known: set[str]) -> dict[str, Run]:
        """The tasks of rows whose create may have reached the server unanswered, by content key.

        A server that keeps Idempotency-Keys finds them itself when the row is sent again with its
        key. Otherwise the tasks created since the earliest of them was recorded are listed, newest
        first, and matched by app and input; `known` (ids other rows hold) are never matched.
        """
        if not wanted or self.client.profile("tasks").idempotent_create:
            return {}
        by_input: dict[str, list[str]] = {}
        for digest, (row, _, _) in wanted.items():
            by_input.setdefault(_canonical(row.body), []).append(digest)
        since = min(recorded for _, _, recorded in wanted.values()) - CLOCK_SLACK
        found: dict[str, str] = {}
        cursor = None
        for _ in range(MAX_PAGES):
            snapshots, cursor = await self.client.list_tasks(limit=100, cursor=cursor)
            for snapshot in snapshots:
                created = _timestamp(snapshot.raw.get("created_at"))
                if created is not None and created < since:
                    cursor = None
                    break
                if snapshot.id in known or not self._same_app(snapshot.raw.get("app")):
                    continue
                digests = by_input.get(_canonical(snapshot.raw.get("input")))
                if digests:
                    found[digests.pop()] = snapshot.id
            if cursor is None or not any(by_input.values()):
                break
        return {digest: await self.attach(run_id) for digest, run_id in found.items()}

    def _same_app(self, app: Any) -> bool:
        """Whether a listed task ran this map's app (`ns/name` matches any of its versions)."""
        return isinstance(app, str) and (app == self.app or ("@" not in self.app and app.split("@")[0] == self.app))


class QuestionRows:
    """One run per row, asking the template filled in with the row."""

    def __init__(
        self, client: BaseClient, template: str, schema: Any, cluster: str | None, *, look_first: bool
    ) -> None:
        self.json_schema, self.schema_type = resolve_schema(schema)
        self.typed_results = self.schema_type is not None
        self.client, self.template, self.schema, self.cluster = client, template, schema, cluster
        self.look_first = look_first
        self._adapter: TypeAdapter | None = None
        client.check_question(template, schema, cluster=cluster)

    def prepare(self, label: str, row: dict[str, Any]) -> Row:
        try:
            message = self.template.format_map(row)
        except KeyError as missing:
            name = missing.args[0]
            raise InvalidRequest(
                f"row {label}: the question names {{{name}}}, but the row has no column {name!r} "
                f"(it has: {', '.join(map(str, row)) or 'none'})",
                field=str(name),
            ) from None
        except (ValueError, IndexError, AttributeError, TypeError) as error:
            raise InvalidRequest(
                f"question template: {error} (placeholders are {{column}}; write {{{{ and }}}} for braces)",
                field="template",
            ) from None
        if not message.strip():
            raise InvalidRequest(f"row {label}: the question is empty", field="message")
        return Row(message, row_digest("run", self.template, message, self.json_schema))

    async def start(self, row: Row, token: str) -> tuple[Run, bool]:
        """The run for `token` (the existing one, if its id was used before), and whether it had already ended."""
        run_id = run_id_for(token)
        if self.look_first:
            # Looked up before creating: a new run may end before the first look at it, so what
            # create returns cannot tell an old ended run from a new one.
            try:
                found = await self.client.attach(
                    run_id, kind="run", cluster=self.cluster, schema=self.schema, follow=False
                )
            except NotFoundError:
                pass
            else:
                if found.done:
                    return found, True
        run = await self.client.start_question(row.body, self.schema, cluster=self.cluster, run_id=run_id)
        return run, False

    async def attach(self, run_id: str) -> Run:
        return await self.client.attach(run_id, kind="run", cluster=self.cluster, schema=self.schema)

    def typed(self, value: Any) -> Any:
        """A result kept in the ledger, typed as the run's own result would be."""
        if self.schema_type is None:
            return value
        if self._adapter is None:
            self._adapter = TypeAdapter(self.schema_type)
        return self._adapter.validate_python(value)

    async def find_sent(self, wanted: dict[str, tuple[Row, str, float]], known: set[str]) -> dict[str, Run]:
        """The runs of rows whose create may have reached the server unanswered: their ids are ours."""
        found = {}
        for digest, (_, token, _) in wanted.items():
            try:
                found[digest] = await self.attach(run_id_for(token))
            except NotFoundError:
                pass
        return found


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _timestamp(value: Any) -> float | None:
    """Seconds since the epoch of a server's ISO time, or None when it has none we can read."""
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def table(inputs: Any) -> tuple[pd.DataFrame, list[str], list[dict[str, Any]]]:
    """The inputs as a frame (what the result keeps), each row's label, and each row as a plain dict."""
    if isinstance(inputs, pd.DataFrame):
        plain = inputs.astype(object).where(inputs.notna(), None)  # NaN and NaT travel as null
        return inputs, [repr(label) for label in inputs.index], plain.to_dict("records")
    if isinstance(inputs, str | bytes | Mapping) or not isinstance(inputs, Iterable):
        raise InvalidRequest("inputs: expected a list of dicts (one per row) or a pandas DataFrame", field="inputs")
    records = list(inputs)
    for i, row in enumerate(records):
        if not isinstance(row, Mapping):
            raise InvalidRequest(f"row {i}: expected a dict of column -> value, not a {type(row).__name__}",
                                 field="inputs")  # fmt: skip
    records = [dict(row) for row in records]
    return pd.DataFrame(records), [str(i) for i in range(len(records))], records
