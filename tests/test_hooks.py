"""One test per hook, named test_hook_<name>: what a plugin implementing it can rely on.

tests/test_hookspecs.py fails when a hook has no such test (datasette's habit).
"""

from __future__ import annotations

import json
import sys

import pytest

from zoo_core.store import Store

CONTRIBUTOR = """
from zoo_core import DatasetSpec, MetricSpec, ModelSpec, hookimpl


@hookimpl
def zoo_models():
    return [ModelSpec(name="extra-mlp", task="classification", factory="zoo_toy:build_mlp", summary="s",
                      reference="r", defaults={"hidden": 4}, trainer={"epochs": 1}, input_shape=(2,))]


@hookimpl
def zoo_datasets():
    return [DatasetSpec(name="extra-points", task="classification", loader="zoo_toy:load_points",
                        description="the toy points again", source="s", license="CC0", input_shape=(2,),
                        train_size=160, test_size=40, classes=("left", "right"))]


@hookimpl
def zoo_metrics():
    return [MetricSpec(name="error-rate", task="classification", fn="zoo_extra:error_rate",
                       higher_is_better=False, summary="fraction classified wrongly")]


def error_rate(targets, predictions):
    return float((targets != predictions).mean())
"""

OBSERVER = """
from zoo_core import find_run, hookimpl

CALLS = []
ROWS = []


@hookimpl
def zoo_run_started(config):
    CALLS.append(("started", config.run_id, dict(config.hparams), dict(config.trainer), config.threads))


@hookimpl
def zoo_epoch_finished(config, epoch, loss, validation):
    CALLS.append(("epoch", config.run_id, epoch, loss, dict(validation)))


@hookimpl
def zoo_run_finished(config, result):
    CALLS.append(("finished", config.run_id, result.status, dict(result.metrics)))
    ROWS.append(find_run(config.home, config.run_id))
"""


@pytest.fixture
def extra(zoo, install):
    install("zoo-extra", "1.0", {"extra": "zoo_extra"}, {"zoo_extra": CONTRIBUTOR})
    return {"ZOO_PLUGINS": "toy,extra"}


@pytest.fixture
def observed(zoo, install):
    install("zoo-observer", "1.0", {"observer": "zoo_observer"}, {"zoo_observer": OBSERVER})
    return {"ZOO_PLUGINS": "toy,observer"}, lambda: sys.modules["zoo_observer"].CALLS


def test_hook_zoo_models(zoo, extra):
    listed = json.loads(zoo("list", "--json", env=extra).stdout)
    [model] = [m for m in listed["models"] if m["name"] == "extra-mlp"]
    assert model["plugin"] == "extra"
    # A contributed model runs on every dataset of its task that fits it, the toy plugin's included.
    [run] = zoo.json("run", "extra-mlp", "--dataset", "toy-points", "--quiet", env=extra)
    assert run["status"] == "ok"


def test_hook_zoo_datasets(zoo, extra):
    info = json.loads(zoo("info", "extra-points", "--json", env=extra).stdout)
    assert info["plugin"] == "extra" and "toy-mlp" in info["models_that_fit"]
    [run] = zoo.json("run", "toy-mlp", "--dataset", "extra-points", "--quiet", env=extra)
    assert run["dataset"] == "extra-points" and run["metrics"]["accuracy"] > 0.9


def test_hook_zoo_metrics(zoo, extra):
    [run] = zoo.json("run", "toy-mlp", "--quiet", env=extra)
    # Every run of the task is scored with the contributed metric, whichever plugin made the model.
    assert run["metrics"]["error-rate"] == pytest.approx(1 - run["metrics"]["accuracy"])


def test_hook_zoo_run_started(zoo, observed, home):
    env, calls = observed
    [run] = zoo.json("run", "toy-mlp", "--threads", "1", "--quiet", env=env)
    [started] = [c for c in calls() if c[0] == "started"]
    # The config is resolved and fixed: the model's settings and the trainer's, apart, and the threads.
    assert started == ("started", run["run_id"], {"activation": "relu", "hidden": 8}, started[3], 1)
    assert started[3]["epochs"] == 3 and started[3]["lr"] == 0.05
    assert calls()[0][0] == "started"  # before anything else


def test_hook_zoo_epoch_finished(zoo, observed):
    env, calls = observed
    [run] = zoo.json("run", "toy-mlp", "--quiet", env=env)
    epochs = [c for c in calls() if c[0] == "epoch"]
    assert [c[2] for c in epochs] == [1, 2, 3]
    assert all(c[1] == run["run_id"] and 0 < c[3] < 10 for c in epochs)
    # The dataset's primary metric on the held-out 10% of the training set, after each epoch.
    assert all(set(c[4]) == {"accuracy"} and 0 <= c[4]["accuracy"] <= 1 for c in epochs)
    zoo.json("run", "toy-mlp", "--set", "val_fraction=0", "--quiet", env=env)
    assert [c[4] for c in calls() if c[0] == "epoch"][3:] == [{}, {}, {}]  # nothing held out
    zoo.json("run", "majority-class", "--dataset", "toy-points", "--quiet", env=env)
    assert len([c for c in calls() if c[0] == "epoch"]) == 6  # an estimator has no epochs


def test_hook_zoo_run_finished(zoo, observed, home):
    env, calls = observed
    [run] = zoo.json("run", "toy-mlp", "--quiet", env=env)
    finished = calls()[-1]
    assert finished == ("finished", run["run_id"], "ok", run["metrics"])
    # It fires after the row is in the store: a logger may read it back, provenance included.
    assert [r["run_id"] for r in Store(home / "results.sqlite").rows()] == [run["run_id"]]
    [row] = sys.modules["zoo_observer"].ROWS
    assert row["run_id"] == run["run_id"] and row["dataset_fingerprint"].startswith("sha256:")
