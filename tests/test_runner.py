"""The run owner: hooks fire only from it, in pairs; observers and metrics never cost a result;
a result that is recorded is right."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from zoo_core.store import Store

# An observer plugin that logs every hook call into ``CALLS`` and can be told to raise.
RECORDER = """
import os
from zoo_core import hookimpl

CALLS = []
RAISE_IN = os.environ.get("ZOO_TEST_RAISE_IN", "")
ERROR = os.environ.get("ZOO_TEST_ERROR", "RuntimeError")


def fail(hook):
    if hook == RAISE_IN:
        if ERROR == "SystemExit":
            raise SystemExit(3)
        raise {"RuntimeError": RuntimeError, "ValueError": ValueError}[ERROR](f"{hook} is down")


@hookimpl
def zoo_run_started(config):
    CALLS.append(("started", config.model, config.seed))
    fail("zoo_run_started")


@hookimpl
def zoo_epoch_finished(config, epoch, loss, validation):
    CALLS.append(("epoch", epoch, loss == loss and abs(loss) != float("inf"), dict(validation)))
    fail("zoo_epoch_finished")


@hookimpl
def zoo_run_finished(config, result):
    CALLS.append(("finished", result.status, sorted(result.metrics)))
    fail("zoo_run_finished")
"""

# A second observer, to show that one observer's failure does not silence the others.
LISTENER = """
from zoo_core import hookimpl

HEARD = []


@hookimpl
def zoo_run_finished(config, result):
    HEARD.append(result.status)
"""


@pytest.fixture
def recorder(install):
    install("zoo-recorder", "1.0", {"recorder": "zoo_recorder"}, {"zoo_recorder": RECORDER})
    install("zoo-listener", "1.0", {"listener": "zoo_listener"}, {"zoo_listener": LISTENER})
    return lambda: sys.modules["zoo_recorder"].CALLS


WITH_OBSERVERS = {"ZOO_PLUGINS": "toy,recorder,listener"}


def test_lifecycle_hooks_fire_in_order(zoo, recorder):
    [result] = zoo.json("run", "toy-mlp", "--quiet", env=WITH_OBSERVERS)
    assert result["status"] == "ok" and result["warnings"] == []
    calls = recorder()
    assert [call[:3] for call in calls] == [
        ("started", "toy-mlp", 0),
        ("epoch", 1, True),
        ("epoch", 2, True),
        ("epoch", 3, True),
        ("finished", "ok", ["accuracy", "f1"]),
    ]
    assert all(set(validation) == {"accuracy"} for *_, validation in calls[1:4])  # on val_fraction 0.1


@pytest.mark.parametrize(
    "hook, error",
    [
        ("zoo_run_started", "RuntimeError"),
        ("zoo_epoch_finished", "ValueError"),
        ("zoo_epoch_finished", "SystemExit"),
        ("zoo_run_finished", "RuntimeError"),
    ],
)
def test_an_observer_that_raises_never_costs_a_result(zoo, recorder, home, hook, error):
    env = {**WITH_OBSERVERS, "ZOO_TEST_RAISE_IN": hook, "ZOO_TEST_ERROR": error}
    result = zoo("run", "toy-mlp", "--seeds", "0,1", "--quiet", "--json", env=env)
    runs = result.json_lines()
    assert [r["status"] for r in runs] == ["ok", "ok"]  # every seed ran and was recorded
    reports = [line for line in result.stderr.splitlines() if f"failed in {hook}" in line]
    assert len(reports) == 2, result.stderr  # once per run, not once per epoch
    assert "plugin 'recorder' (zoo-recorder 1.0)" in reports[0] and "the run goes on" in reports[0]
    rows = Store(home / "results.sqlite").rows()
    assert all(len(row["warnings"]) == 1 and hook in row["warnings"][0] for row in rows)
    assert all(row["metrics"].keys() == {"accuracy", "f1"} for row in rows)
    assert sys.modules["zoo_listener"].HEARD == ["ok", "ok"]
    for row in rows:
        assert (Path(row["run_dir"]) / "weights.pt").exists()


CHANGER = """
from zoo_core import hookimpl


