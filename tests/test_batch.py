"""`zoo run --all`: trainer settings reach only the models that train; each skip is said once, with why."""

from __future__ import annotations

import collections
import json
from pathlib import Path

import pytest

from zoo_core.store import Store

# An estimator next to the toy plugin's gradient models. It calls one of its own settings
# `epochs`, as an estimator may: `--epochs` is then its own setting, not the trainer's.
ESTIMATOR = """
from zoo_core import ModelSpec, hookimpl


@hookimpl
def zoo_models():
    return [
        ModelSpec(
            name="toy-centroid", task="classification", factory="zoo_toy_centroid:Centroid",
            summary="nearest class mean", reference="tests", defaults={"shrink": 0.0}, gradient=False,
            default_dataset="toy-points", input_shape=(2,),
        ),
        ModelSpec(
            name="toy-lloyd", task="classification", factory="zoo_toy_centroid:Centroid",
            summary="nearest class mean, refined", reference="tests", defaults={"epochs": 2},
            gradient=False, default_dataset="toy-points", input_shape=(2,),
        ),
    ]


class Centroid:
    def __init__(self, dataset, shrink=0.0, epochs=0):
        self.classes = len(dataset.classes)

    def fit(self, x, y):
        import torch

        self.centroids = torch.stack([x[y == c].mean(0) for c in range(self.classes)])

    def predict(self, x):
        import torch

        return torch.cdist(x, self.centroids).argmin(1)

    def state_dict(self):
        return {"centroids": self.centroids}
"""

PLUGINS = {"ZOO_PLUGINS": "toy,centroid"}
EVERY_PAIR = {
    ("toy-mlp", "toy-points"),
    ("toy-net", "toy-wave"),
    ("toy-fallback", "toy-points"),
    ("toy-centroid", "toy-points"),
    ("toy-lloyd", "toy-points"),
    ("majority-class", "toy-points"),
    ("last-value", "toy-wave"),
}


@pytest.fixture
def batch(zoo, install):
    install("zoo-toy-centroid", "1.0", {"centroid": "zoo_toy_centroid"}, {"zoo_toy_centroid": ESTIMATOR})

    def run(*args):
        result = zoo("run", "--all", "--quiet", "--json", *args, env=PLUGINS, check=False)
        results = [json.loads(line) for line in result.stdout.splitlines()]
        return result, results

    return run


def said_once(stderr):
    repeated = [line for line, n in collections.Counter(stderr.splitlines()).items() if n > 1]
    assert not repeated, f"said more than once: {repeated}"


@pytest.mark.parametrize(
    ("args", "trainer"),
    [
        (["--epochs", "1"], {"epochs": 1}),
        (["--epochs", "1", "--seeds", "0,1"], {"epochs": 1}),
        (["--set", "lr=0.01", "--set", "batch_size=16"], {"lr": 0.01, "batch_size": 16}),
        (["--set", "optimizer=sgd", "--epochs", "2"], {"optimizer": "sgd", "epochs": 2}),
    ],
)
def test_trainer_settings_reach_only_the_models_that_train(batch, args, trainer):
    result, results = batch(*args)
    seeds = 2 if "--seeds" in args else 1
    assert result.returncode == 0, result.stderr
    assert {(r["model"], r["dataset"]) for r in results} == EVERY_PAIR  # no estimator or baseline skipped
    assert len(results) == len(EVERY_PAIR) * seeds
    configs = [json.loads((Path(r["run_dir"]) / "config.json").read_text()) for r in results]
    for config in configs:
        if config["model"] in ("toy-mlp", "toy-net", "toy-fallback"):
            assert trainer.items() <= config["trainer"].items()
        else:
            assert config["trainer"] == {}
    # An estimator's own "epochs" is its own setting, and --epochs sets it.
    lloyd = [c["hparams"] for c in configs if c["model"] == "toy-lloyd"]
    assert lloyd == [{"epochs": trainer.get("epochs", 2)}] * seeds
    said_once(result.stderr)
    assert result.stderr.count("toy-file is not available") == 1  # the fallback is said once, for every seed


@pytest.mark.parametrize(
    ("args", "ran", "skipped"),
    [
        (["--set", "hidden=4"], {"toy-mlp", "toy-fallback"}, {"toy-net", "toy-centroid", "toy-lloyd"}),
        (["--set", "shrink=0.5"], {"toy-centroid"}, {"toy-mlp", "toy-net", "toy-fallback", "toy-lloyd"}),
        (
            ["--set", "activation=tanh", "--epochs", "1"],
            {"toy-mlp"},
            {"toy-net", "toy-centroid", "toy-fallback", "toy-lloyd"},
        ),
    ],
)
def test_models_a_setting_does_not_fit_are_skipped_once_with_the_reason(batch, args, ran, skipped):
    result, results = batch(*args)
    assert result.returncode == 0, result.stderr
    assert {r["model"] for r in results} - {"majority-class", "last-value"} == ran
    assert "majority-class" in {r["model"] for r in results}  # the floor stays: baselines ignore the setting
    said_once(result.stderr)
    [line] = [line for line in result.stderr.splitlines() if line.startswith("zoo: skipped ")]
    for model in skipped:
        assert line.count(f"{model} (it has no setting") == 1


def test_every_model_on_one_dataset_includes_its_baseline_and_estimators(batch):
    result, results = batch("--dataset", "toy-points", "--epochs", "1")
    assert result.returncode == 0, result.stderr
    assert {r["model"] for r in results} == {
        "toy-mlp",
        "toy-fallback",
        "toy-centroid",
        "toy-lloyd",
        "majority-class",
    }
    said_once(result.stderr)
    # toy-net is a forecaster: said once, with why.
    assert (
        "toy-net (toy-net is a forecasting model but toy-points is a classification dataset)" in result.stderr
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "nosuch=1"], "no model has a setting 'nosuch'"),
        (["--set", "hiden=4"], "no model has a setting 'hiden'; did you mean 'hidden'?"),
        (["--epochs", "0"], "epochs must be positive, got 0"),  # the estimators would have run
        (["--set", "lr=nan"], "lr must be a finite number, got nan"),
        (["--set", "optimizer=rmsprop"], "optimizer must be one of adam, adamw, sgd, got 'rmsprop'"),
        (["--set", "hidden=0"], "toy-mlp: hidden must be between 1 and 1024, got 0"),
        (["--set", "shrink=x", "--seeds", "0,1"], "toy-centroid: shrink expects float, got 'x'"),
        (["--set", "epochs=-2", "--dataset", "toy-points"], "epochs must be positive, got -2"),
    ],
)
def test_a_value_no_model_takes_is_bad_input_before_anything_runs(batch, home, args, message):
    result, results = batch(*args)
    assert (result.returncode, results) == (2, [])
    [line] = result.stderr.splitlines()
    assert line.startswith("zoo: error: ") and message in line
    assert not (home / "runs").exists()


def test_when_every_run_is_refused_the_last_line_says_so(batch, home):
    result, results = batch("--dataset", "toy-file", "--seeds", "0,1,2")
    assert (result.returncode, results) == (2, [])
    lines = result.stderr.splitlines()
    said_once(result.stderr)
    assert sorted(line.split(":")[1] for line in lines if "put toy.csv into" in line) == [
        " skipped majority-class",
        " skipped toy-centroid",
        " skipped toy-fallback",
        " skipped toy-lloyd",
        " skipped toy-mlp",
    ]  # once per model, not once per seed
    assert lines[-1] == "zoo: error: no model ran: each was refused (see above)"
    assert not (home / "runs").exists() and Store(home / "results.sqlite").rows() == []
