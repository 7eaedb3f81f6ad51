"""Cell magics: a run in a two-line cell. `%load_ext inference_nb`, then

    %%infer demo/picture --as run
    A sunset over mountains

    %%ask --schema list[Item]
    What does our inventory look like?

    %infer_config --url https://example.org --key-env MY_KEY

Each magic parses its line and body (args.py), delegates to one Client per
shell, and displays. A failed run raises, so that nbval / nbclient see the cell
fail; client errors render as one line instead of a traceback through here.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_cell_magic, line_magic, magics_class, no_var_expand
from IPython.display import display
from pydantic_core import to_jsonable_python

from ..client.app_ids import resolve_app
from ..client.errors import InferenceError, InvalidRequest
from ..client.profile import embedded, hosted_runs, hosted_tasks
from ..kernel.base_client import DEFAULT_WAIT, BaseClient
from ..kernel.embedded_server import embedded_server
from ..kernel.run import Run
from . import args as magic_args


def _key(env_name: str) -> str:
    key = os.environ.get(env_name, "").strip()
    if not key:
        raise UsageError(f"%infer_config: {magic_args.env_name_shown(env_name)} is not set in the kernel's environment")
    return key


@dataclass(frozen=True)
class Config:
    url: str | None = None
    """A server speaking both protocols; None: the embedded server, or the environment's hosted one."""
    key_env: str | None = None
    """The environment variable holding the key for `url` (a key typed in a cell would be saved in the notebook)."""
    embedded: bool = False
    """The embedded server even when the environment names a hosted service."""
    hosted: bool = False
    """The hosted services' formats (their status numbering and paths) instead of the documents'."""
    cluster: str | None = None
    timeout: float = DEFAULT_WAIT

    def client(self) -> BaseClient:
        options: dict[str, Any] = {"cluster": self.cluster, "wait_timeout": self.timeout}
        if self.hosted and self.key_env:
            key = _key(self.key_env)
            runs = hosted_runs(key, cluster=self.cluster) if self.cluster else None
            return BaseClient(tasks=hosted_tasks(key, self.url), runs=runs, **options)
        if self.url and self.key_env:
            return BaseClient(base_url=self.url, key=_key(self.key_env), **options)
        if self.embedded:
            server = embedded_server()
            tasks, runs = (embedded(protocol, server.url, server.token) for protocol in ("tasks", "runs"))
            return BaseClient(tasks=tasks, runs=runs, **options)
        return BaseClient(**options)


def _widget(client: BaseClient, **prefill: Any) -> Any:
    from ..widget.inference_widget import InferenceWidget  # anywidget only when a widget is asked for

    return InferenceWidget(client, **prefill)


def _one_line(error: Exception) -> list[str]:
    return [f"{type(error).__name__}: {error}"]


def _magic(method: Callable[..., None]) -> Callable[..., None]:
    """--help returns without running; a client error keeps its type but shows as one line."""

    @functools.wraps(method)
    def wrapper(*args: Any) -> None:
        try:
            method(*args)
        except magic_args.HelpShown:
            pass
        except InferenceError as error:
            # IPython shows what _render_traceback_ returns in place of the traceback.
            error._render_traceback_ = functools.partial(_one_line, error)  # type: ignore[attr-defined]
            raise

    # The line is taken literally: IPython's {var} / $var expansion would mangle inline JSON.
    return no_var_expand(wrapper)


def _check_waiting(args: argparse.Namespace) -> None:
    if args.output == "widget" or args.wait:
        return
    if args.timeout is not None:
        raise UsageError("--timeout limits the wait: with --no-wait, pass it to run.wait(timeout=...) later")
    if args.output is not None:
        raise UsageError(f"--output {args.output} shows a finished run: drop --no-wait, or use --as and wait later")


