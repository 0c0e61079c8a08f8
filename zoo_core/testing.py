"""Helpers for testing a zoo plugin: run the `zoo` command, register a plugin for one test, and
the conformance kit (``check_plugin``; see :mod:`zoo_core.kit`).

:func:`invoke` runs a command in this process, with the environment it needs, and captures
what it prints: fast, and what most tests want. :func:`run_zoo` starts a real process, for the
tests where the process itself is the point (signals, concurrency, import cost).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from .kit import CheckFailed, CheckSkipped, check_plugin, plugin_checks, run_checks

__all__ = [
    "CheckFailed",
    "CheckSkipped",
    "Result",
    "check_plugin",
    "dataset_spec",
    "export_checked",
    "invoke",
    "invoke_json",
    "plugin_checks",
    "registered",
    "run_checks",
    "run_json",
    "run_zoo",
]


@dataclass(frozen=True)
class Result:
    """What a `zoo` command did: its exit code and what it printed."""

    code: int
    stdout: str
    stderr: str

    @property
    def returncode(self) -> int:
        """The exit code, named as ``subprocess.CompletedProcess`` names it."""
        return self.code

    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.stdout.splitlines() if line.strip()]


@contextmanager
def environment(values: Mapping[str, str | None]) -> Iterator[None]:
    """Set (or, for None, unset) environment variables inside the block, and restore them after."""

    def put(name: str, value: str | None) -> None:
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value

    saved = {name: os.environ.get(name) for name in values}
    try:
        for name, value in values.items():
            put(name, value)
        yield
    finally:
        for name, value in saved.items():
            put(name, value)


def invoke(
    *args: str,
    home: Path,
    plugins: str | None = None,
    env: Mapping[str, str | None] | None = None,
    check: bool = True,
) -> Result:
    """Run ``zoo <args>`` in this process with ``ZOO_HOME=home``; capture its output.

    ``plugins`` sets ``ZOO_PLUGINS`` so the test does not depend on what else is installed.
    The plugins are loaded afresh before and after, so each call sees its own environment.
    With ``check``, a non-zero exit fails with the command's stderr in the message.
    """
    import importlib

    from .cli import main
    from .plugins import reset

    importlib.invalidate_caches()  # a test may have just installed a plugin
    values: dict[str, str | None] = {"ZOO_HOME": str(home), **(env or {})}
    if plugins is not None:
        values["ZOO_PLUGINS"] = plugins
    out, err = io.StringIO(), io.StringIO()
    with environment(values), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        reset()
        try:
            code = main(list(args))
        except SystemExit as exc:  # argparse's own exits (--help, bad options)
            code = exc.code if isinstance(exc.code, int) else 1
        finally:
            reset()
    result = Result(code, out.getvalue(), err.getvalue())
    if check and code != 0:
        raise AssertionError(f"zoo {' '.join(args)} exited {code}:\n{result.stderr}")
    return result


def invoke_json(*args: str, home: Path, **options: Any) -> list[Any]:
    """Run ``zoo <args> --json`` in this process and parse its JSON lines (one object per run)."""
    return invoke(*args, "--json", home=home, **options).json_lines()


def run_zoo(
    *args: str, home: Path, plugins: str | None = None, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `zoo` command (``python -m zoo_core``) in a new process with ``ZOO_HOME=home``."""
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
    """Run ``zoo <args> --json`` in a new process and parse its JSON lines (one object per run)."""
    out = run_zoo(*args, "--json", home=home, plugins=plugins, env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def export_checked(run_id: str, fmt: str, path: Path, *, home: Path, **options: Any) -> float:
    """Run `zoo export RUN_ID --format FMT --output PATH` in this process; return the largest
    difference from the model it reported. The calling test is skipped when FMT's packages are
    not installed (ONNX comes with zoo-core[onnx])."""
    import pytest

    from .export import FORMATS

    for package in FORMATS[fmt]:
        pytest.importorskip(package)
    result = invoke("export", run_id, "--format", fmt, "--output", str(path), home=home, **options)
    assert result.stdout == f"{path}\n" and path.is_file(), result
    return float(result.stderr.split("largest difference from the model ")[1].split()[0])


def dataset_spec(
    task: str, input_shape: tuple[int, ...], classes: tuple[str, ...] = (), name: str = "stand-in"
) -> Any:
    """A DatasetSpec with only the shape metadata, for testing a factory without loading data."""
    from .specs import DatasetSpec

    return DatasetSpec(
        name=name,
        task=task,
        loader="unused:unused",
        description="test stand-in",
        source="test",
        license="none",
        input_shape=input_shape,
        train_size=1,
        test_size=1,
        classes=classes,
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
