"""Helpers for testing the zoo and its plugins; plugin authors use them in their own tests."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")


def run_zoo(
    *args: str, home: Path, plugins: str | None = None, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `zoo` command (``python -m zoo_core``) with ``ZOO_HOME=home``.

    ``plugins`` sets ``ZOO_PLUGINS`` so the test does not depend on what else is installed.
    With ``check``, a non-zero exit fails with the command's stderr in the message.
    """
    full_env = {**os.environ, "ZOO_HOME": str(home), **(env or {})}
    if plugins is not None:
        full_env["ZOO_PLUGINS"] = plugins
    result = subprocess.run(
        [sys.executable, "-m", "zoo_core", *args],
        capture_output=True,
        text=True,
        env=full_env,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"zoo {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def run_json(
    *args: str, home: Path, plugins: str | None = None, env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Run ``zoo <args> --json`` and parse its JSON lines (one object per run)."""
    out = run_zoo(*args, "--json", home=home, plugins=plugins, env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def check_plugin(name: str) -> None:
    """Assert that the installed plugin ``name`` loads and that its specs are well formed."""
    from .plugins import load_plugins
    from .registry import get_registry
    from .specs import TASKS, resolve

    info = load_plugins().infos.get(name)
    assert info is not None, f"plugin {name!r} is not installed (entry point group 'zoo')"
    assert info.status == "ok", f"plugin {name!r} is broken: {info.error}"
    registry = get_registry()
    problems: list[str] = []
    tables = (
        ("model", registry.models, "factory"),
        ("dataset", registry.datasets, "loader"),
        ("metric", registry.metrics, "fn"),
    )
    owned = 0
    for kind, table, ref_field in tables:
        for spec_name, entry in table.items():
            if entry.plugin != name:
                continue
            owned += 1
            spec = entry.spec
            if kind != "metric" and not KEBAB.match(spec_name):
                problems.append(f"{kind} {spec_name!r} is not lowercase kebab-case")
            if spec.task not in TASKS:
                problems.append(f"{kind} {spec_name!r} has unknown task {spec.task!r}")
            try:
                resolve(getattr(spec, ref_field))
            except Exception as exc:
                problems.append(f"{kind} {spec_name!r}: {ref_field} does not resolve ({exc})")
            if kind == "model":
                problems += _model_problems(spec)
            if kind == "dataset" and spec.task != "forecasting" and not spec.classes:
                problems.append(f"dataset {spec_name!r} lists no classes")
    assert owned, f"plugin {name!r} registers nothing"
    assert not problems, f"plugin {name!r}: " + "; ".join(problems)


def _model_problems(spec: Any) -> list[str]:
    problems = []
    if not spec.summary or not spec.reference:
        problems.append(f"model {spec.name!r} needs a summary and a reference")
    for key, value in spec.defaults.items():
        if not isinstance(value, (bool, int, float, str)):
            problems.append(f"model {spec.name!r}: default {key}={value!r} is not bool/int/float/str")
    return problems


def dataset_spec(
    task: str, input_shape: tuple[int, ...], classes: tuple[str, ...] = (), name: str = "stand-in"
) -> Any:
    """A DatasetSpec with only the shape metadata, for testing a factory without loading data."""
    from .specs import DatasetSpec

    return DatasetSpec(
        name, task, "unused:unused", "test stand-in", "test", "none", input_shape, 1, 1, classes
    )


@contextmanager
def registered(plugin: object, name: str = "test-plugin") -> Iterator[None]:
    """Register ``plugin`` (a module or object with hook implementations) for one test.

    The registry is rebuilt with it, and again without it afterwards.
    """
    from .plugins import PluginInfo, load_plugins, reset

    reset()
    loaded = load_plugins()
    loaded.manager.register(plugin, name=name)
    loaded.infos[name] = PluginInfo(name, name, "0")
    try:
        yield
    finally:
        reset()
