"""The worker process of one app in the service's format (docs/ARCHITECTURE.md, "Apps in the service's format").

Run as a script, never imported by the server: it imports only the standard library and the app (which
brings `inferencesh` and pydantic itself), so whatever the app does to its process stays here.

    python worker.py describe APP_DIR        prints what the app offers as one JSON line, then exits
    python worker.py serve APP_DIR           answers requests, one JSON line each, until unload or EOF

The requests come on stdin, the answers go to the stdout the process started with; the app's own
prints go to stderr, which the server logs. Requests: `{"op": "setup", "setup", "metadata"}`,
`{"op": "run", "function", "input", "metadata"}`, `{"op": "unload"}`. Answers: `{"ok": true, ...}`,
or `{"ok": false, "error", "traceback"}`; a `run` whose method is an async generator first sends
`{"update": n}` for each value it yields but the last.
"""

from __future__ import annotations

import asyncio
import importlib
import importlib.machinery
import importlib.util
import inspect
import json
import os
import sys
import threading
import time
import traceback
import typing
from pathlib import Path
from typing import Any

PACKAGE = "inference_app"
"""The name the app's folder is imported under (its own name may be any folder name)."""
LIFECYCLE = ("setup", "unload")


def import_app(folder: Path) -> Any:
    """The app's `inference` module, imported as a submodule of its folder so relative imports work."""
    sys.path.insert(0, str(folder))  # some apps import their sibling modules absolutely
    init = folder / "__init__.py"
    if init.exists():
        spec = importlib.util.spec_from_file_location(PACKAGE, init, submodule_search_locations=[str(folder)])
    else:
        spec = importlib.machinery.ModuleSpec(PACKAGE, None, is_package=True)
        spec.submodule_search_locations = [str(folder)]
    package = importlib.util.module_from_spec(spec)
    sys.modules[PACKAGE] = package
    if spec.loader is not None:
        spec.loader.exec_module(package)
    return importlib.import_module(f"{PACKAGE}.inference")


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and hasattr(value, "model_json_schema") and hasattr(value, "model_validate")


def _hints(method: Any) -> dict[str, Any]:
    try:
        return typing.get_type_hints(method)
    except Exception:
        return getattr(method, "__annotations__", {}) or {}


def _first_param(method: Any) -> str | None:
    params = [p for p in inspect.signature(method).parameters.values() if p.name != "self"]
    return params[0].name if params else None


def functions_of(module: Any) -> dict[str, tuple[str, Any, Any]]:
    """name → (method name, input model, output model): `run`, then every public method of `App` itself
    (not of its bases) whose first parameter is typed with a model and whose return is a model."""
    app_cls = module.App
    run_hints = _hints(app_cls.run)
    first = _first_param(app_cls.run)
    found = {
        "run": (
            "run",
            run_hints.get(first) if _is_model(run_hints.get(first)) else getattr(module, "AppInput", None),
            run_hints.get("return") if _is_model(run_hints.get("return")) else getattr(module, "AppOutput", None),
        )
    }
    inherited = set().union(*(vars(base) for base in app_cls.__mro__[1:]))
    for name, member in vars(app_cls).items():
        if name.startswith("_") or name in LIFECYCLE or name == "run" or name in inherited or not callable(member):
            continue
        hints, first = _hints(member), _first_param(member)
        if first and _is_model(hints.get(first)) and _is_model(hints.get("return")):
            found[name] = (name, hints[first], hints["return"])
    return found


def describe(folder: Path) -> dict[str, Any]:
    """What the server needs to offer the app: its functions' schemas and its setup schema."""
    module = import_app(folder)
    if not isinstance(getattr(module, "App", None), type):
        raise TypeError("inference.py defines no class App")
    functions = []
    for name, (method, model_in, model_out) in functions_of(module).items():
        if not (_is_model(model_in) and _is_model(model_out)):
            raise TypeError(f"App.{method}: its input and output must be pydantic models (AppInput, AppOutput)")
        doc = (inspect.getdoc(getattr(module.App, method)) or "").strip().split("\n")[0]
        functions.append(
            {
                "name": name,
                "description": doc,
                "input_schema": model_in.model_json_schema(),
                "output_schema": model_out.model_json_schema(),
            }
        )
    setup = getattr(module, "AppSetup", None)
    return {
        "description": inspect.cleandoc(vars(module.App).get("__doc__") or ""),  # its own, not BaseModel's
        "functions": functions,
        "setup_schema": setup.model_json_schema() if _is_model(setup) else None,
    }


