"""The package's version, in a module of its own so that any layer can import it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("inference_nb")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
