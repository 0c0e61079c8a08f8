"""Maintainer sessions. `nox` runs lint, the core tests, and each plugin's tests with only that plugin
installed; `nox -t integration` runs the slow ones: servers, browsers, clusters, signals, many processes."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nox
import nox.virtualenv

nox.needs_version = ">=2026.10.20"  # the first nox whose --parallel runs sessions side by side
nox.options.default_venv_backend = "uv"
nox.options.reuse_existing_virtualenvs = False
nox.options.sessions = ["tests", "lint", "plugins"]  # the longest first, so the others fill the second core
# The default sessions share nothing but uv's cache, so they run side by side, one per core: while one
# session builds its environment or imports torch, the other tests. Sessions not marked allow_parallel
# (the integration ones, whose tests start clusters and servers and time their processes) run alone.
nox.options.parallel = "auto"

ROOT = Path(__file__).parent
PLUGINS = sorted(p.name for p in (ROOT / "plugins").iterdir() if (p / "pyproject.toml").exists())
# Plugins that watch runs instead of adding models: the benchmarks, the leaderboard and the tour measure
# and show the lessons, without a tracker's cost in every run.
OBSERVERS = ("mlflow",)
LESSONS = [name for name in PLUGINS if name not in OBSERVERS]
README = ROOT / "README.md"
BOARD_MARKERS = ("<!-- leaderboard:start -->", "<!-- leaderboard:end -->")


def local_requirements(name: str) -> list[str]:
    """The plugins of this repository that plugin ``name`` depends on (zoo-gru for gru-cell), and theirs."""
    import tomllib

    project = tomllib.loads((ROOT / "plugins" / name / "pyproject.toml").read_text())["project"]
    found = []
    for requirement in project.get("dependencies", []):
        dist = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0]
        if dist.startswith("zoo-") and dist.removeprefix("zoo-") in PLUGINS:
            found += [dist.removeprefix("zoo-"), *local_requirements(dist.removeprefix("zoo-"))]
    return found


def one_thread_each(session: nox.Session) -> None:
    """Give each test process one CPU thread: `nox` runs its sessions side by side, three processes on
    two cores, where torch's intra-op threads would spin waiting for each other (see zoo_core.threads)."""
    session.env["OMP_NUM_THREADS"] = "1"


def install_zoo(session: nox.Session, *plugins: str) -> None:
    """Install zoo-core and the given plugins as wheels (non-editable), as users get them.

    A plugin that depends on another plugin of this repository gets it from here, not from PyPI.
    """
    # A test that starts `zoo` in a fresh process would recompile torch's sources without cached
    # bytecode (about 20 s of CPU). An empty value lets Python write .pyc files again, and the prefix
    # keeps them in one folder of the session: none lands in the folders the tests check are untouched.
    session.env["PYTHONDONTWRITEBYTECODE"] = ""
    session.env["PYTHONPYCACHEPREFIX"] = str(Path(session.virtualenv.location) / "pycache")
    wanted = sorted({*plugins, *(dep for name in plugins for dep in local_requirements(name))})
    session.install(".", *(f"./plugins/{name}" for name in wanted), "pytest")


@nox.session(allow_parallel=True)
def lint(session: nox.Session) -> None:
    """Check style and formatting with ruff."""
    session.install("ruff")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(allow_parallel=True)
def tests(session: nox.Session) -> None:
    """Run the core tests, with zoo-core alone installed (they bring their own test plugins)."""
    install_zoo(session)
    one_thread_each(session)
    # pytest-xdist: most tests are a single Python thread, so one worker per core halves the wall time;
    # worksteal keeps both workers busy to the end instead of leaving one with the last slow tests.
    session.install("pytest-xdist")
    session.run("pytest", "tests", "--numprocesses", "auto", "--dist", "worksteal", *session.posargs)


@nox.session(allow_parallel=True)
def plugins(session: nox.Session) -> None:
    """Run each plugin's tests with zoo-core and that plugin alone installed, one plugin after another.

    One environment serves them all: before each plugin it is put back to exactly zoo-core alone
    (``uv pip sync``), so no plugin's tests see another plugin or what it brought, while torch is
    installed, and its bytecode compiled, once instead of once per plugin.
    """
    install_zoo(session)
    one_thread_each(session)
    python = str(Path(session.bin) / "python")
    core_alone = Path(session.create_tmp()).resolve() / "zoo-core-alone.txt"
    uv = nox.virtualenv.UV  # the uv nox builds its environments with, on PATH or in nox's own environment
    freeze = [uv, "pip", "freeze", "--quiet", "--python", python]  # --quiet: no "Using Python" line
    core_alone.write_text(session.run(*freeze, silent=True, external=True))
    for name in PLUGINS:
        session.run_install(uv, "pip", "sync", "--python", python, str(core_alone), external=True)
        session.install(*(f"./plugins/{dist}" for dist in [name, *local_requirements(name)]))
        session.run("pytest", f"plugins/{name}/tests", *session.posargs)


