"""inference_nb: runs on inference services from Jupyter, live, with the result as Python data."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("inference_nb")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
