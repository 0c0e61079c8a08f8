"""`zoo new-plugin`: what it writes works in a fresh environment, and bad names write nothing."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from zoo_core.cli import main
from zoo_core.scaffold import render

ROOT = Path(__file__).parent.parent


def files_under(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): p.read_text() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_writes_the_rendered_files_and_says_what_next(tmp_path, capsys):
    assert main(["new-plugin", "my-net", "--dir", str(tmp_path / "plugins")]) == 0
    written = files_under(tmp_path / "plugins" / "my-net")
    assert written == render("my-net")
    assert sorted(written) == [
        "README.md",
        "pyproject.toml",
        "src/zoo_my_net/__init__.py",
        "src/zoo_my_net/data.py",
        "src/zoo_my_net/metrics.py",
        "src/zoo_my_net/model.py",
        "tests/test_my_net_conformance.py",
    ]
    assert 'name = "zoo-my-net"' in written["pyproject.toml"]
    assert '[project.entry-points.zoo]\nmy-net = "zoo_my_net"' in written["pyproject.toml"]
    assert 'ZOO_PLUGIN = "my-net"' in written["tests/test_my_net_conformance.py"]
    assert "import torch" not in written["src/zoo_my_net/__init__.py"]
    assert capsys.readouterr().out.splitlines()[-1].startswith("next: pip install -e ")


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("My_Net", "plugin name 'My_Net' must be lowercase kebab-case, like 'my-net'"),
        ("core", "'core' would clash with the zoo's own names"),
        ("zoo-net", "'zoo-net' would clash with the zoo's own names"),
        ("zoo", "'zoo' would clash with the zoo's own names"),
        ("toy", "a plugin named 'toy' is already installed (zoo-toy 0.3)"),
        ("accuracy", "'accuracy' is already the name of a metric of plugin 'zoo-core'"),
        ("toy-mlp", "'toy-mlp' is already the name of a model of plugin 'toy'"),
        ("taken", "already exists; nothing was written (choose another name or --dir)"),
    ],
)
def test_bad_names_exit_2_with_one_line_and_write_nothing(in_process, tmp_path, capsys, name, message):
    plugins = tmp_path / "plugins"
    (plugins / "taken").mkdir(parents=True)
    (plugins / "taken" / "mine.txt").write_text("keep me")
    assert main(["new-plugin", name, "--dir", str(plugins)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1 and message in err
    assert sorted(str(p.relative_to(plugins)) for p in plugins.rglob("*")) == ["taken", "taken/mine.txt"]
    assert (plugins / "taken" / "mine.txt").read_text() == "keep me"


@pytest.fixture
def fresh_env(tmp_path):
    """A new virtual environment: zoo-core (a wheel), pytest, and the plugin its `zoo new-plugin` wrote."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not installed")
    venv = tmp_path / "venv"
    # Written bytecode spares each later process recompiling torch.
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "", "ZOO_HOME": str(tmp_path / "home")}
    env.pop("ZOO_PLUGINS", None)
    env.pop("PYTHONPATH", None)

    def run(command: str, *args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [str(venv / "bin" / command), *args], capture_output=True, text=True, env=env, cwd=tmp_path
        )
        assert result.returncode == 0, result.stdout + result.stderr
        return result

    subprocess.run([uv, "venv", "--quiet", str(venv)], check=True)
    install = [uv, "pip", "install", "--quiet", "-p", str(venv / "bin" / "python")]
    subprocess.run([*install, str(ROOT), "pytest"], check=True)
    run("zoo", "new-plugin", "example")  # from the installed wheel: its templates ship with it
    subprocess.run([*install, str(tmp_path / "example")], check=True)
    return run


@pytest.mark.integration  # builds a virtual environment and installs torch into it: `nox -s processes`
def test_generated_plugin_lists_runs_and_passes_the_kit_in_a_fresh_environment(fresh_env, tmp_path):
    listed = json.loads(fresh_env("zoo", "list", "--json").stdout)
    by_kind = {
        kind: {e["name"]: e["plugin"] for e in listed[kind]} for kind in ("models", "datasets", "metrics")
    }
    assert by_kind["models"]["example"] == "example"
    assert by_kind["datasets"]["example-moons"] == "example"
    assert by_kind["metrics"]["example-balanced-accuracy"] == "example"

    [result] = [json.loads(line) for line in fresh_env("zoo", "run", "example", "--json").stdout.splitlines()]
    assert (result["status"], result["dataset"]) == ("ok", "example-moons")
    assert result["metrics"]["example-balanced-accuracy"] > 0.9  # the two moons are learnable

    kit = fresh_env("pytest", "-v", "-p", "no:cacheprovider", str(tmp_path / "example" / "tests"))
    assert "test_conformance[model-determinism[example]] PASSED" in kit.stdout
    assert " 11 passed" in kit.stdout


def test_missing_folders_of_dir_are_created(tmp_path, capsys):
    assert main(["new-plugin", "my-net", "--dir", str(tmp_path / "a" / "b" / "c")]) == 0
    assert files_under(tmp_path / "a" / "b" / "c" / "my-net") == render("my-net")


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (errno.ENOSPC, "the disk is full"),
        (errno.EROFS, "the file system is read-only"),
        (errno.EACCES, "Permission denied"),
        (errno.EDQUOT, "Disk quota exceeded"),
    ],
)
def test_a_failed_write_leaves_nothing_behind(tmp_path, capsys, monkeypatch, error, message):
    (tmp_path / "keep.txt").write_text("mine")
    written = []

    def failing_write(self, text, encoding=None):
        if written:
            raise OSError(error, os.strerror(error))
        written.append(self)
        return len(text)

    monkeypatch.setattr(Path, "write_text", failing_write)
    assert main(["new-plugin", "my-net", "--dir", str(tmp_path / "new" / "plugins")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert f"cannot write a plugin into {tmp_path / 'new' / 'plugins'}: {message}" in err
    assert [p.name for p in tmp_path.iterdir()] == ["keep.txt"]  # the folders made on the way are gone too