class Worker:
    """One instance of the app, driven by requests."""

    def __init__(self, folder: Path, reply: Any) -> None:
        self.module = import_app(folder)
        self.app = self.module.App()
        self.functions = functions_of(self.module)
        self._reply = reply

    def metadata(self, values: dict[str, Any]) -> Any:
        from inferencesh import Metadata  # the app imported it already

        return Metadata(**values)  # extra fields (app_variant) are allowed and read as attributes

    async def setup(self, request: dict[str, Any]) -> dict[str, Any]:
        metadata = self.metadata(request["metadata"])
        model = getattr(self.module, "AppSetup", None)
        values = model.model_validate(request.get("setup") or {}) if _is_model(model) else request.get("setup")
        params = [p for p in inspect.signature(self.app.setup).parameters.values()]
        if not params:
            args: tuple = ()
        elif len(params) >= 2:
            args = (values, metadata)
        elif params[0].name == "metadata" or not _is_model(model):
            args = (metadata,)
        else:
            args = (values,)
        await _maybe_await(self.app.setup(*args))
        return {}

    async def run(self, request: dict[str, Any]) -> dict[str, Any]:
        method_name, model_in, _ = self.functions[request["function"]]
        method = getattr(self.app, method_name)
        args = [model_in.model_validate(request["input"])]
        if len(inspect.signature(method).parameters) >= 2:
            args.append(self.metadata(request["metadata"]))
        result = method(*args)
        if inspect.isasyncgen(result):
            result = await self._last_of(result)
        else:
            result = await _maybe_await(result)
        files: list[dict[str, Any]] = []
        _find_files(result, [], files)
        output = result.model_dump(mode="json") if hasattr(result, "model_dump") else result
        return {"output": output, "files": files}

    async def _last_of(self, updates: Any) -> Any:
        """Every value but the last is progress: the count is passed on, the last is the result."""
        last, count = None, 0
        async for value in updates:
            if count:
                self._reply({"update": count})
            last, count = value, count + 1
        if count == 0:
            raise RuntimeError("run yielded nothing: its last yield is the result")
        return last

    async def unload(self, request: dict[str, Any]) -> dict[str, Any]:
        await _maybe_await(self.app.unload())
        return {}


async def _maybe_await(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


def _find_files(value: Any, at: list[Any], found: list[dict[str, Any]]) -> None:
    """Where the output holds an `inferencesh.File` with a local path: the server serves those."""
    if type(value).__name__ == "File" and hasattr(value, "is_local"):
        if value.path and os.path.isfile(value.path):
            found.append({"at": list(at), "path": value.path, "filename": value.filename, "type": value.content_type})
    elif isinstance(getattr(type(value), "model_fields", None), dict):
        for name in type(value).model_fields:
            _find_files(getattr(value, name), [*at, name], found)
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            _find_files(item, [*at, index], found)
    elif isinstance(value, dict):
        for key, item in value.items():
            _find_files(item, [*at, key], found)


def _failure(exc: BaseException) -> dict[str, Any]:
    message = str(exc).strip().removeprefix("Error running app: ")
    return {
        "ok": False,
        "error": f"{type(exc).__name__}: {message}" if message else type(exc).__name__,
        "traceback": "".join(traceback.format_exception(exc)),
    }


def _watch_parent() -> None:
    """End this process when the server's process is gone, even while the app is stuck."""
    parent = os.getppid()
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(1)


def serve(folder: Path, channel: Any) -> int:
    def reply(message: dict[str, Any]) -> None:
        channel.write(json.dumps(message) + "\n")
        channel.flush()

    loop = asyncio.new_event_loop()  # one loop for the process's life: apps keep loop-bound clients
    try:
        worker = Worker(folder, reply)
    except BaseException as exc:
        reply(_failure(exc))
        return 1
    reply({"ok": True, "pid": os.getpid()})
    for line in sys.stdin:
        request = json.loads(line)
        try:
            answer = loop.run_until_complete(getattr(worker, request["op"])(request))
        except SystemExit as exc:
            reply({"ok": False, "fatal": True, "error": f"the app called sys.exit({exc.code!r})", "traceback": ""})
            return 1
        except BaseException as exc:  # the app's failure is the task's, told back to the server
            reply(_failure(exc))
            continue
        reply({"ok": True, **answer})
        if request["op"] == "unload":
            return 0
    return 0


def main(argv: list[str]) -> int:
    command, folder = argv[0], Path(argv[1]).resolve()
    os.chdir(folder)  # the service runs an app with its folder as the working directory
    channel = os.fdopen(os.dup(1), "w")  # the answers' channel; the app's prints go to stderr instead
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    if command == "describe":
        try:
            answer = {"ok": True, **describe(folder)}
        except BaseException as exc:
            answer = _failure(exc)
        channel.write(json.dumps(answer) + "\n")
        channel.flush()
        return 0
    threading.Thread(target=_watch_parent, daemon=True).start()
    return serve(folder, channel)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