@hookimpl
def zoo_run_started(config):
    config.hparams["hidden"] = 1


@hookimpl
def zoo_run_finished(config, result):
    result.metrics["accuracy"] = 0.0
"""


def test_an_observer_cannot_change_the_config_or_the_result(zoo, install, home):
    install("zoo-changer", "1.0", {"changer": "zoo_changer"}, {"zoo_changer": CHANGER})
    [result] = zoo.json("run", "toy-mlp", "--quiet", env={"ZOO_PLUGINS": "toy,changer"})
    assert result["status"] == "ok" and result["metrics"]["accuracy"] > 0.9
    assert len(result["warnings"]) == 2 and all("TypeError" in w for w in result["warnings"])
    [row] = Store(home / "results.sqlite").rows()
    assert row["hparams"]["hidden"] == 8 and row["metrics"]["accuracy"] > 0.9
    assert len(row["warnings"]) == 2


MODELS = """
import math
import torch
from zoo_core import hookimpl, ModelSpec, MetricSpec, ZooError


class Refusing:
    def __init__(self, dataset):
        pass

    def fit(self, x, y):
        raise ZooError("this estimator needs more points than it was given")

    def predict(self, x):
        return torch.zeros(len(x), dtype=torch.int64)

    def state_dict(self):
        return {}


class Crashing(Refusing):
    def fit(self, x, y):
        raise RuntimeError("a bug in the plugin")


class NanWeights:
    def __init__(self, dataset):
        self.w = torch.zeros(2)

    def fit(self, x, y):
        self.w = torch.full((2,), math.nan)

    def predict(self, x):
        return torch.zeros(len(x), dtype=torch.int64)

    def state_dict(self):
        return {"w": self.w}


class NanForecasts:
    def __init__(self, dataset):
        pass

    def fit(self, x, y):
        pass

    def predict(self, x):
        return torch.full((len(x),), math.inf)

    def state_dict(self):
        return {}


def spec(name, factory, task="classification"):
    return ModelSpec(name=name, task=task, factory=f"zoo_odd:{factory}", summary="s", reference="r",
                     gradient=False)


@hookimpl
def zoo_models():
    return [spec("refusing", "Refusing"), spec("crashing", "Crashing"), spec("nan-weights", "NanWeights"),
            spec("nan-forecasts", "NanForecasts", "forecasting")]


def broken_metric(targets, predictions):
    raise ValueError("cannot score this")


@hookimpl
def zoo_metrics():
    return [MetricSpec(name="fragile", task="classification", fn="zoo_odd:broken_metric",
                       higher_is_better=True, summary="raises on every run")]
