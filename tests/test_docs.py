"""docs/writing-plugins.md shows the real plugin `zoo new-plugin example` writes, not a copy."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from zoo_core.scaffold import render

DOCS = Path(__file__).parent.parent / "docs"


def include_tool():
    spec = importlib.util.spec_from_file_location("docs_include", DOCS / "include.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_included_block_is_what_the_scaffold_writes():
    tool = include_tool()
    doc = tool.DOC.read_text()
    files = render(tool.NAME)
    assert set(tool.included(doc)) <= set(files), "the tutorial includes a file the scaffold does not write"
    assert tool.refreshed(doc, files) == doc, "the tutorial's code is stale: run python docs/include.py"


def test_the_tutorial_walks_through_every_generated_code_file():
    tool = include_tool()
    included = tool.included(tool.DOC.read_text())
    assert sorted(included) == sorted(path for path in render(tool.NAME) if path != "README.md")


def test_a_stale_block_is_detected_and_refreshed():
    tool = include_tool()
    files = {"src/zoo_example/metrics.py": "def metric():\n    return 1.0\n"}
    stale = (
        "before\n<!-- include: src/zoo_example/metrics.py -->\n"
        "```python\nold\n```\n<!-- /include -->\nafter\n"
    )
    assert tool.refreshed(stale, files) == (
        "before\n<!-- include: src/zoo_example/metrics.py -->\n"
        "```python\ndef metric():\n    return 1.0\n```\n<!-- /include -->\nafter\n"
    )
