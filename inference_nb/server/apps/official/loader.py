"""An app folder in the service's format offered as an `App` whose instances are worker processes.

See docs/ARCHITECTURE.md, "Apps in the service's format". `load_app_dir` reads `inf.yml`, asks a
worker process what the app offers, and makes one `App` class per variant; each instance of it
starts its own process in `setup`, passes `run` and the app's functions to it, and stops it in
`unload`.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel

from inference_nb.wire.tasks import DEFAULT_FUNCTION, FUNCTION_NAME_PATTERN

from ..base import App, File, RunContext, app_functions, function
from .manifest import DEFAULT_VARIANT, Variant, read_manifest
from .process import AppProcess, AppProcessEnded, child_env, describe_app
from .schema_models import SchemaModel, schema_model

log = logging.getLogger("inference_nb.server.apps")

DEFAULT_RUN_TIMEOUT = 600.0
"""Seconds a task of such an app may take (its setup included) unless the server is told otherwise."""


class UnknownVariant(LookupError):
    """The app has no variant of that key (the message lists its variants)."""


class ProcessApp(App):
    """An app in the service's format; each instance is one worker process of it."""

    folder: ClassVar[Path]
    """The app's folder."""
    variant: ClassVar[Variant]
    """The variant this class runs."""
    variants: ClassVar[dict[str, type[ProcessApp]]]
    """Every variant of the app, by key, the default first."""

    def __init__(self) -> None:
        self._process: AppProcess | None = None

    @property
    def reusable(self) -> bool:
        return self._process is not None and self._process.alive

    async def setup(self, setup: Any, ctx: RunContext) -> None:
        self._process = AppProcess(self.folder, label=app_id(type(self)), env=child_env(self.variant.env))
        try:
            await self._process.start()
            values = setup.model_dump(mode="json") if isinstance(setup, BaseModel) else setup
            await self._process.request({"op": "setup", "setup": values, "metadata": self._metadata(ctx)})
        except BaseException:
            self._process.kill()  # an instance that failed setup is dropped without unload
            raise

    async def run(self, input: Any, ctx: RunContext) -> Any:
        return await self._call(DEFAULT_FUNCTION, input, ctx)

    async def _call(self, name: str, input: BaseModel, ctx: RunContext) -> BaseModel:
        if self._process is None:
            raise AppProcessEnded(f"{app_id(type(self))} was not set up")
        # Files are copied and read off the event loop: they may be large.
        values = await asyncio.to_thread(_for_worker, dict(input), ctx.work_dir)
        message = {"op": "run", "function": name, "input": values, "metadata": self._metadata(ctx)}
        answer = await self._process.request(message, on_update=lambda count: ctx.progress(count))
        output = await asyncio.to_thread(_with_files, answer["output"], answer["files"])
        model: Any = app_functions(type(self))[name].Output  # a SchemaModel: the app's own model checked it
        return model.of(output)

    async def unload(self) -> None:
        if self._process is not None:
            await self._process.stop()

    def _metadata(self, ctx: RunContext) -> dict[str, Any]:
        """What the app's `metadata` holds: the service's fields, and `app_variant`."""
        return {
            "app_id": type(self).name,
            "app_version_id": type(self).version,
            "task_id": ctx.task_id,
            "worker_id": ctx.worker_id,
            "session_id": ctx.session_id,
            "app_variant": self.variant.key,
        }


def app_id(app_cls: type[App]) -> str:
    # As registry.app_id, which cannot be imported here: the registry imports this module.
    return f"{app_cls.name}@{app_cls.version}"


