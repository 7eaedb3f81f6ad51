"""The package's import layers (docs/ARCHITECTURE.md, "Layers"): every import points down, none in a circle.

Imports are read from the source, so the ones inside functions (lazy) and under
TYPE_CHECKING count as much as those at the top of a file.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).parent.parent / "inference_nb"
FRONT_END = Path(__file__).parent.parent / "js"
TS_IMPORT = re.compile(r"^\s*(?:import|export)\b[^;]*?\bfrom\s+[\"'](\.[^\"']+)[\"']", re.MULTILINE)
"""Relative imports and re-exports of a TypeScript module, `import type` included."""

RANKS: dict[str, int] = {
    "version": 0,
    "wire": 1,
    "client": 2,
    "server": 2,
    "results": 2,
    "kernel": 3,
    "widget": 4,
    "mapping": 4,
    "magics": 5,
    "api": 5,
    "": 6,
    "cli": 6,
    "moved": 6,
}
"""Each top-level module or package of inference_nb and its rank, lowest first: a module may import
its own package and lower ranks. Packages of one rank never import each other (`client` and `server`
both stand on `wire`; `results` stands alone)."""

TOP_LEVEL_LIMIT = 8
"""At most this many modules (.py files) at the package's top level: the rest live in packages."""
LINE_LIMIT = 400


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
    """The top-level module or package `name` belongs to, when it has a rank."""
    top = name.split(".")[0]
    return top if top in RANKS else None


def graph(root: Path, package: str) -> dict[str, set[str]]:
    found = modules(root)
    return {name: imports(name, path, set(found), package) for name, path in found.items()}


def upward_imports(edges: dict[str, set[str]]) -> list[str]:
    wrong = []
    for name, targets in edges.items():
        mine = layer_of(name)
        for target in targets:
            theirs = layer_of(target)
            if RANKS[theirs] > RANKS[mine] or (RANKS[theirs] == RANKS[mine] and theirs != mine and mine):
                wrong.append(f"{name or '(root)'} ({mine or 'root'}) imports {target} ({theirs or 'root'})")
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


def test_the_package_top_level_stays_small():
    top = sorted(path.name for path in PACKAGE.glob("*.py"))
    assert len(top) <= TOP_LEVEL_LIMIT, top


def test_no_file_is_too_long():
    long = {str(path.relative_to(PACKAGE)): n for path in PACKAGE.rglob("*.py")
            if (n := len(path.read_text().splitlines())) > LINE_LIMIT}  # fmt: skip
    assert long == {}


def test_no_module_imports_a_higher_layer():
    assert upward_imports(graph(PACKAGE, "inference_nb")) == []


def ts_graph(root: Path) -> dict[str, set[str]]:
    """Each front-end module (its path under `root`, without .ts) and the modules it imports."""
    edges = {}
    for path in root.rglob("*.ts"):
        name = path.relative_to(root).with_suffix("").as_posix()
        found = {
            (path.parent / spec).resolve().relative_to(root.resolve()).as_posix()
            for spec in TS_IMPORT.findall(path.read_text())
        }
        edges[name] = {target.removesuffix(".ts") for target in found}
    return edges


def test_no_front_end_modules_import_each_other_in_a_circle():
    edges = ts_graph(FRONT_END)
    assert "forms/controls" in edges["forms/schema-form"]  # the check reads the imports it should
    assert circles(edges) == []


def test_no_modules_import_each_other_in_a_circle():
    assert circles(graph(PACKAGE, "inference_nb")) == []


def test_the_check_sees_lazy_upward_imports_and_circles(tmp_path):
    package = tmp_path / "inference_nb"
    (package / "client").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "client" / "__init__.py").write_text("")
    (package / "client" / "core.py").write_text("def f():\n    from inference_nb import api\n")
    (package / "kernel").mkdir()
    (package / "kernel" / "__init__.py").write_text("")
    (package / "kernel" / "run.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ..api import Y\n"
    )
    (package / "api.py").write_text("from .kernel.run import X\n")
    (package / "server").mkdir()
    (package / "server" / "__init__.py").write_text("from ..client import core\n")
    edges = graph(package, "inference_nb")
    assert upward_imports(edges) == [
        "client.core (client) imports api (api)",
        "kernel.run (kernel) imports api (api)",
        "server (server) imports client.core (client)",
    ]
    assert circles(edges) == [["api", "kernel.run"]]
