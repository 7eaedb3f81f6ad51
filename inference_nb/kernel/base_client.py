"""`BaseClient`: starts tasks and runs, finds them again, and hands back Runs.

It is everything `inference_nb.Client` is except its two surfaces, `map` and `widget`,
which sit a layer above and use only the public methods here (docs/ARCHITECTURE.md).
"""

from __future__ import annotations

from collections.abc import Awaitable, Sequence
from typing import TYPE_CHECKING, Any, Literal, NamedTuple

from ..client.app_ids import resolve_app
from ..client.core import Snapshot
from ..client.errors import ConfigurationError, InferenceError, InvalidRequest, NotFoundError
from ..client.files import Found, replaced, to_upload
from ..client.profile import Profile, embedded, from_environment
from ..client.task_options import TaskOptions
from .backends import RunBackend, TaskBackend, resolve_schema
from .controller import Controller
from .embedded_server import embedded_server, embedded_server_running
from .finding_again import FindingAgain
from .run import Run, short_label
from .sessions import AppSession
from .starting import Start, withdrawn

if TYPE_CHECKING:
    import httpx

    from ..client.runs import AsyncRunsClient

DEFAULT_WAIT = 600.0
"""Seconds a wait lasts unless told otherwise: long enough for real work, never forever."""
START_TIMEOUT = 120.0
"""Seconds `run` / `ask` may take to have the server accept the work (retries included)."""


class _TaskSubmit(NamedTuple):
    """A task's create, checked before anything is sent."""

    app: str
    input: dict[str, Any]
    files: list[Found]
    options: TaskOptions
    """With its Idempotency-Key, when the server keeps keys."""
    request: httpx.Request | None
    """Built when there are no files to upload first."""