@nox.session(default=False)
@nox.parametrize("name", PLUGINS, ids=PLUGINS)
def plugin(session: nox.Session, name: str) -> None:
    """Install zoo-core and one plugin alone in a fresh environment and run that plugin's tests."""
    install_zoo(session, name)
    session.run("pytest", f"plugins/{name}/tests", *session.posargs)


@nox.session(default=False, tags=["integration"])
def processes(session: nox.Session) -> None:
    """Run the core tests whose point is a process: signals, kills, mounts, concurrent runs, a new venv."""
    install_zoo(session)
    session.run("pytest", "tests", "-m", "integration", "--ignore=tests/cluster", *session.posargs)


@nox.session(default=False, tags=["integration"])
def onnx(session: nox.Session) -> None:
    """Install zoo-core[onnx] with lenet5 and gru, and run their export tests, ONNX included."""
    install_zoo(session, "lenet5", "gru")
    session.install(".[onnx]")  # the extra's packages, as a user gets them
    session.run("pytest", "plugins/lenet5/tests", "plugins/gru/tests", "-k", "export", *session.posargs)


@nox.session(default=False, tags=["integration"])
def sweeps(session: nox.Session) -> None:
    """Run `zoo sweep` on real Dask workers: a scheduler started by hand, a LocalCluster, killed workers."""
    install_zoo(session)
    session.run("pytest", "tests/cluster", "-m", "integration", *session.posargs)


@nox.session(default=False, tags=["integration"])
def mlflow_server(session: nox.Session) -> None:
    """Log zoo runs to a real `mlflow server` on 127.0.0.1, and kill it mid-run (slow: it starts one)."""
    install_zoo(session, "mlflow")
    session.run("pytest", "plugins/mlflow/integration", *session.posargs)
    # The plugin's own tests of many processes, left out of the `plugins` session for their cost.
    session.run("pytest", "plugins/mlflow/tests", "-m", "integration", *session.posargs)


@nox.session(default=False, tags=["integration"])
def browser(session: nox.Session) -> None:
    """Open a `zoo report` site in headless Chromium (Debian's chromium, chromium-driver) with selenium."""
    install_zoo(session)
    session.install("selenium")
    artefacts = Path(session.create_tmp()).resolve() / "artefacts"  # the screenshots, kept after the run
    session.run("pytest", "tests/browser", *session.posargs, env={"ZOO_TEST_ARTEFACTS": str(artefacts)})


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Time each figure of the benchmark issue side by side and write benchmarks/RESULTS.md."""
    install_zoo(session, *LESSONS)
    results = Path(session.create_tmp()).resolve() / "bench-results.jsonl"
    results.unlink(missing_ok=True)  # the table must hold this run's rows only
    failed = []
    for script in sorted((ROOT / "benchmarks").glob("bench_*.py")):
        try:
            session.run("python", str(script), *session.posargs, env={"ZOO_BENCH_RESULTS": str(results)})
        except nox.command.CommandFailed:
            failed.append(script.name)  # its rows show as missing; the others still get reported
    session.run("python", str(ROOT / "benchmarks" / "report.py"), str(results))
    if failed:
        session.error(f"failed: {', '.join(failed)}")


@nox.session(default=False)
def leaderboard(session: nox.Session) -> None:
    """Sweep every model over every dataset it fits (seeds 0,1,2) and write the table into README.md."""
    install_zoo(session, *LESSONS)
    home = Path(session.create_tmp()).resolve() / "zoo-home"
    shutil.rmtree(home, ignore_errors=True)  # the table must hold this run's results only
    # Offline: the results must not depend on what a download happens to fetch.
    env = {"ZOO_HOME": str(home), "ZOO_STRICT_PLUGINS": "1", "ZOO_OFFLINE": "1"}
    # One thread per run, whatever the machine, so the table's numbers do not depend on its cores.
    workers = str(os.cpu_count() or 1)
    sweep = ["--all", "--all-datasets", "--seeds", "0,1,2", "--workers", workers, "--threads", "1"]
    session.run("zoo", "sweep", *sweep, "--quiet", env=env)
    tables = []
    for task in ("classification", "forecasting", "clustering"):  # one table each: their metrics differ
        board = home / f"leaderboard-{task}.md"
        session.run(
            "zoo", "leaderboard", "--task", task, "--format", "markdown", "--output", str(board), env=env
        )
        tables.append(f"**{task}**\n\n{board.read_text()}")
    session.run("zoo", "leaderboard", "--plot", str(home / "leaderboard.png"), env=env, silent=True)
    text = "\n".join(tables)
    print(text)
    start, end = BOARD_MARKERS
    block = f"{start}\n{text}\n{end}"
    README.write_text(
        re.sub(f"{re.escape(start)}.*?{re.escape(end)}", lambda _: block, README.read_text(), flags=re.S)
    )
    session.log("README.md updated with the measured leaderboard")


@nox.session(default=False)
def tour(session: nox.Session) -> None:
    """Run the commands of docs/tour.py in a fresh zoo home and write their real output to docs/tour.md."""
    install_zoo(session, *LESSONS)
    session.run("python", str(ROOT / "docs" / "tour.py"))
