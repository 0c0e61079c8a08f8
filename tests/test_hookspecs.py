"""Every hook follows the docstring template and is exercised by some test (datasette's habit)."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

from zoo_core import hookspecs

HOOKS = [name for name, fn in vars(hookspecs).items() if name.startswith("zoo_") and callable(fn)]
TESTS = Path(__file__).parent


def test_hooks_are_project_prefixed_and_marked():
    assert HOOKS, "no hook specs found"
    for name in HOOKS:
        assert hasattr(getattr(hookspecs, name), "zoo_spec"), f"{name} is not marked with @hookspec"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_follows_the_docstring_template(name):
    fn = getattr(hookspecs, name)
    doc = inspect.getdoc(fn)
    assert doc, f"{name} has no docstring"
    assert doc.splitlines()[0].endswith("."), f"{name}: the first line is a one-sentence summary"
    for param in inspect.signature(fn).parameters:
        assert f":param {param}:" in doc, f"{name} does not document {param}"
    assert ":return:" in doc, f"{name} does not say what its return means"
    assert "Use in plugins:" in doc, f"{name} has no 'Use in plugins' section"


@pytest.mark.parametrize("name", HOOKS)
def test_hook_has_a_test(name):
    # Mentioning the hook is not enough: each has a test of its own, named after it.
    tests = {
        node.name
        for path in TESTS.rglob("test_*.py")
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.FunctionDef)
    }
    assert f"test_hook_{name}" in tests, f"no test is called test_hook_{name}"
