"""The package's import layers (docs/ARCHITECTURE.md, "Layers"): every import points down, none in a circle.

Imports are read from the source, so the ones inside functions (lazy) and under
TYPE_CHECKING count as much as those at the top of a file.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "inference_nb"

LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("version", ("version",)),
    ("wire", ("wire",)),
    ("client", ("client",)),
    ("server", ("server",)),
    (
        "kernel side",
        (
            "controller",
            "following",
            "handle",
            "backends",
            "base",
            "starting",
            "sessions",
            "local_server",
            "render",
            "live",
            "input_check",
        ),
    ),
    (
        "surfaces",
        (
            "widget",
            "frontend",
            "views",
            "run_inputs",
            "run_model",
            "summary",
            "magics",
            "magic_args",
            "mapping",
            "form_checks",
        ),
    ),
    ("facade", ("api",)),
    ("entry points", ("", "cli")),
]
"""Lowest first. A module may import its own layer and those below; `client` and `server` share a rank
and never import each other (both stand on `wire`)."""
RANK = {"version": 0, "wire": 1, "client": 2, "server": 2, "kernel side": 3, "surfaces": 4, "facade": 5,
        "entry points": 6}  # fmt: skip


def modules(root: Path) -> dict[str, Path]:
    """Dotted module name (relative to the package, "" for its root) → file."""
    found = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join(parts)] = path
    return found


def imports(name: str, path: Path, known: set[str], package: str) -> set[str]:
    """The package's modules that `name` imports anywhere in its file."""
    here = name.split(".") if name else []
    if path.name != "__init__.py":
        here = here[:-1]  # relative imports start from the module's package
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(package + "."):
                    found.add(alias.name[len(package) + 1 :])
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - (node.level - 1)]
                origin = ".".join([*base, *(node.module.split(".") if node.module else [])])
            elif node.module == package or (node.module or "").startswith(package + "."):
                origin = node.module[len(package) + 1 :]
            else:
                continue
            for alias in node.names:  # `from x import y`: the module x.y when y is one, else x
                submodule = f"{origin}.{alias.name}" if origin else alias.name
                found.add(submodule if submodule in known else origin)
    return {module for module in found if module in known} - {name}


def layer_of(name: str) -> str | None:
    for layer, roots in LAYERS:
        for root in roots:
            if name == root or (root and name.startswith(root + ".")):
                return layer
    return None


def graph(root: Path, package: str) -> dict[str, set[str]]:
    found = modules(root)
    return {name: imports(name, path, set(found), package) for name, path in found.items()}


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for name, targets in edges.items():
        mine = layer_of(name)
        for target in targets:
            theirs = layer_of(target)
            if RANK[theirs] > RANK[mine] or {mine, theirs} == {"client", "server"}:
                wrong.append(f"{name or '(root)'} ({mine}) imports {target} ({theirs})")
    return sorted(wrong)


def circles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    groups = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in edges.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups


def test_every_module_has_a_layer():
    assert [name for name in modules(PACKAGE) if layer_of(name) is None] == []


def test_no_module_imports_a_higher_layer():
    assert upward_imports(graph(PACKAGE, "inference_nb")) == []


def test_no_modules_import_each_other_in_a_circle():
    assert circles(graph(PACKAGE, "inference_nb")) == []


def test_the_check_sees_lazy_upward_imports_and_circles(tmp_path):
    package = tmp_path / "inference_nb"
    (package / "client").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "client" / "__init__.py").write_text("")
    (package / "client" / "core.py").write_text("def f():\n    from inference_nb import api\n")
    (package / "api.py").write_text("from .base import X\n")
    (package / "base.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .api import Y\n")
    edges = graph(package, "inference_nb")
    assert upward_imports(edges) == [
        "base (kernel side) imports api (facade)",
        "client.core (client) imports api (facade)",
    ]
    assert circles(edges) == [["api", "base"]]
