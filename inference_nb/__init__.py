"""inference_nb: runs on inference services from Jupyter, live, with the result as Python data.

import inference_nb
client = inference_nb.Client()        # the embedded server, offline, no key
run = client.run("demo/picture", {"prompt": "A sunset"}).wait()
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .version import __version__

if TYPE_CHECKING:
    from .api import AppSession, Client
    from .client.errors import InferenceError
    from .client.profile import Profile
    from .handle import Run
    from .widget import InferenceWidget, Widget

# Imported on first use, so that `import inference_nb` stays fast and light.
_LAZY = {
    "Client": "api",
    "AppSession": "api",
    "embedded_server": "api",
    "hosted_tasks": "api",
    "hosted_runs": "api",
    "Run": "handle",
    "Widget": "widget",
    "InferenceWidget": "widget",
    "Profile": "client.profile",
    "InferenceError": "client.errors",
    "errors": "client.errors",
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'inference_nb' has no attribute {name!r}")
    import importlib

    module = importlib.import_module(f".{_LAZY[name]}", __name__)
    return module if name == "errors" else getattr(module, name)


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext inference_nb`: the magics %%infer, %%ask and %infer_config."""
    from .magics import InferenceMagics

    ipython.register_magics(InferenceMagics)


__all__ = ["AppSession", "Client", "InferenceError", "InferenceWidget", "Profile", "Run", "Widget", "__version__"]
