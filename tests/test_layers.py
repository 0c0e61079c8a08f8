"""Arrows point down: a module of zoo_core imports only modules below it in LAYERS.

Heavy imports inside functions count too: a low-level module must not reach up even lazily.
"""

from __future__ import annotations

import ast
from pathlib import Path

import zoo_core

PACKAGE = Path(zoo_core.__file__).parent
# From the bottom up. A module may import any module listed before it, never one after it.
LAYERS = [
    "version",
    "names",
    "errors",
    "disk",
    "environment",
    "recipe",
    "layout",
    "paths",
    "markers",
    "specs",
    "runs",
    "data",
    "transforms",
    "metrics",
    "baselines",
    "hookspecs",
    "devices",
    "threads",
    "checkpoints",
    "provenance",
    "datacache",
    "builtins",
    "plugins",
    "hparams",
    "registry",
    "planning",
    "loading",
    "training",
    "fitting",
    "observers",
    "store",
    "queries",
    "plots",
    "leaderboard",
    "runner",
    "batch",
    "grid",
    "executors",
    "sweeper",
    "records",
    "trained",
    "predict",
    "export",
    "comparing",
    "housekeeping",
    "catalog",
    "api",
    "reproduce",
    "scaffold",
    "report",
    "cli",
    "kit",
    "testing",
    "pytest_plugin",
    "__init__",
    "__main__",
]


def imported_modules(path: Path) -> set[str]:
    """The zoo_core modules a file imports (relative or absolute), by their top-level name."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level == 0 and (node.module or "").startswith("zoo_core."):
                found.add(node.module.split(".")[1])
            elif node.level == 1 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1:
                found.update(alias.name for alias in node.names)
            elif node.level == 2:  # from the cli package up into the core
                found.add("cli")
    return found


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE)
    return relative.parts[0] if len(relative.parts) > 1 else path.stem


def test_every_module_has_a_layer():
    modules = {module_name(p) for p in PACKAGE.rglob("*.py")}
    assert modules - set(LAYERS) == set(), "add new modules to LAYERS, where they belong"


def test_no_module_imports_one_above_it():
    rank = {name: i for i, name in enumerate(LAYERS)}
    upward = []
    for path in sorted(PACKAGE.rglob("*.py")):
        name = module_name(path)
        for target in imported_modules(path):
            if target in rank and target != name and rank[target] > rank[name]:
                upward.append(f"{path.relative_to(PACKAGE)} imports {target}")
    assert upward == []
