from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

TOY_SOURCE = Path(__file__).parent / "toy" / "zoo_toy.py"


def install_plugin(
    site: Path, dist: str, version: str, entry_points: dict[str, str], modules: dict[str, str]
) -> Path:
    """Write modules plus real distribution metadata (dist-info) that importlib.metadata finds."""
    site.mkdir(parents=True, exist_ok=True)
    for name, source in modules.items():
        (site / f"{name}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    lines = "".join(f"{name} = {target}\n" for name, target in entry_points.items())
    (info / "entry_points.txt").write_text(f"[zoo]\n{lines}")
    return site


def toy_site(folder: Path) -> Path:
    """A folder of installed test plugins holding the toy plugin."""
    return install_plugin(folder, "zoo-toy", "0.3", {"toy": "zoo_toy"}, {"zoo_toy": TOY_SOURCE.read_text()})


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A folder of installed test plugins; the toy plugin is always there."""
    return toy_site(tmp_path / "site")


@pytest.fixture
def install(site: Path):
    """Install another test plugin next to the toy one: install(dist, version, entry_points, modules)."""
    return lambda *args: install_plugin(site, *args)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def env(site: Path) -> dict[str, str]:
    """Environment for subprocess runs of `zoo` that see the test plugins and only them."""
    return {
        "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
        "ZOO_PLUGINS": "toy",
        "ZOO_OFFLINE": "1",
    }


@contextmanager
def plugins_from(site: Path) -> Iterator[None]:
    """Make the test plugins in ``site`` visible to this process, rebuild the plugin manager, and
    forget them afterwards, so the next test imports its own."""
    import importlib

    from zoo_core.plugins import reset

    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(site))
        patch.setenv("ZOO_PLUGINS", "toy")
        patch.setenv("ZOO_OFFLINE", "1")
        importlib.invalidate_caches()
        reset()
        try:
            yield
        finally:
            for name, module in list(sys.modules.items()):
                if str(getattr(module, "__file__", None) or "").startswith(str(site)):
                    del sys.modules[name]
            reset()


@pytest.fixture
def in_process(site: Path) -> Iterator[None]:
    """Make the test plugins visible to this process and rebuild the plugin manager."""
    with plugins_from(site):
        yield


class Zoo:
    """The `zoo` command run in this process (``zoo("run", "toy-mlp")``), with the test plugins."""

    def __init__(self, home: Path) -> None:
        self.home = home

    def __call__(self, *args: str, home: Path | None = None, check: bool = True, env=None):
        from zoo_core.testing import invoke

        return invoke(*args, home=home or self.home, check=check, env=env)

    def json(self, *args: str, home: Path | None = None, env=None) -> list:
        return self(*args, "--json", home=home, env=env).json_lines()


@contextmanager
def toy_zoo(root: Path) -> Iterator[Zoo]:
    """`zoo` in this process on a new home in ``root``, seeing the toy plugin from its own site there:
    for fixtures that outlive one test, where the per-test ``zoo`` fixture cannot serve."""
    home = root / "home"
    home.mkdir()
    with plugins_from(toy_site(root / "site")):
        yield Zoo(home)


@pytest.fixture
def zoo(in_process, home: Path) -> Zoo:
    """Run `zoo` commands in this process against ``home``, seeing the test plugins (toy only)."""
    return Zoo(home)


def run_row(run_id: str, **columns):
    """A RunRow of a toy-mlp run, with ``columns`` changed."""
    from zoo_core.store import RunRow

    values = dict(
        run_id=run_id,
        model="toy-mlp",
        dataset="toy-points",
        task="classification",
        plugin="toy",
        seed=0,
        status="ok",
        hparams={"activation": "relu", "hidden": 8},
        duration_s=1.5,
        num_params=42,
        zoo_version="0.1.0",
        plugin_version="0.3",
        torch_version="2.x",
        device="cpu",
        started_at="2026-12-01T12:00:00+00:00",
        error="",
        run_dir="/tmp/r",
    )
    return RunRow(**{**values, **columns})


@pytest.fixture
def make_row():
    """``make_row(run_id, **columns)``: a RunRow of a toy-mlp run, with ``columns`` changed."""
    return run_row


@pytest.fixture
def recorded(home: Path):
    """``recorded(run_id, **columns)``: a row written straight into ``home``'s store, with its run
    folder (returned); for tests about reading runs back, which need no training."""
    from zoo_core.store import Store

    def record(run_id: str, metrics: dict | None = None, **columns) -> Path:
        folder = home / "runs" / run_id
        folder.mkdir(parents=True)
        row = run_row(run_id, **{"run_dir": str(folder), **columns})
        Store(home / "results.sqlite").record(row, metrics or {"accuracy": 0.5})
        return folder

    return record


@pytest.fixture(scope="module")
def two_tasks_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A home with classification and forecasting runs, a smoke run and a baseline among them; built
    once per module. Tests that write into a home get a copy (``two_tasks`` in test_leaderboard)."""
    with toy_zoo(tmp_path_factory.mktemp("two-tasks")) as zoo:
        zoo("run", "toy-mlp", "--seeds", "0,1", "--quiet")
        zoo("run", "toy-mlp", "--epochs", "1", "--quiet")
        zoo("run", "majority-class", "--dataset", "toy-points", "--quiet")
        zoo("run", "toy-net", "--quiet")
    return zoo.home


# What a user or a plugin controls, in places a report shows: it must come out as text.
HOSTILE = "<script>alert('zoo')</script>"


@dataclass(frozen=True)
class Reported:
    """A zoo home holding runs of every kind `zoo report` shows, and the site it wrote for them."""

    home: Path
    site: Path
    stdout: str
    curves_run: str  # a run whose row holds training and validation curves (and a hostile note)
    failed_run: str
    hostile: str = HOSTILE


@pytest.fixture(scope="module")
def reported(tmp_path_factory: pytest.TempPathFactory) -> Reported:
    """Built once per module (four runs and a site take seconds); tests that change it copy it first."""
    root = tmp_path_factory.mktemp("reported")
    with toy_zoo(root) as zoo:
        return _report_every_kind_of_run(zoo, root / "report")


def _report_every_kind_of_run(zoo: Zoo, site: Path) -> Reported:
    import shutil

    from zoo_core.store import RunRow, Store

    home = zoo.home
    [mlp, _] = zoo.json("run", "toy-mlp", "--seeds", "0,1", "--quiet")
    zoo.json("run", "majority-class", "--dataset", "toy-points", "--quiet")
    zoo.json("run", "toy-net", "--quiet")
    zoo.json("run", "last-value", "--dataset", "toy-wave", "--quiet")
    store = Store(home / "results.sqlite")
    [row] = [r for r in store.rows() if r["run_id"] == mlp["run_id"]]
    # A run as the trainer will record it once it holds out validation data and stops early.
    curves = {**row, "run_id": "20260102-000000-toy-mlp-toy-points-s2-c0ffee", "seed": 2}
    curves["run_dir"] = str(shutil.copytree(row["run_dir"], home / "runs" / curves["run_id"]))
    curves["hparams"] = {**row["hparams"], "activation": HOSTILE}
    curves["note"] = HOSTILE
    curves["training"] = {
        "loss": [0.9, 0.5, 0.4, 0.41],
        "validation": {"accuracy": [0.7, 0.9, 0.95, 0.93]},
        "epochs": 4,
        "best_epoch": 3,
        "stop_reason": "validation accuracy did not improve for 1 epoch",
    }
    failed = {**curves, "run_id": "20260103-000000-toy-mlp-toy-points-s3-bad000", "seed": 3}
    failed.update(status="failed", error=f"RuntimeError: {HOSTILE}", run_dir="", training={}, note="")
    for values in (curves, failed):
        fields = {k: v for k, v in values.items() if k in RunRow.__dataclass_fields__}
        store.record(RunRow(**fields), values["metrics"] if values["status"] == "ok" else {})
    result = zoo("report", "--output", str(site))
    return Reported(home, site, result.stdout, curves["run_id"], failed["run_id"])
