"""Cell magics: `%%infer`, `%%ask` and `%infer_config` (`cell_magics`), their line and body parsed
by `args`. `%load_ext inference_nb` (or `inference_nb.magics`) registers them."""

from __future__ import annotations

from typing import Any

from .cell_magics import InferenceMagics

__all__ = ["InferenceMagics", "load_ipython_extension"]


def load_ipython_extension(ipython: Any) -> None:
    """`%load_ext inference_nb.magics`: the same as `%load_ext inference_nb`."""
    ipython.register_magics(InferenceMagics)
