"""How the server calls an app's methods: sync ones on a worker thread, async ones on the loop,
each with as many of the arguments as it takes."""

from __future__ import annotations

import functools
import inspect
from typing import Any

from .base import App


async def call_app_method(method: Any, *args: Any, run_sync: Any) -> Any:
    """Call a sync or async app method with as many of `args` as it takes.

    `run_sync(fn)` runs a plain function off the event loop (a worker thread).
    """
    args = args[: _positional_count(method)]
    if inspect.iscoroutinefunction(method):
        return await method(*args)
    return await run_sync(lambda: method(*args))


def _positional_count(method: Any) -> int:
    """How many positional parameters `method` takes, its self aside."""
    function = getattr(method, "__func__", None)
    return _positional_parameters(method) if function is None else _positional_parameters(function) - 1


@functools.cache
def _positional_parameters(function: Any) -> int:
    # Once per function: `inspect.signature` on every call was a tenth of the server's time with
    # 1,000 tasks ending at once.
    parameters = inspect.signature(function).parameters.values()
    return sum(1 for p in parameters if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD))


def does_nothing(app: App, method: str) -> bool:
    """Whether `app`'s `setup` or `unload` is App's own, which does nothing (no thread need run it)."""
    return getattr(type(app), method) is getattr(App, method)
