"""The adapter package's own imports form layers: no cycle, nothing deferred to hide one."""

from __future__ import annotations

import ast
from pathlib import Path

import medadapt.adapters

PACKAGE = Path(medadapt.adapters.__file__).parent


def _imports(tree: ast.Module) -> list[tuple[str, bool]]:
    """``(adapters module, at module top)`` for every import of a medadapt.adapters module;
    imports inside functions or ``if`` blocks (TYPE_CHECKING included) are not at the top."""
    top = {id(node) for node in tree.body}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module]
            if node.module == "medadapt.adapters":
                names = [f"medadapt.adapters.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        else:
            continue
        for name in names:
            if name.startswith("medadapt.adapters."):
                found.append((name.removeprefix("medadapt.adapters."), id(node) in top))
    return found


def _graph() -> dict[str, set[str]]:
    graph = {}
    for path in sorted(PACKAGE.glob("*.py")):
        if path.name == "__init__.py":
            continue
        imports = _imports(ast.parse(path.read_text()))
        deferred = [name for name, at_top in imports if not at_top]
        assert not deferred, f"{path.name} imports {deferred} inside a function or an if block"
        graph[path.stem] = {name for name, _ in imports}
    return graph


def test_adapter_modules_import_each_other_without_cycles():
    graph = _graph()
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module in done:
            return
        for imported in sorted(graph.get(module, ())):
            visit(imported, (*path, module))
        done.add(module)

    for module in graph:
        visit(module, ())


def test_saving_sits_above_the_engine():
    graph = _graph()
    assert "core" in graph["state"]
    assert {"state", "model"}.isdisjoint(graph["core"])
    assert "state" in graph["model"]
