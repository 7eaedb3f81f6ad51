"""Apps written for inference.sh (an `inference.py` and an `inf.yml`), each instance in a worker
process of its own (docs/ARCHITECTURE.md, "Apps in the service's format")."""

from __future__ import annotations

from .loader import DEFAULT_RUN_TIMEOUT, ProcessApp, UnknownVariant, load_app_dir, with_variant

__all__ = ["DEFAULT_RUN_TIMEOUT", "ProcessApp", "UnknownVariant", "load_app_dir", "with_variant"]
