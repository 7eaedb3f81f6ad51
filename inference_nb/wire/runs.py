"""Wire models of the runs API, shared by the server and the client.

Field names are the seed's (camelCase). The newer names `initialPrompt` and
`resultSchema`, and `runId` for a client-chosen id, are accepted as aliases.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .schema_words import schema_problem

RunStatus = Literal["pending", "running", "paused", "done", "failed"]
JobStatus = Literal["pending", "running", "success", "failure", "stalled"]
ResultType = Literal["resolution", "rejection", "interrupt"]

RUN_TERMINAL = ("done", "failed")
"""The run statuses that end a run."""
RUN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{6,128}$")
"""A client-chosen run id: 6..128 letters, digits, '-' or '_'."""


_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_run_id() -> str:
    """26 characters sortable by creation time (a ULID), as the hosted service accepts for a run id."""
    return ulid_shaped((int(time.time() * 1000) << 80) | secrets.randbits(80))


def ulid_shaped(value: int) -> str:
    """A 128-bit number as 26 Crockford base32 characters: the shape of a ULID."""
    return "".join(_CROCKFORD[(value >> shift) & 31] for shift in range(125, -1, -5))


class ResultSpec(BaseModel):
    """`result` of a create: `{schema}`, the JSON Schema the run's result must fit."""

    model_config = ConfigDict(extra="allow")

    schema_: dict[str, Any] | None = Field(default=None, alias="schema")
    """The result's JSON Schema (`schema` on the wire)."""


class FunctionRef(BaseModel):
    """A function a run may call: `{service, function}`."""

    service: str
    """The service offering it."""
    function: str
    """The function's name."""


class CreateRunRequest(BaseModel):
    """Body of `POST /clusters/{clusterId}/runs`. Other fields of newer versions are ignored.

    Raises:
        pydantic.ValidationError: (on validation) no message, an `id` that is not 6..128 letters,
            digits, '-' or '_', a field and its alias that disagree, or a field of the wrong type.
    """

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str | None = Field(default=None, description="A client-chosen run id; creating it again returns it.")
    runId: str | None = None
    """The newer name of `id`."""
    message: str | None = None
    """The question or instruction."""
    initialPrompt: str | None = None
    """The newer name of `message`."""
    result: ResultSpec | None = None
    """`{schema}`: the JSON Schema the result must fit."""
    resultSchema: dict[str, Any] | None = None
    """The newer name of `result.schema`."""
    name: str | None = Field(default=None, max_length=200)
    """A name for the run (at most 200 characters)."""
    attachedFunctions: list[FunctionRef] | None = None
    """The functions the run may call (default: all of the cluster's)."""

    @model_validator(mode="after")
    def _one_of_each(self) -> CreateRunRequest:
        for new, old in (("message", "initialPrompt"), ("id", "runId")):
            a, b = getattr(self, new), getattr(self, old)
            if a is not None and b is not None and a != b:
                raise ValueError(f"{new} and {old} are the same field and disagree; send one")
        given = self.result.schema_ if self.result else None
        if given is not None and self.resultSchema is not None and given != self.resultSchema:
            raise ValueError("result.schema and resultSchema are the same field and disagree; send one")
        if not (self.prompt or "").strip():
            raise ValueError("message must be a non-empty question or instruction")
        if self.run_id is not None and not RUN_ID_PATTERN.fullmatch(self.run_id):
            raise ValueError("id must be 6 to 128 letters, digits, '-' or '_'")
        return self

    @property
    def prompt(self) -> str | None:
        """The question, whichever name carried it."""
        return self.message if self.message is not None else self.initialPrompt

    @property
    def result_schema(self) -> dict[str, Any] | None:
        """The result's JSON Schema, whichever name carried it (None: no schema)."""
        return self.result.schema_ if self.result and self.result.schema_ is not None else self.resultSchema

    @property
    def run_id(self) -> str | None:
        """The client-chosen run id, whichever name carried it (None: the server chooses)."""
        return self.id if self.id is not None else self.runId


class Job(BaseModel):
    """One function call of a run."""

    model_config = ConfigDict(extra="allow")

    id: str
    """The job's id (what an approval names)."""
    status: JobStatus
    """pending, running, success, failure or stalled."""
    targetFn: str
    """The function called."""
    service: str
    """The service offering it."""
    resultType: ResultType | None = None
    """How the call ended: resolution (it returned), rejection (it failed) or interrupt; None while it runs."""
    createdAt: str
    """When it was made, as an ISO 8601 time."""
    approvalRequested: bool = False
    """Whether the function needs approval before it runs."""
    approved: bool | None = None
    """The approval's answer, once given."""


class InputRequest(BaseModel):
    """Something a paused run waits for (here: approval of a function call)."""

    model_config = ConfigDict(extra="allow")

    id: str
    """The input request's id."""
    type: str
    """What is asked ("approval")."""
    jobId: str | None = None
    """The job waiting for the answer."""
    description: str = ""
    """What is asked, for people."""
    createdAt: str
    """When it was asked, as an ISO 8601 time."""
    resolvedAt: str | None = None
    """When it was answered."""
    outcome: Literal["approved", "rejected"] | None = None
    """The answer (None while it is open)."""


class Run(BaseModel):
    """The run object of the runs API (not `inference_nb.Run`, the handle a client returns)."""

    model_config = ConfigDict(extra="allow")

    id: str
    """The run's id."""
    name: str | None = None
    """Its name, when it was given one."""
    status: RunStatus
    """pending, running, paused, done or failed."""
    summary: str | None = None
    """What the run did, also when it ended without a result."""
    result: Any = None
    """The result, fitting the schema; null when the run is not done or could not produce one."""
    failureReason: str | None = None
    """Why the run could not run at all (status failed)."""
    createdAt: str
    """When it was created, as an ISO 8601 time."""


class RunDetail(BaseModel):
    """`GET /clusters/{clusterId}/runs/{runId}`, and each line of its stream."""

    model_config = ConfigDict(extra="allow")

    run: Run
    """The run."""
    jobs: list[Job] = Field(default_factory=list)
    """Its function calls, in order."""
    inputRequests: list[InputRequest] = Field(default_factory=list)
    """What it asked for while paused (approvals), answered or open."""


class ApprovalRequest(BaseModel):
    """Body of `POST /clusters/{clusterId}/jobs/{jobId}/approval`."""

    model_config = ConfigDict(extra="forbid")

    approved: bool
    """Whether the function call may go ahead."""


def check_schema(schema: dict[str, Any]) -> str | None:
    """What is wrong with `schema` as a JSON Schema (its own rules, and that its
    local references resolve), in plain words with the place (`wire.schema_words`), or None.

    Args:
        schema: the JSON Schema; its `$schema` picks the draft (default 2020-12).
    """
    # Checked once per schema: an ask checks its schema before sending and again as it sends,
    # and a loop of asks sends the same one each time. repr tells apart all a schema may hold
    # (1, 1.0 and True; lists and tuples), so one text is one verdict.
    key = repr(schema)
    if key not in _SCHEMA_PROBLEMS:
        if len(_SCHEMA_PROBLEMS) >= SCHEMAS_KEPT:
            _SCHEMA_PROBLEMS.clear()
        _SCHEMA_PROBLEMS[key] = schema_problem(schema)
    return _SCHEMA_PROBLEMS[key]


SCHEMAS_KEPT = 256
"""How many schemas' verdicts `check_schema` keeps."""
_SCHEMA_PROBLEMS: dict[str, str | None] = {}
