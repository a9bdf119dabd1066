"""No import inside a function exists to dodge an import cycle: for every medadapt import made
inside a function (kept there to load torch, pandas or scikit-learn on first use only), the
imported module must not itself import, at module level and transitively, the importing one.
import-linter checks the module-level graph; this checks what it cannot see."""

from __future__ import annotations

import ast
from pathlib import Path

import medadapt

ROOT = Path(medadapt.__file__).parent


def _modules() -> dict[str, Path]:
    out = {}
    for path in ROOT.rglob("*.py"):
        name = ".".join(("medadapt", *path.relative_to(ROOT).with_suffix("").parts))
        out[name.removesuffix(".__init__")] = path
    return out


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    parts = name.split(".")
    while parts:
        if ".".join(parts) in modules:
            return ".".join(parts)
        parts.pop()
    return None


def _targets(node: ast.AST, modules: dict[str, Path]) -> list[str]:
    names: list[str] = []
    if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("medadapt"):
        names = [f"{node.module}.{alias.name}" for alias in node.names]
    elif isinstance(node, ast.Import):
        names = [a.name for a in node.names if a.name.startswith("medadapt")]
    return [m for m in (_resolve(n, modules) for n in names) if m is not None]


def _graph(modules: dict[str, Path]) -> tuple[dict[str, set[str]], list[tuple[str, str, int]]]:
    """Module-level imports per module, and ``(module, imported, line)`` of deferred ones."""
    top: dict[str, set[str]] = {}
    deferred = []
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        checking = [
            n
            for n in ast.walk(tree)
            if isinstance(n, ast.If) and "TYPE_CHECKING" in ast.unparse(n.test)
        ]
        guarded = {id(n) for block in checking for n in ast.walk(block)}
        top[name] = {t for node in tree.body if id(node) not in guarded
                     for t in _targets(node, modules)}  # fmt: skip
        for function in ast.walk(tree):
            if isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                deferred += [(name, t, n.lineno) for n in ast.walk(function)
                             if id(n) not in guarded for t in _targets(n, modules)]  # fmt: skip
    return top, deferred


def _reaches(top: dict[str, set[str]], start: str, goal: str) -> bool:
    seen, stack = set(), [start]
    while stack:
        module = stack.pop()
        if module == goal:
            return True
        if module not in seen:
            seen.add(module)
            stack += top.get(module, ())
    return False


def test_no_deferred_import_hides_a_cycle():
    modules = _modules()
    top, deferred = _graph(modules)
    assert len(deferred) > 50  # the scan sees them (torch and pandas load on first use)
    hidden = [f"{m}:{line} imports {t}" for m, t, line in deferred
              if t != m and _reaches(top, t, m)]  # fmt: skip
    assert hidden == []


def test_the_scan_finds_a_cycle_when_there_is_one():
    top = {"a": {"b"}, "b": {"c"}, "c": set()}
    assert _reaches(top, "b", "c") and not _reaches(top, "c", "a")