class BaseClient(FindingAgain):
    """Starts tasks (the tasks API) and runs (the runs API) and hands back Runs.

    Args:
        tasks: where tasks go (a Profile).
        runs: where runs go (a Profile).
        base_url: one server speaking both APIs in the documents' formats; give `key` with it.
        key: the key for `base_url`.
        cluster: where `ask` sends runs (default: the profile's, "demo" on the embedded server).
        wait_timeout: the deadline of a wait that names none, in seconds (default 600).

    Without profiles, `base_url` or `key`: the environment's hosted services
    (INFERENCE_API_KEY, INFERABLE_API_SECRET), otherwise the embedded server, started on first use.

    Raises:
        ConfigurationError: `base_url` without `key`, or `key` without `base_url`.
    """

    def __init__(
        self,
        *,
        tasks: Profile | None = None,
        runs: Profile | None = None,
        base_url: str | None = None,
        key: str | None = None,
        cluster: str | None = None,
        wait_timeout: float = DEFAULT_WAIT,
    ) -> None:
        if (base_url is None) != (key is None):
            raise ConfigurationError("give base_url and key together (or neither)")
        if base_url is not None and key is not None:
            tasks = tasks or Profile("tasks", base_url, key)
            runs = runs or Profile("runs", base_url, key)
        self._tasks_profile, self._runs_profile = tasks, runs
        self._cluster = cluster
        self.wait_timeout = wait_timeout
        """Seconds a wait lasts when it names no timeout."""
        self.controller = Controller.get()
        """The process's controller: the loop thread that follows every Run."""
        self._task_backend: TaskBackend | None = None
        self._runs_client: AsyncRunsClient | None = None
        self._run_backends: dict[tuple[str, Any], RunBackend] = {}
        """By (cluster, result type): one backend each, so its TypeAdapter and event feed are made once."""

    # where work goes

    def profile(self, protocol: Literal["tasks", "runs"]) -> Profile:
        """Where this client sends tasks or runs.

        Chosen on first use: the given profile, else the environment's, else the embedded
        server (which this call then starts).

        Raises:
            ConfigurationError: the environment names a hosted service it cannot use
                (INFERABLE_API_SECRET without INFERABLE_CLUSTER_ID).
            RuntimeError, OSError: the embedded server could not start.
        """
        given = self._tasks_profile if protocol == "tasks" else self._runs_profile
        profile = given or from_environment(protocol)
        if profile is None:
            server = embedded_server()
            profile = embedded(protocol, server.url, server.token)
        if protocol == "tasks":
            self._tasks_profile = profile
        else:
            self._runs_profile = profile
        return profile

    def _tasks(self) -> TaskBackend:
        if self._task_backend is None:
            self._task_backend = TaskBackend(self.profile("tasks"), self.controller, self.wait_timeout)
        return self._task_backend

    def _runs(self, cluster: str | None = None, schema_type: Any = None) -> RunBackend:
        """A backend per schema type (it types the result), all on one connection pool."""
        if self._runs_client is None:
            from ..client.runs import AsyncRunsClient  # the runs API's client and models: only once a run is asked

            self._runs_client = AsyncRunsClient(self.profile("runs"))
        cluster = cluster or self._cluster or self._runs_client.core.profile.cluster
        try:
            key = (cluster, schema_type)
            backend = self._run_backends.get(key)
        except TypeError:  # an unhashable type annotation: a backend of its own
            return RunBackend(self._runs_client, self.controller, self.wait_timeout, cluster, schema_type)
        if backend is None:
            backend = RunBackend(self._runs_client, self.controller, self.wait_timeout, cluster, schema_type)
            self._run_backends[key] = backend
        return backend

    # tasks

    def run(self, app: str, input: dict[str, Any] | None = None, **options: Any) -> Run:
        """Start a task of an app and return its Run at once; the controller follows it.

        Files in the input are uploaded first and replaced by their URI (see `upload`): a
        `pathlib.Path`, a PIL image, and in the hosted dialect a `data:` URI. A plain string is
        always sent as it is, never read as a path: wrap a path in `Path(...)` to send its file.

        Args:
            app: the app id, `namespace/name` or `namespace/name@version`.
            input: the app's input (JSON data, and files as above).
            **options: the fields of `inference_nb.TaskOptions` (`setup`, `session`,
                `idempotency_key`…). Without an `idempotency_key`, each call makes its own when the
                server honours keys, so that a retried create never makes a second task and an
                interrupted or timed-out one is found again and cancelled.

        Raises:
            InvalidRequest: bad input or an unknown option, found before anything is sent (the field
                is named; a Path with no file behind it too); or an app the server does not have (the
                closest ones it has are named).
            StatusError: the server refused the task (`AuthenticationError` for the key).
            TransportError: the server could not be reached.
            BadResponse: the server's answer does not fit the tasks API.
            TimeoutError: the server had not accepted the task after 120 s; a task it may have
                made all the same is cancelled, and the message names it.
            KeyboardInterrupt: interrupted while starting; as for the timeout.
        """
        submit = self._submit(app, input or {}, TaskOptions.of(options))  # in the caller's thread, before sending
        key = submit.options.idempotency_key
        start = Start("task", app, again=None, cancel=self._tasks().cancel,
                      find_again=f"client.run with idempotency_key={key!r} finds it again")  # fmt: skip
        try:
            snapshot = self.controller.call(self._send_task(submit, start), START_TIMEOUT)
        except (KeyboardInterrupt, TimeoutError) as stop:
            raise withdrawn(start, self.controller, stop, start_timeout=START_TIMEOUT) from None
        # Made here rather than on the loop, so the loop starts following it while the caller goes on
        # (docs/ARCHITECTURE.md, "What a submit costs").
        return self._task_run(snapshot, app)

    def check_task(self, app: str, input: dict[str, Any] | None = None, **options: Any) -> None:
        """Check what `run(app, input, **options)` would send, and send nothing.

        Raises:
            InvalidRequest: what is wrong, with the field named.
        """
        input = input or {}
        self._checked_body(app, input, self._tasks().files(input), TaskOptions.of(options, caller="check_task"))

    def _checked_body(self, app: str, input: dict[str, Any], files: list[Found], options: TaskOptions) -> None:
        """Check the body `run` sends, with text in each file's place (a file is sent as its URI)."""
        checked = replaced(input, {at: "" for at, _ in files}) if files else input
        self._tasks().client.core.submit_body(app, checked, options)

    def _submit(self, app: str, input: dict[str, Any], options: TaskOptions) -> _TaskSubmit:
        """A task's create, checked; its request built at once unless files must be uploaded first."""
        backend = self._tasks()
        options = options.keyed(honoured=backend.profile.idempotent_create)
        files = backend.files(input)
        if files:
            self._checked_body(app, input, files, options)
            return _TaskSubmit(app, input, files, options, None)
        return _TaskSubmit(app, input, files, options, backend.client.core.submit(app, input, options))

    async def check_input(
        self, app: str, input: Any, *, files: Sequence[str] = (), function: str | None = None
    ) -> None:
        """Refuse `input` when it breaks the input schema of `app`, before anything is sent (the widget's check).

        Args:
            files: dotted paths in `input` where files will be (any text passes there).

        Raises:
            InvalidRequest: the field that breaks the schema, named (`input.amount`).
        """
        paths = [("input", *path.split(".")) for path in files]
        await self._tasks().inputs.check(app, input, paths, function=function)

    async def start_task(self, app: str, input: dict[str, Any] | None = None, **options: Any) -> Run:
        """`run`, for code on the controller loop (the widget's handlers, `map`). Takes `run`'s options."""
        submit = self._submit(app, input or {}, TaskOptions.of(options, caller="start_task"))
        return self._task_run(await self._send_task(submit), app)

    def _task_run(self, snapshot: Snapshot, app: str) -> Run:
        return Run(self._tasks(), snapshot, label=snapshot.raw.get("app") or app)

    async def _send_task(self, submit: _TaskSubmit, start: Start | None = None) -> Snapshot:
        """Check the input against the app's schema, upload its files, and send the create (on the loop)."""
        backend, app = self._tasks(), submit.app
        places = [at for at, _ in submit.files]
        await backend.inputs.check(app, submit.input, places, function=submit.options.function)
        request = submit.request
        if request is None:
            request = backend.client.core.submit(app, await backend.with_uploads(submit.input, submit.files),
                                                 submit.options)  # fmt: skip
        await self.controller.prepare(backend.feed)  # the task's events then follow the subscription

        def send() -> Awaitable[Snapshot]:
            return backend.client.send_submit(request)

        async def send_again() -> str:
            return (await self.controller.request(send)).id

        if start is not None:
            start.sent = True
            if backend.client.core.idempotent(request):
                start.again = send_again
        try:
            return await self.controller.request(send)
        except NotFoundError as error:
            await self._raise_if_unknown_app(app, error)
            raise

    async def _raise_if_unknown_app(self, app: str, error: NotFoundError) -> None:
        """Turn the server's 404 for an app it lacks into an error naming the closest apps it has.

        The server resolves `namespace/name` to its newest version itself, so this costs a request
        only when starting failed."""
        try:
            apps = await self.controller.request(self._tasks().client.apps)
        except InferenceError:
            return  # the server lists no apps: its own answer is the best there is
        try:
            resolve_app(app.partition(":")[0], apps)  # `…:function`: a missing function is the server's to say
        except InvalidRequest as unknown:
            raise unknown from error

    def upload(self, data: Any, *, filename: str | None = None, content_type: str | None = None) -> str:
        """Upload a file to the task server and return its URI, which an input can name.

        `POST /files`, then the bytes are PUT to the upload URL the server gives, without the key
        (a presigned URL; it may be on another origin).

        Args:
            data: a local path (`str` or `pathlib.Path`), bytes, a `data:` URI, or a PIL image (sent
                as PNG).
            filename: the name the server keeps (default: the path's name, "image.png" for an image).
            content_type: the media type (default: guessed from the name, else application/octet-stream).

        Raises:
            InvalidRequest: no file at the path, or `data` is none of the above (field "data").
            StatusError: the server refused (`NotFoundError`: it takes no uploads).
            TransportError, BadResponse, TimeoutError: as `run`.
        """
        upload = to_upload(data, filename=filename, content_type=content_type)  # read here: errors before sending
        return self.controller.call(self.start_upload(upload), START_TIMEOUT)

    async def start_upload(self, data: Any, *, filename: str | None = None, content_type: str | None = None) -> str:
        """`upload`, for code on the controller loop. Takes `upload`'s arguments (or an `Upload`)."""
        return await self._tasks().upload(to_upload(data, filename=filename, content_type=content_type))

    def session(self, app: str, *, setup: dict[str, Any] | None = None, timeout: float | None = None) -> AppSession:
        """A session of `app`: one app instance, set up once, keeping its state across calls.

        Args:
            app: the app id.
            setup: the setup parameters of the session's instance.
            timeout: seconds the session may stay idle before the server ends it.
        """
        return AppSession(self.run, self._tasks(), app, setup=setup, timeout=timeout)

    def apps(self) -> list[dict[str, Any]]:
        """The apps of the task server, with their input and output schemas.

        Raises:
            StatusError, TransportError, BadResponse: the server refused, could not be reached,
                or gave an answer that does not fit the tasks API.
        """
        return self.controller.call(self._tasks().client.apps())

    # runs

    def ask(
        self,
        message: str,
        schema: Any = None,
        *,
        cluster: str | None = None,
        run_id: str | None = None,
        name: str | None = None,
    ) -> Run:
        """Ask a question (a run of the runs API) and return its Run at once.

        Args:
            message: the question.
            schema: the result's JSON Schema, or a pydantic model / type; with a type, `run.result`
                comes back as instances of it.
            cluster: the cluster whose functions answer (default: the client's).
            run_id: the run's own id (a ULID); asking again with it returns the first run.
            name: a name for the run.

        Raises:
            InvalidRequest: a bad message, schema or run id, found before anything is sent.
            StatusError: the server refused the run.
            TransportError: the server could not be reached.
            BadResponse: the server's answer does not fit the runs API.
            TimeoutError: the server had not accepted the run after 120 s; a run it may have made
                all the same is cancelled, and the message names it.
            KeyboardInterrupt: interrupted while starting; as for the timeout.
        """
        self.check_question(message, schema, cluster=cluster, run_id=run_id, name=name)
        backend = self._runs(cluster)
        from ..wire.runs import new_run_id  # loaded by self._runs

        run_id = run_id or (new_run_id() if backend.profile.idempotent_create else None)
        start = Start("run", repr(short_label(message)), again=None, cancel=backend.cancel,
                      find_again=f"client.get({run_id!r}, kind='run') finds it")  # fmt: skip
        asking = self.start_question(message, schema, cluster=cluster, run_id=run_id, name=name, start=start)
        try:
            return self.controller.call(asking, START_TIMEOUT)
        except (KeyboardInterrupt, TimeoutError) as stop:
            raise withdrawn(start, self.controller, stop, start_timeout=START_TIMEOUT) from None

    def check_question(self, message: str, schema: Any = None, *, cluster: str | None = None, **options: Any) -> None:
        """Check what `ask(message, schema, **options)` would send, and send nothing.

        Raises:
            InvalidRequest: what is wrong, with the field named.
        """
        json_schema, _ = resolve_schema(schema)
        backend = self._runs(cluster)
        backend.client.core.create(message, json_schema, cluster=backend.cluster, **options)

    async def start_question(
        self, message: str, schema: Any = None, *, cluster: str | None = None, run_id: str | None = None,
        name: str | None = None, start: Start | None = None,
    ) -> Run:  # fmt: skip
        """`ask`, for code on the controller loop (the widget's handlers, `map`). Takes `ask`'s options
        (`start`: `ask`'s record of what was sent)."""
        json_schema, schema_type = resolve_schema(schema)
        backend = self._runs(cluster, schema_type)
        run_id, _ = backend.client.core.create(message, json_schema, cluster=backend.cluster, run_id=run_id, name=name)
        create = backend.client.create
        await self.controller.prepare(backend.feed)  # the run's events then follow the subscription

        def send() -> Awaitable[str]:
            return create(message, json_schema, cluster=backend.cluster, run_id=run_id, name=name)

        if start is not None:
            start.sent = True
            if run_id and backend.profile.idempotent_create:
                start.again = lambda: self.controller.request(send)
        created = await self.controller.request(send)
        snapshot = backend.client.core.created(created, message, json_schema, name=name)
        return Run(backend, snapshot, label=short_label(message))

    def __repr__(self) -> str:
        return f"<inference_nb.Client tasks: {self._destination('tasks')}; runs: {self._destination('runs')}>"

    def _destination(self, protocol: Literal["tasks", "runs"]) -> str:
        """Where `protocol`'s work goes, for people, without starting anything to find out."""
        given = self._tasks_profile if protocol == "tasks" else self._runs_profile
        try:
            profile = given or from_environment(protocol)
        except ConfigurationError as error:
            return f"not usable ({error})"
        if profile:
            return profile.label
        return "embedded server" if embedded_server_running() else "embedded server (starts on first use)"
