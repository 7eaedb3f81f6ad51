"""Old import paths of modules that moved into packages, kept working for code written against them.

`import inference_nb.handle` (or `from inference_nb.render import to_dataframe`) gives a module whose
names are read from where they live now; nothing is copied, and `inference_nb.handle.Run is
inference_nb.Run`. Installed by `inference_nb/__init__.py`; new code imports the new paths.
"""

from __future__ import annotations

import importlib
import importlib.machinery
import types
from typing import Any

PACKAGE = "inference_nb"
MOVED = {
    "handle": ("kernel.run", "kernel.backends"),
    "render": ("results.frames", "results.files", "results.display"),
    "base": ("kernel.base_client",),
    "backends": ("kernel.backends",),
    "controller": ("kernel.controller",),
    "sessions": ("kernel.sessions",),
    "magic_args": ("magics.args",),
}
"""Old module (under the package) → the modules its names live in now, searched in order."""


class MovedModules:
    # A finder and loader by the protocol (find_spec; create_module, exec_module): importlib.abc, the
    # base classes, costs a start-up tens of milliseconds for nothing they add here.
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        old = fullname.removeprefix(PACKAGE + ".")
        return importlib.machinery.ModuleSpec(fullname, self) if old in MOVED and old != fullname else None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> None:
        return None  # the default: a plain module

    def exec_module(self, module: types.ModuleType) -> None:
        homes = [f"{PACKAGE}.{home}" for home in MOVED[module.__name__.removeprefix(PACKAGE + ".")]]

        def __getattr__(name: str) -> Any:
            for home in homes:
                found = importlib.import_module(home)
                if hasattr(found, name):
                    return getattr(found, name)
            raise AttributeError(f"module {module.__name__!r} (moved to {', '.join(homes)}) has no attribute {name!r}")

        module.__getattr__ = __getattr__
        module.__doc__ = f"Moved: see {', '.join(homes)}."
