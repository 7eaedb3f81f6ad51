"""An app folder's `inf.yml`: its name, description and variants (docs/ARCHITECTURE.md, "Apps in the
service's format")."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_VARIANT = "default"
"""The variant a task runs when its request names none (the service's default)."""


@dataclass(frozen=True)
class Variant:
    """One variant of an app: its own environment and the resources it asks for."""

    key: str
    name: str
    env: dict[str, str] = field(default_factory=dict)
    """Set in the environment of the app's worker processes."""
    resources: dict[str, Any] = field(default_factory=dict)
    """What the service would reserve (GPU, RAM); shown, not enforced here."""
    python: str | None = None
    """The Python version the service would use; here the app runs on the server's Python."""

    def public(self) -> dict[str, Any]:
        return {"name": self.name, "resources": self.resources, "python": self.python, "env": sorted(self.env)}


@dataclass(frozen=True)
class Manifest:
    name: str
    description: str
    version: str
    variants: dict[str, Variant]
    """By key, the default first."""


def read_manifest(folder: Path) -> Manifest:
    """The app's `inf.yml` (every generation of it: flat, with `variants`, or with `kernel`).

    Raises:
        ValueError: the folder has no `inference.py`, or `inf.yml` is missing, not YAML, or has a
            field of the wrong kind (the message names it).
    """
    if not (folder / "inference.py").is_file():
        raise ValueError(f"{folder}: no inference.py: an app folder holds inference.py and inf.yml")
    import yaml  # only for apps of this format: it takes a tenth of a second, and a server may have none

    path = folder / "inf.yml"
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise ValueError(f"{folder}: cannot read inf.yml: {exc}") from None
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: must be a mapping of settings, not {type(data).__name__}")
    name = data.get("name")
    if not isinstance(name, str) or not re.fullmatch(r"[a-z0-9][a-z0-9_.-]*", name):
        raise ValueError(f"{path}: name must be lower-case letters, digits, '.', '_' or '-', not {name!r}")
    description = data.get("description") or ""
    version = str(data.get("version") or "1.0.0")
    if not isinstance(description, str):
        raise ValueError(f"{path}: description must be text")
    return Manifest(name, description.strip(), version, _variants(path, data))


def _variants(path: Path, data: dict[str, Any]) -> dict[str, Variant]:
    raw = data.get("variants")
    if raw is None:  # the flat and the current generation: one variant, from the top-level settings
        return {DEFAULT_VARIANT: _variant(path, DEFAULT_VARIANT, {**data, "name": DEFAULT_VARIANT})}
    if not isinstance(raw, dict) or not raw:
        raise ValueError(f"{path}: variants must map each variant's key to its settings")
    variants = {str(key): _variant(path, str(key), value) for key, value in raw.items()}
    first = DEFAULT_VARIANT if DEFAULT_VARIANT in variants else next(iter(variants))
    return {first: variants[first], **variants}


def _variant(path: Path, key: str, data: Any) -> Variant:
    if not isinstance(data, dict):
        raise ValueError(f"{path}: variants.{key} must be a mapping")
    env = data.get("env") or {}
    if not isinstance(env, dict):
        raise ValueError(f"{path}: variants.{key}.env must map names to values")
    resources = data.get("resources") or {}
    if not isinstance(resources, dict):
        raise ValueError(f"{path}: variants.{key}.resources must be a mapping")
    python = data.get("python") or (str(data["kernel"]).removeprefix("python-") if data.get("kernel") else None)
    return Variant(
        key=key,
        name=str(data.get("name") or key),
        env={str(k): str(v) for k, v in env.items()},
        resources=resources,
        python=str(python) if python is not None else None,
    )
