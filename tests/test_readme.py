"""The README's plugin example is real: install it and run it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

from zoo_core.testing import run_json, run_zoo

README = Path(__file__).parent.parent / "README.md"


def example_plugin() -> str:
    block = re.search(r"<!-- example-plugin:start -->\n```python\n(.*?)```", README.read_text(), re.S)
    assert block, "README lost its example plugin"
    return block.group(1)


def kit_test_file() -> str:
    block = re.search(r"an author's whole test file is\n\n```python\n(.*?)```", README.read_text(), re.S)
    assert block, "README lost its conformance test example"
    return block.group(1)


def test_readme_kit_test_file_passes_for_the_example_plugin(tmp_path, home, env, install):
    install("zoo-softmax", "0.1.0", {"softmax": "zoo_softmax"}, {"zoo_softmax": example_plugin()})
    (tmp_path / "test_softmax_conformance.py").write_text(kit_test_file())
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


def test_readme_example_plugin_installs_lists_and_runs(home, env, install):
    install("zoo-softmax", "0.1.0", {"softmax": "zoo_softmax"}, {"zoo_softmax": example_plugin()})
    env = {**env, "ZOO_PLUGINS": "toy,softmax"}
    listed = json.loads(run_zoo("list", "--json", home=home, env=env).stdout)
    assert {"name": "softmax-regression", "task": "classification", "plugin": "softmax"}.items() <= next(
        m for m in listed["models"] if m["name"] == "softmax-regression"
    ).items()
    [result] = run_json("run", "softmax-regression", "--dataset", "toy-points", home=home, env=env)
    assert result["status"] == "ok" and result["metrics"]["accuracy"] > 0.9
    [line] = (home / "runs" / "softmax-log.jsonl").read_text().splitlines()
    assert json.loads(line)["run"] == result["run_id"]
