"""The zoo as a library: the functions zoo_core exports, on the toy plugin."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import zoo_core
from zoo_core import ZooError


def test_importing_and_listing_do_not_import_torch_or_pandas(home, env):
    # A real process: what matters is what `import zoo_core` and the listings load from nothing.
    probe = (
        "import sys, zoo_core\n"
        "print(zoo_core.list_models(), zoo_core.list_datasets(), zoo_core.list_metrics())\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
        "print('checked')\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, **env, "ZOO_HOME": str(home)},
    )
    assert result.returncode == 0, result.stderr
    assert "toy-mlp" in result.stdout and result.stdout.rstrip().endswith("checked")


def test_every_public_name_is_exported_and_the_functions_shadow_no_module():
    import importlib

    assert all(hasattr(zoo_core, name) for name in zoo_core.__all__)
    for module in ("zoo_core.leaderboard", "zoo_core.runs", "zoo_core.cli.results", "zoo_core.sweeper"):
        importlib.import_module(module)  # importing a module by name must not replace the function
    assert callable(zoo_core.leaderboard) and callable(zoo_core.runs) and callable(zoo_core.sweep)
    assert sys.modules["zoo_core.leaderboard"].boards and sys.modules["zoo_core.runs"].RunConfig


def test_listings_filter_with_wildcards_task_and_dataset(zoo):
    assert zoo_core.list_models("toy-*") == ["toy-fallback", "toy-mlp", "toy-net"]
    assert zoo_core.list_models(["*-net", "last-*"]) == ["last-value", "toy-net"]
    assert zoo_core.list_models(task="forecasting") == ["last-value", "toy-net"]
    assert zoo_core.list_models(dataset="toy-points") == ["majority-class", "toy-fallback", "toy-mlp"]
    assert zoo_core.list_datasets("toy-*", task="forecasting") == ["toy-wave"]
    assert zoo_core.list_metrics(task="forecasting") == ["mae", "mse", "rmse"]
    with pytest.raises(zoo_core.UnknownName, match="unknown dataset 'toy-pionts'; did you mean 'toy-points'"):
        zoo_core.list_models(dataset="toy-pionts")


def test_info_is_the_record_zoo_info_json_prints(zoo):
    for name in ("toy-mlp", "toy-points", "accuracy"):
        assert zoo_core.info(name) == json.loads(zoo("info", name, "--json").stdout)


def test_create_model_takes_the_models_own_hyperparameters_only(zoo):
    model = zoo_core.create_model("toy-mlp", hidden=4)
    assert model.training and model[0].out_features == 4
    with pytest.raises(ZooError, match="epochs, lr are trainer settings: give trainer settings to zoo_core"):
        zoo_core.create_model("toy-mlp", epochs=2, lr=0.1)
    with pytest.raises(ZooError, match="unknown hyperparameter 'hiden' for toy-mlp; did you mean 'hidden'"):
        zoo_core.create_model("toy-mlp", hiden=4)
    assert zoo_core.create_model("majority-class", "toy-points").label == 0


def test_load_dataset_returns_the_splits_runs_get(zoo, home):
    splits = zoo_core.load_dataset("toy-points", home=home)
    assert (len(splits.train), len(splits.test)) == (160, 40)


def test_run_load_predict_and_the_tables(zoo, home):
    result = zoo_core.run("toy-mlp", seed=1, home=home, epochs=4, hidden=6)
    assert result.status == "ok" and result.metrics["accuracy"] > 0.9

    trained = zoo_core.load_run(result.run_id[:20], device="cpu", home=home)
    assert not trained.model.training and trained.device == "cpu"
    assert trained.config.hparams["hidden"] == 6 and trained.config.trainer["epochs"] == 4
    assert dict(trained.metrics) == dict(result.metrics)
    assert trained.provenance["dataset_fingerprint"].startswith("sha256:")
    right = trained.predict([2.5, 2.4])  # one row of features
    assert (right.label, right.name) == (1, "right") and 0.5 < right.probability <= 1
    both = trained.predict(np.array([[-2.5, -2.5], [2.5, 2.5]]))  # rows: one prediction each
    assert [p.name for p in both] == ["left", "right"]
    assert trained.predict([[-2.5, -2.5]])[0].label == 0  # a list of rows
    splits = zoo_core.load_dataset("toy-points", home=home)
    labels = [p.label for p in trained.predict(splits.test.x)]
    assert np.mean(np.array(labels) == splits.test.y.numpy()) == pytest.approx(result.metrics["accuracy"])

    zoo_core.run("toy-mlp", seed=2, home=home, epochs=4, hidden=6)
    runs = zoo_core.runs(home=home, model="toy-mlp")
    assert list(runs["seed"]) == [1, 2] and "metrics.accuracy" in runs
    with pytest.raises(ZooError, match="runs have no column 'modle'; did you mean 'model'"):
        zoo_core.runs(home=home, modle="toy-mlp")
    board = zoo_core.leaderboard("classification", home=home)
    printed = json.loads(zoo("leaderboard", "--task", "classification", "--format", "json").stdout)
    assert board.to_dict("records") == printed
    assert list(zoo_core.leaderboard(home=home)) == ["classification"]


def test_a_forecaster_predicts_from_a_window_of_values(zoo, home):
    result = zoo_core.run("toy-net", home=home, epochs=2)
    trained = zoo_core.load_run(result.run_id, device="cpu", home=home)
    one = trained.predict([0.1, 0.2, 0.3, 0.4, 0.5])
    assert one.value is not None and one.label is None and one.to_json() == {"value": one.value}
    assert len(trained.predict(np.zeros((3, 5)))) == 3
    with pytest.raises(ValueError, match="an input shaped 4, not 5×1"):
        trained.predict([0.1, 0.2, 0.3, 0.4])


def test_an_estimators_run_loads_and_predicts_labels(zoo, home):
    with pytest.raises(zoo_core.UnknownName):
        zoo_core.load_run("nope", home=home)
    [ok] = zoo.json("run", "majority-class", "--dataset", "toy-points")
    trained = zoo_core.load_run(ok["run_id"], home=home)
    assert trained.predict([0.0, 0.0]).probability is None  # an estimator gives labels only


def test_sweep_runs_a_grid_as_zoo_sweep_does_and_returns_its_runs(zoo, home):
    frame = zoo_core.sweep("toy-mlp", grid={"hidden": [4, 8]}, seeds="0-1", home=home, threads=1, epochs=2)
    assert [(row["hidden"], seed) for row, seed in zip(frame["hparams"], frame["seed"], strict=True)] == [
        (4, 0), (4, 1), (8, 0), (8, 1),
    ]  # fmt: skip
    assert set(frame["status"]) == {"ok"} and "metrics.accuracy" in frame
    sweep_id = frame.attrs["sweep_id"]
    assert set(frame["sweep_id"]) == {sweep_id}
    # The same sweep on the command line: the same id, every run recorded already.
    args = ["toy-mlp", "--grid", "hidden=4,8", "--seeds", "0-1", "--set", "epochs=2"]
    plan = json.loads(zoo("sweep", *args, "--dry-run", "--json").stdout)
    assert (plan["sweep_id"], plan["done"]) == (sweep_id, 4)
    again = zoo_core.sweep("toy-mlp", grid={"hidden": (4, 8)}, seeds=[0, 1], home=home, epochs=2)
    assert list(again["run_id"]) == list(frame["run_id"]) and len(zoo_core.runs(home=home)) == 4
    forced = zoo_core.sweep("toy-mlp", grid={"hidden": [4, 8]}, seeds="0-1", home=home, epochs=2, rerun=True)
    assert not set(forced["run_id"]) & set(frame["run_id"]) and len(zoo_core.runs(home=home)) == 8
    board = zoo_core.leaderboard("classification", home=home, sweep=sweep_id[:12])
    printed = json.loads(zoo("leaderboard", "--sweep", sweep_id, "--format", "json").stdout)
    assert [(b["settings"], b["runs"]) for b in printed] == [("epochs=2 hidden=4", 2), ("epochs=2", 2)]
    assert list(board["settings"]) == [b["settings"] for b in printed]  # the JSON rounds the numbers
    assert list(board["accuracy_mean"]) == pytest.approx([b["accuracy_mean"] for b in printed])


def test_sweep_warns_of_what_it_leaves_out_and_refuses_bad_input_before_running(zoo, home):
    with pytest.warns(UserWarning) as told:
        frame = zoo_core.sweep(all_models=True, grid={"hidden": [4]}, home=home, threads=1, epochs=1)
    assert [str(w.message) for w in told] == [
        f"skipped {name}: it takes no hidden" for name in ("last-value", "majority-class", "toy-net")
    ]
    assert {w.filename for w in told} == {__file__}  # they point at the caller
    assert sorted(frame["model"]) == ["toy-fallback", "toy-mlp"]
    for kwargs, message in [
        ({"grid": {"hidden": 4}}, "grid hidden must be a non-empty list of values"),
        ({"grid": {"hidden": []}}, "grid hidden must be a non-empty list of values"),
        ({"grid": {"hidden": ["x"]}}, "hidden expects int, got 'x'"),
        ({"seeds": 1.5}, "seeds must be"),
        ({"workers": 0}, "--workers must be between"),
        ({"workers": 2, "scheduler": "tcp://127.0.0.1:1"}, "not both"),
        ({"hiden": 4}, "did you mean 'hidden'"),
    ]:
        with pytest.raises(ZooError, match=message):
            zoo_core.sweep("toy-mlp", home=home, **kwargs)
    assert len(zoo_core.runs(home=home)) == 2


def test_sweep_reads_a_sweep_file_and_the_arguments_override_it(zoo, home, tmp_path):
    path = tmp_path / "sweep.toml"
    path.write_text('models = ["toy-mlp"]\nseeds = [0, 1]\n[grid]\nhidden = [4, 8]\n[set]\nepochs = 1\n')
    frame = zoo_core.sweep(file=path, seeds=3, home=home, threads=1)
    assert sorted(zip([h["hidden"] for h in frame["hparams"]], frame["seed"], strict=True)) == [
        (4, 3),
        (8, 3),
    ]
