"""The widget: an Ask form (message + result schema) and an App form, a live status
bar, and results; the front end is `js/widget.ts`, bundled into `static/widget.js`.

Traits only, and message handlers that hand work to the controller loop: every
trait is written from the controller thread (docs/ARCHITECTURE.md, "The controller"), and the browser talks
through id-tagged custom messages, answered `accepted` or `refused` with that id.
Nothing secret is ever a trait: widget state is saved into the notebook file.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import anywidget
import traitlets
from ipywidgets import widget_serialization

from ..client.app_ids import resolve_app
from ..client.errors import InferenceError, InvalidRequest
from ..kernel.backends import resolve_schema
from ..kernel.base_client import BaseClient
from ..kernel.run import Run
from ..wire.statuses import Phase
from .bundle import Shared, bundle, loader, shared, watch
from .form_checks import check
from .key_order import with_key_order
from .run_model import RunModel, image_payloads
from .run_view import RUN_STEPS, run_view, task_steps
from .submit import json_field, start_app
from .text_fallback import summary_html, summary_text
from .typed import typed_traits

log = logging.getLogger("inference_nb")

SCHEMA_EXAMPLES = [
    {
        "label": "List of objects with name and qty",
        "schema": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "qty": {"type": "number"}},
                "required": ["name", "qty"],
            },
        },
    },
    {"label": "One number", "schema": {"type": "object", "properties": {"value": {"type": "number"}}}},
    {
        "label": "Yes or no, with a reason",
        "schema": {"type": "object", "properties": {"answer": {"type": "boolean"}, "reason": {"type": "string"}}},
    },
    {"label": "List of strings", "schema": {"type": "array", "items": {"type": "string"}}},
]


class InferenceWidget(anywidget.AnyWidget):
    """Ask a question or run an app, watch it live, get the result in the kernel.

    `InferenceWidget(message=..., schema=...)`, `InferenceWidget(mode="app", app=..., input=...)`
    or `client.widget(...)`; the shown run is `widget.run`, its result `widget.result` / `widget.df`;
    what is typed in the forms is `widget.message` and `widget.input` (sent back as it is typed, typed.py).

    Args:
        client: where runs go (default: a new client, on the embedded server unless the
            environment names a hosted service).
        mode: the form shown first, "ask" or "app".
        message: Ask: the question.
        schema: Ask: the result's JSON Schema, or a pydantic model / type (then shown read-only).
        app: App: the app selected at first (`namespace/name`: its newest version).
        input: App: input values to pre-fill.
        setup: App: setup parameters to pre-fill.
        session: App: "none", "new" or "last".
        cluster: where questions go (default: the client's).

    Raises:
        InvalidRequest: `schema` is neither a JSON Schema dict nor a type, or the server has no app `app`.
        StatusError, TransportError: the server's app list could not be read.
        FrontEndMissing: the front end is not built (a source checkout before `npm run build`).
    """

    _esm = traitlets.Unicode().tag(sync=True)
    """The small loader of the front end (docs/ARCHITECTURE.md, "Packaging: one bundle per page")."""
    _shared = traitlets.Dict(value_trait=traitlets.Instance(Shared)).tag(sync=True, **widget_serialization)
    """Values stored once per kernel, not per widget: "bundle" (the front end) and "apps"."""

    mode = traitlets.Unicode("ask").tag(sync=True)
    """Which form shows first: "ask" or "app"."""
    server = traitlets.Unicode("").tag(sync=True)
    """Where runs go, for people ("embedded server" or a base URL); never a key."""
    message = traitlets.Unicode("").tag(sync=True)
    """Ask: the question, pre-filled, then as typed (the front end sends it back, debounced)."""
    schema_text = traitlets.Unicode("").tag(sync=True)
    """Ask: the result schema as JSON text, pre-filled, then as typed."""
    schema_examples = traitlets.List(traitlets.Dict()).tag(sync=True)
    """Ask: ready schemas to pick from."""
    schema_locked = traitlets.Bool(False).tag(sync=True)
    """Ask: the schema is a pydantic model's; the front end shows it read-only."""
    app = traitlets.Unicode("").tag(sync=True)
    """App: the app selected (at first, then as picked)."""
    input_values = traitlets.Dict().tag(sync=True)
    """App: the input values of `app`, pre-filled, then as typed."""
    setup_text = traitlets.Unicode("").tag(sync=True)
    """App: setup parameters as JSON text, pre-filled, then as typed."""
    session = traitlets.Unicode("none").tag(sync=True)
    """App: the session choice, "none", "new" or "last" (at first, then as picked)."""
    last_session_id = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    """App: the session "last" continues (the newest one started here)."""
    runs = traitlets.List(traitlets.Instance(RunModel)).tag(sync=True, **widget_serialization)
    """Every run started here, oldest first, as references to their `RunModel`s (run_model.py)."""
    current = traitlets.Unicode(None, allow_none=True).tag(sync=True)
    """The id of the run shown."""

    def __init__(
        self,
        client: BaseClient | None = None,
        *,
        mode: str = "ask",
        message: str = "",
        schema: Any = None,
        app: str = "",
        input: dict[str, Any] | None = None,
        setup: dict[str, Any] | None = None,
        session: str = "none",
        cluster: str | None = None,
    ) -> None:
        esm, front_end = loader(), bundle()  # first, so that an unbuilt front end is the error shown
        self._client = client or BaseClient()
        json_schema, self._schema_type = resolve_schema(schema)
        listed = self._client.apps()
        chosen = resolve_app(app, listed)["id"] if app else None  # `namespace/name`: its newest version
        apps = [  # each with its schemas' key order: saved state sorts keys (key_order.py)
            with_key_order({k: a.get(k) for k in ("id", "description", "input_schema", "setup_schema")})
            for a in listed
            if a.get("latest", True) or a.get("id") == chosen  # an older version only when asked for
        ]
        super().__init__(
            mode=mode,
            server=self._client.profile("tasks").label,
            message=message,
            schema_text=json.dumps(json_schema, indent=2) if json_schema else "",
            schema_examples=[with_key_order(example) for example in SCHEMA_EXAMPLES],
            schema_locked=self._schema_type is not None,
            _esm=esm,
            _shared={"bundle": front_end, "apps": shared(apps)},
            app=chosen or (apps[0]["id"] if apps else ""),
            input_values=input or {},
            setup_text=json.dumps(setup, indent=2) if setup else "",
            session=session,
        )
        self._cluster = cluster
        self._tracked: dict[str, Run] = {}
        self._models: dict[str, RunModel] = {}
        self._fetching: set[str] = set()
        self._handlers: set[asyncio.Task] = set()
        self._task_steps = task_steps(self._client.profile("tasks").numbering)
        self.on_msg(self._on_message)
        watch(self, self._client.controller.loop)

    # what the kernel side reads

    @property
    def apps(self) -> list[dict[str, Any]]:
        """The server's apps with their input and setup schemas, as the App form offers them."""
        return [{k: v for k, v in app.items() if k != "key_order"} for app in self._shared["apps"].value]

    @property
    def input(self) -> dict[str, Any]:
        """App: the input of the selected app (`app`) as the form holds it: pre-filled, then as typed."""
        return dict(self.input_values)

    @property
    def run(self) -> Run | None:
        """The run shown in the widget (the newest one started, or the one picked in its history)."""
        return self._tracked.get(self.current or "")

    @property
    def result(self) -> Any:
        """The shown run's result (typed when the schema was a pydantic model), or None."""
        return self.run.result if self.run else None

    @property
    def df(self) -> Any:
        """The shown run's result as a DataFrame.

        Raises:
            InferenceError: no run was started here yet, or the shown run has not ended.
        """
        if self.run is None:
            raise InferenceError("no run has been started from this widget yet")
        return self.run.df

    # messages from the browser

    def _on_message(self, _widget: Any, content: Any, buffers: list[Any] | None) -> None:
        # On the kernel's shell thread (or a subshell's): hand over, set no trait here. The buffers
        # are views of the message's frames: copied before the message is let go.
        data = [bytes(b) for b in buffers or []]
        loop = self._client.controller.loop
        loop.call_soon_threadsafe(self._spawn, content, data)

    def _spawn(self, content: Any, buffers: list[bytes]) -> None:
        task = asyncio.get_running_loop().create_task(self._handle(content, buffers))
        self._handlers.add(task)
        task.add_done_callback(self._handlers.discard)

    async def _handle(self, content: Any, buffers: list[bytes]) -> None:
        request_id = content.get("id") if isinstance(content, dict) else None
        try:
            if not isinstance(content, dict):
                raise InvalidRequest("a message must be an object")
            run_id = await self._dispatch(content, buffers)
        except InvalidRequest as error:
            self.send({"type": "refused", "id": request_id, "message": str(error), "field": error.field})
        except InferenceError as error:
            self.send({"type": "refused", "id": request_id, "message": str(error), "field": None})
        except Exception as error:  # an answer is owed; the traceback goes to the kernel log
            log.exception("the widget could not handle %r", content.get("type"))
            self.send({"type": "refused", "id": request_id, "message": f"{type(error).__name__}: {error}",
                       "field": None})  # fmt: skip
        else:
            self.send({"type": "accepted", "id": request_id, "run_id": run_id})

    async def _dispatch(self, content: dict[str, Any], buffers: list[bytes]) -> str | None:
        kind = content.get("type")
        if kind == "ping":  # the front end asks whether a kernel object stands behind it
            return None
        if kind == "submit":
            run = await (self._ask(content) if content.get("mode") == "ask" else self._start_app(content, buffers))
            self._track(run)
            return run.id
        if kind == "typed":  # what the forms hold, sent back as it is typed (typed.py)
            with self.hold_sync():
                for name, value in typed_traits(content, schema_locked=self.schema_locked).items():
                    setattr(self, name, value)
            return None
        if kind == "check":  # a form field checked while it is typed (form_checks)
            await check(self._client, content, cluster=self._cluster)
            return None
        if kind in ("cancel", "approve", "select"):
            run = self._tracked.get(str(content.get("run_id")))
            if run is None:
                raise InvalidRequest(f"no run {content.get('run_id')!r} was started from this widget", field="run_id")
            if kind == "cancel":
                await run.cancel_async()
            elif kind == "approve":
                await run.approve_async(bool(content.get("approved")), job_id=content.get("job_id"))
            else:
                self.current = run.id
            return run.id
        raise InvalidRequest(f"unknown message type {kind!r}", field="type")

    async def _ask(self, content: dict[str, Any]) -> Run:
        schema = self._schema_type if self.schema_locked else json_field(content.get("schema_text"), "schema")
        return await self._client.start_question(str(content.get("message") or ""), schema, cluster=self._cluster)

    async def _start_app(self, content: dict[str, Any], buffers: list[bytes]) -> Run:
        run = await start_app(self._client, content, buffers, last_session_id=self.last_session_id)
        if content.get("session") == "new" and run.session_id:
            self.last_session_id = run.session_id
        return run

    # keeping the views current (controller thread only)

    def _track(self, run: Run) -> None:
        self._tracked[run.id] = run
        self._publish(run)
        self.current = run.id
        run.on_change(self._publish)

    def _publish(self, run: Run) -> None:
        steps = self._task_steps if run.kind == "task" else RUN_STEPS
        model = self._models.get(run.id)
        if model is None:
            model = self._models[run.id] = RunModel(view=run_view(run, steps=steps))
            self.runs = [*self.runs, model]
        else:  # an equal view is not sent again (traitlets compares)
            model.view = run_view(run, steps=steps, has_images=bool(model.images))
        if run.kind == "task" and run.status.phase is Phase.SUCCEEDED and run.id not in self._fetching:
            self._fetching.add(run.id)
            task = asyncio.get_running_loop().create_task(self._add_images(run, model, steps))
            self._handlers.add(task)
            task.add_done_callback(self._handlers.discard)

    async def _add_images(self, run: Run, model: RunModel, steps: list[dict[str, Any]]) -> None:
        try:
            images = await image_payloads(run, run.fetch_async)
        except Exception as error:  # the rest of the result still shows
            log.warning("images of %s could not be shown: %s", run.id, error)
            return
        if images:
            with model.hold_sync():
                model.images = images
                model.view = run_view(run, steps=steps, has_images=True)

    def close(self) -> None:
        """Close the widget and the models of its runs (each is a comm of its own)."""
        # Also called by ipywidgets' __del__ on a widget whose __init__ refused its arguments.
        for model in list(getattr(self, "_models", {}).values()):
            model.close()
        super().close()

    # what a notebook shows without the front end

    def __repr__(self) -> str:
        return summary_text(self._shown_view(), server=self.server)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        bundle = super()._repr_mimebundle_(**kwargs)
        if bundle is None:
            return None
        data, metadata = bundle
        data["text/html"] = summary_html(self._shown_view(), server=self.server)
        return data, metadata

    def _shown_view(self) -> dict[str, Any] | None:
        # repr may be asked for before __init__ has run to its end (in an error message, a debugger).
        model = getattr(self, "_models", {}).get(self.current or "")
        return model.view if model else None


Widget = InferenceWidget
