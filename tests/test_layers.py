"""The stages are folders, and imports only go down: a stage never imports a later one, and
no module imports itself back through others (ARCHITECTURE.md draws the layers)."""

from __future__ import annotations

import ast
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = ROOT / "validator"
# Lowest first. Folders on one line are peers: they may not import each other.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("__init__", "collector"),  # the tool's name and version; the cycle collector's pause
    ("model",),
    ("frontend",),
    ("kernel", "simulate", "diff"),
    ("rules",),
    ("pipeline",),
    ("report",),
    ("tools",),
    ("commands",),
    ("cli",),
    ("__main__",),
)
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """The validator modules a file imports (`from validator.x import y` names x.y when y is
    a module)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "validator":
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "validator")
    return found


FILES = sorted(PACKAGE.rglob("*.py"))
MODULES = {_module(path): path for path in FILES}


def _stage(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def test_every_folder_and_top_module_has_a_layer() -> None:
    assert {_stage(m) for m in MODULES} == set(RANK)


def test_no_stage_imports_a_later_or_a_peer_stage() -> None:
    wrong = []
    for module, path in MODULES.items():
        for target in _imports(path):
            here, there = _stage(module), _stage(target)
            if here != there and RANK[there] >= RANK[here]:
                wrong.append(f"{module} imports {target}")
    assert wrong == []


def test_no_import_cycles() -> None:
    graph = {module: {t for t in _imports(path) if t in MODULES and t != module} for module, path in MODULES.items()}
    # A package's __init__ importing its own modules is how a package exports them; a
    # module importing its package is the cycle to rule out, so edges to a package that
    # contains the importer are kept.
    visiting: set[str] = set()
    done: set[str] = set()
    cycles: list[str] = []

    def visit(module: str, trail: list[str]) -> None:
        if module in done:
            return
        if module in visiting:
            cycles.append(" -> ".join([*trail[trail.index(module) :], module]))
            return
        visiting.add(module)
        for target in sorted(graph[module]):
            visit(target, [*trail, module])
        visiting.discard(module)
        done.add(module)

    for module in sorted(graph):
        visit(module, [])
    assert cycles == []
