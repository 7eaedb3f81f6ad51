"""The tasks API without I/O, in either dialect: builds requests and reads answers."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from inference_nb.wire.statuses import DIALECT_HEADER, Dialect, Numbering, Phase
from inference_nb.wire.tasks import HostedRunTaskRequest, RunTaskRequest, Task, TaskProgress

from .core import Progress, Snapshot, Status, headers, json_body, segment, unwrap
from .errors import BadResponse, InvalidRequest
from .profile import Profile
from .task_options import TaskOptions

NO_OPTIONS = TaskOptions()
MAX_KEPT_STATUSES = 256


def to_status(value: int | str, numbering: Numbering) -> Status:
    """A task status from its code or name in the server's numbering; an unknown one is shown, not guessed.

    Args:
        value: a status code (an int) or a status name, any case.
        numbering: the server's numbering (`Profile.numbering`).

    Returns:
        The Status; for a value the numbering lacks, phase RUNNING (not terminal) and the name
        "unknown status …".
    """
    try:
        info = numbering.by_code(value) if isinstance(value, int) else numbering.by_name(value)
    except KeyError:
        return Status(Phase.RUNNING, f"unknown status {value!r}", value)
    return Status(info.phase, info.name, info.code)


class TasksCore:
    """The tasks API without I/O: builds requests and reads answers, never sends anything.

    Every request carries the profile's dialect (the `Inference-Dialect` header), and every
    answer is read in it: a hosted envelope is unwrapped, an answer that says it is in the other
    dialect is refused. Every id is quoted into one path segment here, so the sync and async
    clients share the paths.

    Args:
        profile: the server the requests are for (its URL, key and dialect).
    """

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        """The server the requests are for."""
        # Made once: parsing a URL and normalizing headers cost more than building a submit's body.
        self._headers = headers(profile)
        self._submit_headers = httpx.Headers({**self._headers, "content-type": "application/json"})
        hosted = profile.dialect is Dialect.HOSTED
        self._submit_url = httpx.URL(profile.base_url + profile.run_path, params=None if hosted else {"wait": "false"})
        self._statuses: dict[int | str, Status] = {}
        """By code or name as the server sends them: every event of a task reads its whole timeline again."""

    def _status(self, value: int | str) -> Status:
        status = self._statuses.get(value)
        if status is None:
            status = to_status(value, self.profile.numbering)
            if len(self._statuses) < MAX_KEPT_STATUSES:  # a server inventing names cannot grow it forever
                self._statuses[value] = status
        return status

    def _request(
        self, method: str, path: str, *, extra_headers: dict[str, str] | None = None, **kw: Any
    ) -> httpx.Request:
        url = self.profile.base_url + path
        return httpx.Request(method, url, headers={**self._headers, **(extra_headers or {})}, **kw)

    def submit(self, app: str, input: dict[str, Any], options: TaskOptions = NO_OPTIONS) -> httpx.Request:
        """Start a task without waiting for it, checked first: nothing is sent for a bad field.

        Spec dialect: `POST /run?wait=false`. Hosted: `POST /apps/run`, which does not wait.

        Args:
            app: the app id, `namespace/name` or `namespace/name@version` (hosted: also
                `…:function`).
            input: the app's input (JSON data).
            options: the rest (see `TaskOptions`); without an `idempotency_key`, a new random one
                when the profile honours keys (so the request is safe to retry).

        Raises:
            InvalidRequest: a field does not fit the tasks API or the input is not JSON data
                (`field` names it).
        """
        content = self.submit_body(app, input, options)
        key = options.keyed(honoured=self.profile.idempotent_create).idempotency_key
        sent = self._submit_headers.copy()
        if key is not None:
            sent["idempotency-key"] = key
        return httpx.Request("POST", self._submit_url, headers=sent, content=content)

    def submit_body(self, app: str, input: dict[str, Any], options: TaskOptions = NO_OPTIONS) -> str:
        """The body `submit` sends, checked, without building the request (what a check before sending needs).

        Raises:
            InvalidRequest: as `submit`.
        """
        hosted = self.profile.dialect is Dialect.HOSTED
        if options.function is not None and not hosted:
            raise InvalidRequest('function: only the hosted dialect runs named functions (see hosted_tasks)',
                                 field="function")  # fmt: skip
        body = options.body(app, input)
        try:
            (HostedRunTaskRequest if hosted else RunTaskRequest).model_validate(body)
            content = json.dumps(body, allow_nan=False)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            field = ".".join(str(p) for p in first["loc"]) or "request"
            raise InvalidRequest(f"{field}: {first['msg'].removeprefix('Value error, ')}", field=field) from None
        except (TypeError, ValueError) as error:
            raise InvalidRequest(
                f"input must be JSON data (objects, lists, text, numbers): {error}", field="input"
            ) from None
        return content

    def _task_path(self, task_id: str, tail: str = "") -> str:
        return f"/tasks/{segment(task_id, field='task_id')}{tail}"

    def get(self, task_id: str) -> httpx.Request:
        """`GET /tasks/{task_id}`.

        Raises:
            InvalidRequest: `task_id` is empty.
        """
        return self._request("GET", self._task_path(task_id))

    def cancel(self, task_id: str) -> httpx.Request:
        """`POST /tasks/{task_id}/cancel`.

        Raises:
            InvalidRequest: `task_id` is empty.
        """
        return self._request("POST", self._task_path(task_id, "/cancel"))

    def stream(self, task_id: str) -> httpx.Request:
        """`GET /tasks/{task_id}/stream`, asking for NDJSON.

        Raises:
            InvalidRequest: `task_id` is empty.
        """
        return self._request(
            "GET", self._task_path(task_id, "/stream"), extra_headers={"accept": "application/x-ndjson"}
        )

    def idempotent(self, request: httpx.Request) -> bool:
        """Whether sending this create twice makes one task: it carries an Idempotency-Key and the
        server keeps them (`Profile.idempotent_create`; a key sent to one that drops it protects nothing)."""
        return "idempotency-key" in request.headers and self.profile.idempotent_create

    def list(self, *, limit: int = 20, cursor: str | None = None) -> httpx.Request:
        """`GET /tasks`, newest first.

        Args:
            limit: how many tasks at most.
            cursor: the `next_cursor` of the page before, for the page after it.
        """
        params = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        return self._request("GET", "/tasks", params=params)

    def apps(self) -> httpx.Request:
        """`GET /apps`."""
        return self._request("GET", "/apps")

    def session(self, session_id: str) -> httpx.Request:
        """`GET /sessions/{session_id}`.

        Raises:
            InvalidRequest: `session_id` is empty.
        """
        return self._request("GET", f"/sessions/{segment(session_id, field='session_id')}")

    def sessions(self) -> httpx.Request:
        """`GET /sessions`."""
        return self._request("GET", "/sessions")

    def keepalive(self, session_id: str) -> httpx.Request:
        """`POST /sessions/{session_id}/keepalive`: the session's idle time starts again.

        Raises:
            InvalidRequest: `session_id` is empty.
        """
        return self._request("POST", f"/sessions/{segment(session_id, field='session_id')}/keepalive")

    def end_session(self, session_id: str) -> httpx.Request:
        """`DELETE /sessions/{session_id}`.

        Raises:
            InvalidRequest: `session_id` is empty.
        """
        return self._request("DELETE", f"/sessions/{segment(session_id, field='session_id')}")

    def fetch(self, uri: str) -> httpx.Request:
        """`GET uri`, a file of an output; the key goes only to the server's own origin.

        Args:
            uri: the file's absolute URL, as the output gives it.
        """
        own = urlsplit(uri)[:2] == urlsplit(self.profile.base_url)[:2]
        return httpx.Request("GET", uri, headers=headers(self.profile) if own else {})

    # reading answers

    def check_dialect(self, response: httpx.Response) -> None:
        """Refuse an answer that says it is in the other dialect (its codes would be misread).

        Raises:
            BadResponse: the answer's `Inference-Dialect` names another dialect than the profile's.
        """
        said = response.headers.get(DIALECT_HEADER)
        if said is not None and said.strip().lower() != self.profile.dialect.value:
            raise BadResponse(
                f"{response.request.method} {response.request.url.path}: the server answered in the {said!r} "
                f"dialect, but this profile reads {self.profile.dialect.value!r}"
            )

    def read(self, response: httpx.Response, *, what: str) -> Any:
        """The JSON of a successful answer, unwrapped from a hosted envelope (None for no body).

        Raises:
            BadResponse: the answer is in the other dialect, or its body is not JSON.
        """
        self.check_dialect(response)
        if response.status_code == 204 or not response.content:
            return None
        return unwrap(json_body(response, what=what))

    def snapshot(self, body: Any) -> Snapshot:
        """The Snapshot of a task object (the answer of submit and get, a line of the stream).

        Raises:
            BadResponse: `body` is not a task object of the tasks API.
        """
        body = unwrap(body)
        try:
            task = Task.model_validate(body)
        except ValidationError as error:
            raise BadResponse(f"the server's task object does not fit the tasks API: {error}") from None
        status = self._status(task.status)
        known = self._statuses  # a lookup per entry, not a call: every event carries the whole timeline
        timeline = tuple(((known.get(e["status"]) or self._status(e["status"])).name, e["at"]) for e in task.timeline)
        return Snapshot(
            "task", task.id, status, timeline, output=task.output, error=task.error or None,
            session_id=task.session_id, progress=_progress(task.progress), raw=body,
        )  # fmt: skip

    def stream_update(self, body: Any, last: Snapshot | None = None) -> Snapshot | None:
        """The Snapshot a stream line stands for, or None for a line that is no task.

        The hosted service's stream also sends `{"type": "heartbeat"}` lines and delta events
        (`{"event": "delta", …}`), both skipped, and partial updates `{"data": {…}, "fields": [...]}`,
        laid over the `last` snapshot of the same stream.

        Raises:
            BadResponse: a line that claims to be a task does not fit the tasks API.
        """
        if isinstance(body, dict):
            if body.get("type") == "heartbeat" or body.get("event") == "delta":
                return None
            if isinstance(body.get("data"), dict) and "fields" in body and "id" not in body:
                body = {**(last.raw if last is not None else {}), **body["data"]}
        return self.snapshot(body)

    def page(self, body: Any) -> tuple[list[Snapshot], str | None]:
        """The tasks of a list answer, and the cursor of the next page (None on the last).

        Raises:
            BadResponse: `body` is not `{tasks: [...], next_cursor}` (or a list of tasks) or a
                task does not fit.
        """
        body = unwrap(body)
        if isinstance(body, list):
            return [self.snapshot(t) for t in body], None
        if not isinstance(body, dict) or not isinstance(body.get("tasks"), list):
            raise BadResponse("the task list is not {tasks: [...], next_cursor}")
        return [self.snapshot(t) for t in body["tasks"]], body.get("next_cursor")

    def app_list(self, body: Any) -> list[dict[str, Any]]:
        """The apps of an apps answer (`{"apps": [...]}`, or a list).

        Raises:
            BadResponse: `body` is not an object with a list of app objects.
        """
        body = unwrap(body)
        apps = body if isinstance(body, list) else body.get("apps", []) if isinstance(body, dict) else None
        if not isinstance(apps, list) or not all(isinstance(app, dict) for app in apps):
            raise BadResponse('the apps answer is not {"apps": [...]}')
        return apps

    def cancelled(self, body: Any) -> Status:
        """The status a cancel answer reports. A hosted answer without one (the hosted service says
        nothing more) reads as "Cancelling": the server took the cancel, the task's stream follows.

        Raises:
            BadResponse: a spec answer has no status.
        """
        body = unwrap(body)
        if isinstance(body, dict) and "status" in body:
            return to_status(body["status"], self.profile.numbering)
        if self.profile.dialect is Dialect.HOSTED:
            return to_status("Cancelling", self.profile.numbering)
        raise BadResponse("the cancel answer has no status")

    def session_info(self, body: Any) -> dict[str, Any]:
        """A session object (`{id, status, app_id, expires_at, call_count…}`), from any session answer.

        Raises:
            BadResponse: `body` is not an object with an `id`.
        """
        body = unwrap(body)
        if not isinstance(body, dict) or not isinstance(body.get("id"), str):
            raise BadResponse("the session answer is not a session object with an id")
        return body

    def session_list(self, body: Any) -> list[dict[str, Any]]:
        """The sessions of `GET /sessions` (a list, or `{"sessions": [...]}`).

        Raises:
            BadResponse: `body` is neither.
        """
        body = unwrap(body)
        sessions = body.get("sessions") if isinstance(body, dict) else [] if body is None else body
        if not isinstance(sessions, list):
            raise BadResponse("the session list is not a list of sessions")
        return [self.session_info(s) for s in sessions]


def _progress(field: Any) -> Progress | None:
    """The task's `progress` extension, or None when absent or not in our shape: it is only news."""
    if field is None:
        return None
    try:
        report = TaskProgress.model_validate(field)
    except ValidationError:
        return None
    if report.total is not None and report.done > report.total:
        return None
    return Progress(_number(report.done), None if report.total is None else _number(report.total), report.message)


def _number(value: float) -> float:
    return int(value) if value.is_integer() else value
