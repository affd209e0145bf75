"""The package layout keeps its promises: layers import downwards only (import-linter's contracts
in pyproject.toml), no private name crosses a package, and no two modules import each other."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

grimp = pytest.importorskip("grimp", reason="import-linter (the test extra) is not installed")
from importlinter.cli import lint_imports  # noqa: E402

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "soundatlas"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _home(module: str) -> str:
    """The package a module belongs to: ``soundatlas.ingest.reading`` -> ``soundatlas.ingest``;
    a module at the root is its own home."""
    return ".".join(module.split(".")[:2])


def test_layer_contracts_are_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(PACKAGE.parents[1])
    assert lint_imports(no_cache=True) == 0, "run `lint-imports` to see the broken contract"


def test_no_private_name_is_imported_from_another_package() -> None:
    crossings = []
    for path in sorted(PACKAGE.rglob("*.py")):
        importer = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                "soundatlas"
            ):
                continue
            private = [a.name for a in node.names if a.name.startswith("_")]
            if private and _home(node.module) != _home(importer):
                crossings.append(f"{importer} imports {', '.join(private)} from {node.module}")
    assert crossings == []


def test_the_spark_engine_uses_only_documented_functions_of_the_layers_below() -> None:
    """The spark engine runs the local engine's rules through their public, documented API."""
    import importlib
    import inspect

    undocumented = []
    for path in sorted((PACKAGE / "engines").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.ImportFrom) or not (node.module or "").startswith(
                "soundatlas."
            ):
                continue
            if node.module.startswith("soundatlas.engines"):
                continue
            module = importlib.import_module(node.module)
            for alias in node.names:
                value = getattr(module, alias.name)
                if (inspect.isfunction(value) or inspect.isclass(value)) and not value.__doc__:
                    undocumented.append(f"{node.module}.{alias.name}")
    assert undocumented == []


def test_no_import_cycle_between_modules() -> None:
    graph = grimp.build_graph("soundatlas", exclude_type_checking_imports=True)
    modules = sorted(graph.modules)
    edges = {m: set(graph.find_modules_directly_imported_by(m)) for m in modules}
    # A package's __init__ that re-exports its modules is not a cycle of code: leave those
    # edges (package -> its own submodules) out.
    for module, targets in edges.items():
        edges[module] = {t for t in targets if not t.startswith(module + ".")}
    cycles = [sorted(group) for group in _strongly_connected(edges) if len(group) > 1]
    assert cycles == []


def _strongly_connected(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(start: str) -> None:
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == node:
                            break
                    groups.append(group)
            elif child not in index:
                index[child] = low[child] = len(index)
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(edges.get(child, ())))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return groups
