"""The docs show real things: the files `zoo new-plugin example` writes, and a generated tour."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from zoo_core.scaffold import render

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"


def docs_tool(name: str):
    """docs/NAME.py, imported from its file: docs/ is not a package."""
    spec = importlib.util.spec_from_file_location(f"docs_{name}", DOCS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_every_included_block_is_what_the_scaffold_writes():
    tool = docs_tool("include")
    doc = tool.DOC.read_text()
    files = render(tool.NAME)
    assert set(tool.included(doc)) <= set(files), "the tutorial includes a file the scaffold does not write"
    assert tool.refreshed(doc, files) == doc, "the tutorial's code is stale: run python docs/include.py"


def test_the_tutorial_walks_through_every_generated_code_file():
    tool = docs_tool("include")
    included = tool.included(tool.DOC.read_text())
    assert sorted(included) == sorted(path for path in render(tool.NAME) if path != "README.md")


def test_a_stale_block_is_detected_and_refreshed():
    tool = docs_tool("include")
    files = {"src/zoo_example/metrics.py": "def metric():\n    return 1.0\n"}
    stale = (
        "before\n<!-- include: src/zoo_example/metrics.py -->\n"
        "```python\nold\n```\n<!-- /include -->\nafter\n"
    )
    assert tool.refreshed(stale, files) == (
        "before\n<!-- include: src/zoo_example/metrics.py -->\n"
        "```python\ndef metric():\n    return 1.0\n```\n<!-- /include -->\nafter\n"
    )


def test_the_tour_shows_exactly_the_steps_of_its_script():
    tool = docs_tool("tour")
    shown = tool.shown(tool.DOC.read_text())
    expected = [(step.command, step.exit_code) for step in tool.STEPS]
    agree = len(shown) == len(expected) and all(
        tool.pattern(step).fullmatch(command) and code == step.exit_code
        for (command, code), step in zip(shown, tool.STEPS, strict=True)
    )
    assert agree, f"docs/tour.md is stale: regenerate it with `nox -s tour`\n{shown}\n!=\n{expected}"


def test_the_tour_reads_back_the_blocks_it_writes():
    tool = docs_tool("tour")
    doc = (
        "preface\n\n"
        + tool.block("zoo show 2026-a1", "a\nb\n", 0)
        + "\n"
        + tool.block("zoo run x", "no\n", 2)
    )
    assert tool.shown(doc) == [("zoo show 2026-a1", 0), ("zoo run x", 2)]
    assert tool.pattern(tool.Step("zoo show {run}")).fullmatch("zoo show 2026-a1")
    assert not tool.pattern(tool.Step("zoo show {run}")).fullmatch("zoo reproduce 2026-a1")


def test_the_tour_names_a_run_by_the_shortest_unique_start_of_its_id():
    tool = docs_tool("tour")
    ids = [
        "20261201-171534-gru-cell-s0-42d77a",
        "20261201-171534-knn-s0-b21f1d",
        "20261201-171557-gru-cell-s1-94",
    ]
    assert tool.unique_start(ids[0], ids) == "20261201-171534-gru"
    assert tool.unique_start(ids[2], ids) == "20261201-171557"
    assert tool.unique_start(ids[0], ids[:1]) == "20261201"
