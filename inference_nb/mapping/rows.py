"""Preparing `map`'s rows: each checked before anything is sent, and given the key that finds it again.

A row's idempotency key (tasks) or run id (runs) is a hash of what the row asks for, so running
the same cell again finds the tasks and runs of the first time and submits nothing new for them.
A retry of a failed row uses a key derived from the same hash (`:retry-1`, `:retry-2`…).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pandas as pd

from ..client.errors import InvalidRequest, NotFoundError
from ..kernel.backends import resolve_schema
from ..kernel.run import Run
from ..wire.runs import ulid_shaped
from ..wire.tasks import APP_ID_PATTERN

if TYPE_CHECKING:
    from ..kernel.base_client import BaseClient


@dataclass(frozen=True)
class Row:
    body: Any
    """The task's input, or the run's message."""
    digest: str
    """Hash of what the row asks for: the root of its idempotency key or run id."""


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

    typed = False

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
        for field, value in row.items():
            try:
                json.dumps(value, allow_nan=False)
            except (TypeError, ValueError):
                raise InvalidRequest(
                    f"row {label}, field {field!r}: a {type(value).__name__} is not JSON data "
                    "(text, numbers, booleans, lists, objects, None); convert it first",
                    field=str(field),
                ) from None
        try:
            self.client.check_task(self.app, row, setup=self.setup, **self.options)
        except InvalidRequest as error:
            raise InvalidRequest(f"row {label}: {error}", field=error.field) from None
        # Options join the digest only when given, so rows mapped before they existed keep their keys.
        return Row(row, row_digest("task", self.app, row, self.setup, *([self.options] if self.options else [])))

    async def start(self, row: Row, attempt: int) -> tuple[Run, bool]:
        """The attempt's task (the existing one, if its key was used before), and whether it had already ended."""
        key = "map-" + attempt_key(row.digest, attempt)
        run = await self.client.start_task(self.app, row.body, setup=self.setup, idempotency_key=key, **self.options)
        return run, run.done  # a new task is never over in its submit answer: an ended one is older


class QuestionRows:
    """One run per row, asking the template filled in with the row."""

    def __init__(
        self, client: BaseClient, template: str, schema: Any, cluster: str | None, *, look_first: bool
    ) -> None:
        self.json_schema, schema_type = resolve_schema(schema)
        self.typed = schema_type is not None
        self.client, self.template, self.schema, self.cluster = client, template, schema, cluster
        self.look_first = look_first
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

    async def start(self, row: Row, attempt: int) -> tuple[Run, bool]:
        """The attempt's run (the existing one, if its id was used before), and whether it had already ended."""
        run_id = run_id_for(attempt_key(row.digest, attempt))
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
