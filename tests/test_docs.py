"""The docs show real things: the scaffold's files, a plugin that is tested, a generated tour, live links."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from zoo_core.scaffold import render

ROOT = Path(__file__).parent.parent
DOCS = ROOT / "docs"
TUTORIAL = DOCS / "writing-plugins.md"


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


def example(name: str) -> str:
    """The tutorial's code between ``<!-- example-NAME:start -->`` and ``<!-- example-NAME:end -->``."""
    pattern = rf"<!-- example-{name}:start -->\n```\w*\n(.*?)```\n<!-- example-{name}:end -->"
    block = re.search(pattern, TUTORIAL.read_text(), re.S)
    assert block, f"the tutorial lost its example-{name} block"
    return block.group(1)


def test_the_one_module_plugin_passes_its_own_kit_test_file(tmp_path, home, env, install):
    install("zoo-softmax", "0.1.0", {"softmax": "zoo_softmax"}, {"zoo_softmax": example("plugin")})
    (tmp_path / "test_softmax_conformance.py").write_text(example("test"))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_softmax_conformance.py"],
        cwd=tmp_path,
        env={**os.environ, **env, "ZOO_PLUGINS": "toy,softmax", "ZOO_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    # Its default dataset, digits, comes from the lenet5 plugin: that check is skipped here, the rest pass.
    assert re.search(r"\d+ passed", result.stdout), result.stdout


def test_the_one_module_plugin_installs_lists_and_runs(home, install, zoo):
    install("zoo-softmax", "0.1.0", {"softmax": "zoo_softmax"}, {"zoo_softmax": example("plugin")})
    env = {"ZOO_PLUGINS": "toy,softmax"}
    listed = json.loads(zoo("list", "--json", env=env).stdout)
    assert {"name": "softmax-regression", "task": "classification", "plugin": "softmax"}.items() <= next(
        m for m in listed["models"] if m["name"] == "softmax-regression"
    ).items()
    [result] = zoo.json("run", "softmax-regression", "--dataset", "toy-points", env=env)
    assert result["status"] == "ok" and result["metrics"]["accuracy"] > 0.9
    [line] = (home / "runs" / "softmax-log.jsonl").read_text().splitlines()
    assert json.loads(line)["run"] == result["run_id"]


def test_the_tutorials_pyproject_builds_a_wheel_with_a_second_module_beside_the_first(tmp_path):
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    # Where the text says to save the module, a second one beside it: flat-layout discovery refuses that.
    saved = re.search(r"Save it as `([^`]+)` next to this `pyproject.toml`", TUTORIAL.read_text())
    assert saved, "the tutorial no longer says where to save the one-module plugin"
    saved_as = Path(saved[1])
    project = tmp_path / "zoo-softmax"
    (project / saved_as).parent.mkdir(parents=True, exist_ok=True)
    (project / "pyproject.toml").write_text(example("pyproject"))
    (project / saved_as).write_text(example("plugin"))
    (project / saved_as.with_name("model.py")).write_text("HIDDEN_SIZE = 32\n")
    built = subprocess.run(
        [uv, "build", "--wheel", "--quiet", "--out-dir", str(tmp_path / "dist"), str(project)],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    [wheel] = (tmp_path / "dist").glob("zoo_softmax-0.1.0-*.whl")
    installed = saved_as.relative_to("src") if saved_as.parts[0] == "src" else saved_as
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        assert {installed.as_posix(), installed.with_name("model.py").as_posix()} <= names, names
        [entry_points] = [n for n in names if n.endswith(".dist-info/entry_points.txt")]
        assert "[zoo]\nsoftmax = zoo_softmax" in archive.read(entry_points).decode()


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


def anchors(page: Path) -> set[str]:
    """GitHub's ids for the page's headings: lowercase, punctuation dropped, spaces as dashes."""
    headings = re.findall(r"^#+ (.+)$", re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M), re.M)
    return {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}


def test_every_relative_link_in_the_docs_reaches_a_file_and_heading_that_exist():
    pages = [ROOT / "README.md", ROOT / "CONTRIBUTING.md", *sorted(DOCS.glob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if re.match(r"[a-z]+:", target):  # https:, mailto:
                continue
            path, _, anchor = target.partition("#")
            linked = (page.parent / path) if path else page
            if not linked.exists() or (anchor and anchor not in anchors(linked)):
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_every_python_api_example_runs_in_the_tests_of_the_plugin_it_needs():
    tool = docs_tool("doctests")
    needed = tool.plugins()
    assert needed, "docs/python-api.md lost its doctest blocks"
    for plugin in needed:
        tests = ROOT / "plugins" / plugin / "tests"
        callers = [path for path in tests.glob("test_*.py") if f'doctests.run("{plugin}"' in path.read_text()]
        assert callers, f"no test in {tests} runs the python-api.md blocks that need {plugin}"


def test_the_python_api_page_documents_every_library_function():
    import zoo_core

    page = (DOCS / "python-api.md").read_text()
    functions = [name for name in zoo_core.__all__ if name.islower() and not name.startswith(("hook", "_"))]
    assert [name for name in functions if f"{name}(" not in page] == []
