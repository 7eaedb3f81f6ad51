"""Wire models of the runs API, shared by the server and the client.

Field names are the seed's (camelCase). The newer names `initialPrompt` and
`resultSchema`, and `runId` for a client-chosen id, are accepted as aliases.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any, Literal

import jsonschema
import referencing.exceptions
from pydantic import BaseModel, ConfigDict, Field, model_validator

RunStatus = Literal["pending", "running", "paused", "done", "failed"]
JobStatus = Literal["pending", "running", "success", "failure", "stalled"]
ResultType = Literal["resolution", "rejection", "interrupt"]

RUN_TERMINAL = ("done", "failed")
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
    model_config = ConfigDict(extra="allow")

    schema_: dict[str, Any] | None = Field(default=None, alias="schema")


class FunctionRef(BaseModel):
    service: str
    function: str


class CreateRunRequest(BaseModel):
    """Body of `POST /clusters/{clusterId}/runs`. Other fields of newer versions are ignored."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str | None = Field(default=None, description="A client-chosen run id; creating it again returns it.")
    runId: str | None = None
    message: str | None = None
    initialPrompt: str | None = None
    result: ResultSpec | None = None
    resultSchema: dict[str, Any] | None = None
    name: str | None = Field(default=None, max_length=200)
    attachedFunctions: list[FunctionRef] | None = None

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
        return self.message if self.message is not None else self.initialPrompt

    @property
    def result_schema(self) -> dict[str, Any] | None:
        return self.result.schema_ if self.result and self.result.schema_ is not None else self.resultSchema

    @property
    def run_id(self) -> str | None:
        return self.id if self.id is not None else self.runId


class Job(BaseModel):
    """One function call of a run."""

    model_config = ConfigDict(extra="allow")

    id: str
    status: JobStatus
    targetFn: str
    service: str
    resultType: ResultType | None = None
    createdAt: str
    approvalRequested: bool = False
    approved: bool | None = None


class InputRequest(BaseModel):
    """Something a paused run waits for (here: approval of a function call)."""

    model_config = ConfigDict(extra="allow")

    id: str
    type: str
    jobId: str | None = None
    description: str = ""
    createdAt: str
    resolvedAt: str | None = None
    outcome: Literal["approved", "rejected"] | None = None


class Run(BaseModel):
    model_config = ConfigDict(extra="allow")

    id: str
    name: str | None = None
    status: RunStatus
    summary: str | None = None
    result: Any = None
    failureReason: str | None = None
    createdAt: str


class RunDetail(BaseModel):
    """`GET /clusters/{clusterId}/runs/{runId}`, and each line of its stream."""

    model_config = ConfigDict(extra="allow")

    run: Run
    jobs: list[Job] = Field(default_factory=list)
    inputRequests: list[InputRequest] = Field(default_factory=list)


class ApprovalRequest(BaseModel):
    """Body of `POST /clusters/{clusterId}/jobs/{jobId}/approval`."""

    model_config = ConfigDict(extra="forbid")

    approved: bool


def check_schema(schema: dict[str, Any]) -> str | None:
    """What is wrong with `schema` as a JSON Schema (its own rules, and that its
    local references resolve), or None."""
    declared = schema.get("$schema")
    if declared is not None and not isinstance(declared, str):
        return "$schema must be a URI string (at $schema)"
    try:
        validator = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        validator.check_schema(schema)
        # Validating any value follows every reference it meets; a dangling one shows here.
        for _ in validator(schema).iter_errors(None):
            pass
    except jsonschema.SchemaError as error:
        where = "/".join(str(p) for p in error.path) or "(top level)"
        return f"{error.message} (at {where})"
    except RecursionError:
        return "it is nested too deeply"
    except referencing.exceptions.Unresolvable as error:
        return f"a reference does not resolve: {error}"
    return None