"""


@pytest.fixture
def odd(install, recorder):
    install("zoo-odd", "1.0", {"odd": "zoo_odd"}, {"zoo_odd": MODELS})
    return {"ZOO_PLUGINS": "toy,odd,recorder,listener"}


def test_a_run_refused_after_it_started_still_finishes_for_observers(zoo, odd, recorder, home):
    result = zoo("run", "refusing", "--dataset", "toy-points", env=odd, check=False)
    assert result.returncode == 2 and "needs more points" in result.stderr
    assert recorder() == [("started", "refusing", 0), ("finished", "refused", [])]
    assert Store(home / "results.sqlite").rows() == [] and not any((home / "runs").iterdir())


def test_a_crash_is_recorded_as_failed_and_keeps_its_traceback(zoo, odd, recorder, home):
    with pytest.raises(RuntimeError, match="a bug in the plugin"):  # a bug keeps its traceback
        zoo("run", "crashing", "--dataset", "toy-points", env=odd, check=False)
    assert recorder()[-1] == ("finished", "failed", [])
    [row] = Store(home / "results.sqlite").rows()
    assert row["status"] == "failed" and "a bug in the plugin" in row["error"]
    folder = Path(row["run_dir"])
    assert {p.name for p in folder.iterdir()} == {"config.json", "error.txt"}
    assert "Traceback" in (folder / "error.txt").read_text()


@pytest.mark.parametrize(
    "model, dataset, reason",
    [
        ("nan-weights", "toy-points", "the model's w became non-finite"),
        ("nan-forecasts", "toy-wave", "its forecasting outputs became non-finite"),
    ],
)
def test_a_model_that_became_non_finite_is_never_stored_ok(zoo, odd, home, model, dataset, reason):
    result = zoo("run", model, "--dataset", dataset, env=odd, check=False)
    assert result.returncode == 1 and reason in result.stderr
    [row] = Store(home / "results.sqlite").rows()
    assert row["status"] == "failed" and row["metrics"] == {}
    board = zoo("leaderboard", "--format", "csv", env=odd)
    assert model not in board.stdout


def test_a_metric_that_raises_is_missing_from_its_run_only(zoo, odd, home):
    result = zoo("run", "toy-mlp", "--quiet", "--json", env=odd)
    [run] = result.json_lines()
    assert run["status"] == "ok" and set(run["metrics"]) == {"accuracy", "f1"}
    assert "metric 'fragile' of plugin 'odd' failed: ValueError: cannot score this" in result.stderr
    [row] = Store(home / "results.sqlite").rows()
    assert row["warnings"] == ["metric 'fragile' of plugin 'odd' failed: ValueError: cannot score this"]
    assert (Path(row["run_dir"]) / "weights.pt").exists() and (
        Path(row["run_dir"]) / "confusion_matrix.png"
    ).exists()
    board = json.loads(zoo("leaderboard", "--format", "json", env=odd).stdout)
    assert board[0]["accuracy_mean"] > 0.9 and "fragile_mean" not in board[0]


INTERRUPTING = """
from zoo_core import hookimpl


@hookimpl
def zoo_epoch_finished(config, epoch, loss):
    raise KeyboardInterrupt
"""


def test_an_interrupted_run_leaves_no_row_and_a_folder_marked_incomplete(zoo, install, home):
    [done] = zoo.json("run", "toy-mlp", "--quiet")
    install("zoo-stop", "1.0", {"stop": "zoo_stop"}, {"zoo_stop": INTERRUPTING})
    result = zoo("run", "toy-mlp", "--seed", "1", "--quiet", env={"ZOO_PLUGINS": "toy,stop"}, check=False)
    assert result.returncode == 130
    assert [row["seed"] for row in Store(home / "results.sqlite").rows()] == [0]
    [interrupted] = [f for f in (home / "runs").iterdir() if str(f) != done["run_dir"]]
    assert "interrupted" in (interrupted / "INCOMPLETE").read_text()
    assert not (Path(done["run_dir"]) / "INCOMPLETE").exists()


def test_the_conformance_kit_fires_no_hook_of_any_plugin(in_process, recorder, monkeypatch):
    from zoo_core.testing import check_plugin

    monkeypatch.setenv("ZOO_PLUGINS", "toy,recorder,listener")
    check_plugin("toy")
    assert recorder() == [] and sys.modules["zoo_listener"].HEARD == []


def test_a_run_config_is_read_only():
    from zoo_core.runs import RunConfig, RunResult

    config = RunConfig(
        run_id="r", model="m", dataset="d", task="classification", seed=0, device="cpu", threads=1,
        hparams={"k": 3}, trainer={"lr": 0.1}, run_dir=Path("/tmp/r"), plugin="p", plugin_version="1",
    )  # fmt: skip
    for mapping in (config.hparams, config.trainer):
        with pytest.raises(TypeError):
            mapping["k"] = 4  # type: ignore[index]
    result = RunResult(run_id="r", model="m", dataset="d", status="ok", metrics={"accuracy": 1.0})
    with pytest.raises(TypeError):
        result.metrics["accuracy"] = 0.0  # type: ignore[index]
    import pickle

    assert pickle.loads(pickle.dumps(config)) == config  # records travel to workers and back
    assert pickle.loads(pickle.dumps(result)) == result