@magics_class
class InferenceMagics(Magics):
    def __init__(self, shell: Any) -> None:
        super().__init__(shell)
        self._config = Config()
        self._client: BaseClient | None = None
        self._sessions: dict[str, str] = {}
        """The last session %%infer started, by app as written on the magic line."""

    @property
    def client(self) -> BaseClient:
        if self._client is None:
            self._client = self._config.client()
        return self._client

    # the magics

    # Line magics too: IPython refuses a cell magic with an empty body, which is how
    # `--help` and an app run on its defaults are written.
    @line_cell_magic
    @_magic
    def infer(self, line: str, cell: str = "") -> None:
        """Run a task of an app; the cell body is its input. `%infer --help` for the options."""
        args = magic_args.parse(magic_args.INFER, line)
        _check_waiting(args)
        body = self._body(args, cell)
        app_input = magic_args.parse_body(body)
        if app_input is None:
            app_input = {magic_args.main_text_field(args.app, self._input_schema(args.app)): body.strip()}
        session = self._session(args.app, args.session)
        if args.output == "widget":
            # The widget offers new / last / none; "last" there is the session chosen here.
            choice = session if session in (None, "new") else "last"
            widget = _widget(self.client, mode="app", app=args.app, input=app_input, setup=args.setup,
                             session=choice or "none")  # fmt: skip
            if choice == "last":
                widget.last_session_id = session
            self._keep(args.name, widget)
            display(widget)
            return
        run = self.client.run(args.app, app_input, setup=args.setup, session=session)
        if session == "new" and run.session_id:
            self._sessions[args.app] = run.session_id
        self._finish(run, args)

    @line_cell_magic
    @_magic
    def ask(self, line: str, cell: str = "") -> None:
        """Ask a question; the cell body is the message. `%ask --help` for the options."""
        args = magic_args.parse(magic_args.ASK, line)
        _check_waiting(args)
        message = self._body(args, cell).strip()
        schema = self._schema(args.schema)
        if args.output == "widget":
            widget = _widget(self.client, message=message, schema=schema, cluster=args.cluster)
            self._keep(args.name, widget)
            display(widget)
            return
        self._finish(self.client.ask(message, schema, cluster=args.cluster), args)

    @line_magic
    @_magic
    def infer_config(self, line: str) -> None:
        """Show where the magics send work, or change it. `%infer_config --help` for the options."""
        args = magic_args.parse(magic_args.CONFIG, line)
        changes: dict[str, Any] = {k: v for k, v in (("cluster", args.cluster), ("timeout", args.timeout)) if v}
        if args.embedded and (args.url or args.key_env or args.hosted):
            raise UsageError("%infer_config: --embedded takes no --url, --key-env or --hosted")
        if args.embedded:
            changes.update(url=None, key_env=None, embedded=True, hosted=False)
        elif args.hosted:
            key_env = args.key_env or self._config.key_env
            if not key_env:
                raise UsageError("%infer_config: --hosted needs --key-env, the environment variable holding the key")
            changes.update(url=args.url, key_env=key_env, embedded=False, hosted=True)
        elif args.url or args.key_env:
            url, key_env = args.url or self._config.url, args.key_env or self._config.key_env
            if not (url and key_env):
                raise UsageError("%infer_config: give --url with --key-env, the environment variable holding the key")
            changes.update(url=url, key_env=key_env, embedded=False, hosted=False)
        config = replace(self._config, **changes)
        if config != self._config:
            client = config.client()  # first, so that a bad URL or a missing key leaves the old config in place
            if (config.url, config.embedded, config.hosted) != (
                self._config.url,
                self._config.embedded,
                self._config.hosted,
            ):
                self._sessions.clear()  # they live on the old server
            self._config, self._client = config, client
        print(self._describe())

    # helpers

    def _body(self, args: argparse.Namespace, cell: str) -> str:
        return magic_args.interpolate(cell, self.shell.user_ns) if args.interpolate else cell

    def _input_schema(self, app: str) -> dict[str, Any]:
        try:
            return resolve_app(app, self.client.apps()).get("input_schema") or {}
        except InvalidRequest as unknown:
            raise UsageError(f"{unknown} (on {self.client.profile('tasks').label})") from None

    def _session(self, app: str, choice: str | None) -> str | None:
        if choice != "last":
            return choice
        if app not in self._sessions:
            raise UsageError(f"--session last: %%infer has started no session of {app} yet; use --session new")
        return self._sessions[app]

    def _schema(self, text: str | None) -> Any:
        if text is None:
            return None
        if text.lstrip().startswith("{"):
            try:
                return json.loads(text)
            except ValueError as error:
                raise UsageError(f"--schema: not valid JSON ({error})") from None
        try:
            return self.shell.ev(text)
        except Exception as error:
            raise UsageError(f"--schema: {text} is neither a variable nor inline JSON ({error})") from None

    def _keep(self, name: str | None, value: Any) -> None:
        if name:
            self.shell.user_ns[name] = value

    def _finish(self, run: Run, args: argparse.Namespace) -> None:
        self._keep(args.name, run)  # before waiting: a failed or overdue run stays at hand
        if args.wait:
            run.wait(args.timeout)
        self._show(run, args.output)

    def _show(self, run: Run, output: str | None) -> None:
        if output is None:
            display(run)  # its own bundle carries the provenance
            return
        # The Run's own provenance record, so that every form of output is traced alike.
        metadata = {"inference_nb": run.provenance}
        if output == "table":
            display(run.df, metadata=metadata)
        elif output == "image":
            if not run.images:
                raise InferenceError(f"{run.title} has no images to show", run_id=run.id)
            display(*run.images, metadata=metadata)
        else:
            data = to_jsonable_python(run.result if output == "json" else run.raw)
            text = json.dumps(data, indent=2, ensure_ascii=False)
            display({"application/json": data, "text/plain": text}, raw=True, metadata=metadata)

    def _describe(self) -> str:
        tasks, runs = self.client.profile("tasks"), self.client.profile("runs")
        lines = [
            f"tasks server: {tasks.label} (statuses: {tasks.numbering.label})",
            f"runs server:  {runs.label} (cluster {self._config.cluster or runs.cluster})",
            f"wait timeout: {self._config.timeout:g} s",
        ]
        if self._config.key_env:
            lines.append(f"key:          read from {magic_args.env_name_shown(self._config.key_env)}")
        return "\n".join(lines)
