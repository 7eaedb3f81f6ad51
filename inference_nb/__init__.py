"""inference_nb: runs on inference services from Jupyter, live, with the result as Python data.

import inference_nb
client = inference_nb.Client()        # the embedded server, offline, no key
run = client.run("demo/picture", {"prompt": "A sunset"}).wait()
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Any

from .moved import MovedModules
from .version import __version__

if TYPE_CHECKING:
    from .api import AppSession, Client, embedded_server, hosted_runs, hosted_tasks
    from .client import errors
    from .client.errors import InferenceError
    from .client.profile import Profile
    from .client.task_options import TaskOptions
    from .kernel.run import Run
    from .mapping import Ledger, MapOptions
    from .widget import InferenceWidget, Widget

if not any(isinstance(finder, MovedModules) for finder in sys.meta_path):
    sys.meta_path.append(MovedModules())  # old import paths (moved.py)

# Imported on first use, so that `import inference_nb` stays fast and light.
_LAZY = {
    "Client": "api",
    "AppSession": "api",
    "embedded_server": "api",
    "hosted_tasks": "api",
    "hosted_runs": "api",
    "Run": "kernel.run",
    "MapOptions": "mapping",
    "Ledger": "mapping",
    "Widget": "widget",
    "InferenceWidget": "widget",
    "Profile": "client.profile",
    "TaskOptions": "client.task_options",
    "InferenceError": "client.errors",
    "errors": "client.errors",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'inference_nb' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f".{_LAZY[name]}", __name__)
    return module if name == "errors" else getattr(module, name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext inference_nb`: the magics %%infer, %%ask and %infer_config."""
    from .magics import load_ipython_extension as load_magics

    load_magics(ipython)


__all__ = [
    "AppSession",
    "Client",
    "InferenceError",
    "InferenceWidget",
    "Ledger",
    "MapOptions",
    "Profile",
    "Run",
    "TaskOptions",
    "Widget",
    "__version__",
    "embedded_server",
    "errors",
    "hosted_runs",
    "hosted_tasks",
    "load_ipython_extension",
]
"""The public surface, one list; everything else is reached through these (or `inference_nb.server`)."""