def load_app_dir(
    folder: str | Path, *, namespace: str = "local", run_timeout: float | None = DEFAULT_RUN_TIMEOUT
) -> type[ProcessApp]:
    """The app in `folder` (an `inference.py` and an `inf.yml`), as the class of its default variant.

    It is offered as `namespace/<name in inf.yml>@<version in inf.yml, else 1.0.0>`. Importing it
    happens in a process of its own, so an app that cannot be imported fails here, not the server.

    Args:
        folder: the app's folder.
        namespace: the first part of its id.
        run_timeout: seconds one of its tasks may take, setup included; None for no limit.

    Raises:
        ValueError: the folder is not an app in the service's format, or importing it failed (the
            message says why).
    """
    folder = Path(folder).expanduser().resolve()
    manifest = read_manifest(folder)
    default = next(iter(manifest.variants.values()))
    described = describe_app(folder, env=child_env(default.env))
    models: dict[str, tuple[type[SchemaModel], type[SchemaModel], str]] = {}
    for entry in described["functions"]:
        if not FUNCTION_NAME_PATTERN.match(entry["name"]):
            log.warning("%s: method %s is not offered: not a function name", folder, entry["name"])
            continue
        label = entry["name"].title().replace("_", "")
        models[entry["name"]] = (
            schema_model(f"{label}Input", entry["input_schema"]),
            schema_model(f"{label}Output", entry["output_schema"]),
            entry["description"],
        )
    setup_schema = described.get("setup_schema")
    attrs: dict[str, Any] = {
        "name": f"{namespace}/{manifest.name}",
        "version": manifest.version,
        "description": manifest.description or described["description"],
        "Input": models[DEFAULT_FUNCTION][0],
        "Output": models[DEFAULT_FUNCTION][1],
        "Setup": schema_model("AppSetup", setup_schema) if setup_schema else None,
        "run_timeout": run_timeout,
        "folder": folder,
        "__module__": __name__,
    }
    for name, (model_in, model_out, doc) in models.items():
        if name != DEFAULT_FUNCTION:
            attrs[f"function_{name}"] = _function_method(name, model_in, model_out, doc)
    variants: dict[str, type[ProcessApp]] = {}
    for key, variant in manifest.variants.items():
        variants[key] = type(f"{manifest.name}[{key}]", (ProcessApp,), {**attrs, "variant": variant})
    for cls in variants.values():
        cls.variants = variants
    return variants[default.key]


def with_variant(app_cls: type[App], key: str | None) -> type[App]:
    """The class that runs variant `key` of an app (None: its default).

    Raises:
        UnknownVariant: the app has no such variant (apps of this package have only `default`).
    """
    variants = app_cls.variants if issubclass(app_cls, ProcessApp) else {DEFAULT_VARIANT: app_cls}
    if key is None:
        return next(iter(variants.values()))
    if key not in variants:
        raise UnknownVariant(f"app {app_id(app_cls)} has no variant {key!r}; its variants: {', '.join(variants)}")
    return variants[key]


def _function_method(name: str, model_in: type[BaseModel], model_out: type[BaseModel], doc: str) -> Any:
    async def call(self: ProcessApp, input: BaseModel, ctx: RunContext) -> BaseModel:
        return await self._call(name, input, ctx)

    return function(call, name=name, description=doc or None, input=model_in, output=model_out)


def _for_worker(value: Any, work_dir: Path) -> Any:
    """An input as the worker reads it: each `File` as `{uri, path, ...}` with `path` a copy of its
    bytes in the task's folder (the app may change it; the stored file stays as it was)."""
    if isinstance(value, File):
        source = value.local_path
        copy = None
        if source is not None:
            work_dir.mkdir(parents=True, exist_ok=True)
            copy = work_dir / f"input-{len(list(work_dir.iterdir()))}-{source.name}"
            shutil.copyfile(source, copy)
        found = {"uri": value.uri, "path": str(copy) if copy else None, "filename": value.filename}
        found.update(content_type=value.content_type, size=value.size)
        return {key: item for key, item in found.items() if item is not None}
    if isinstance(value, dict):
        return {key: _for_worker(item, work_dir) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_for_worker(item, work_dir) for item in value]
    return value


def _with_files(output: Any, files: list[dict[str, Any]]) -> Any:
    """The output with each file the worker found at a local path as a `File` holding its bytes,
    which the engine then stores and gives a served uri."""
    for found in files:
        stored = File.from_path(found["path"], content_type=found.get("type"))
        stored.filename = found.get("filename") or stored.filename
        output = _replaced(output, found["at"], stored)
    return output


def _replaced(value: Any, at: list[Any], new: Any) -> Any:
    """`value` with the item at path `at` replaced by `new` (a copy along the path)."""
    if not at:
        return new
    head, rest = at[0], at[1:]
    if isinstance(value, list):
        return [_replaced(item, rest, new) if index == head else item for index, item in enumerate(value)]
    if isinstance(value, dict):
        return {**value, head: _replaced(value[head], rest, new)}
    return value
