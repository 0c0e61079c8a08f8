"""With nothing started and nothing set, a zoo run lands in a SQLite MLflow store in the zoo home."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
import zoo_mlflow
from zoo_mlflow.settings import read
from zoo_mlflow.tracker import Tracker, bounded, params_of

from zoo_core import RunConfig, RunResult, find_run
from zoo_core.provenance import Provenance
from zoo_core.runner import row
from zoo_core.store import Store


def local_uri(home: Path) -> str:
    return f"sqlite:///{(home / 'mlflow' / 'mlflow.db').resolve()}"


def test_a_run_lands_in_the_local_store_with_params_steps_scores_provenance_and_files(
    zoo, read_back, tmp_path
):
    result = zoo.run()
    assert result.status == "ok" and result.warnings == () and zoo.warnings() == []
    logged = read_back(local_uri(zoo.home), result.run_id)

    assert logged.run.info.run_name == result.run_id and logged.status == "FINISHED"
    assert logged.params == {
        "model": "tiny-mlp",
        "dataset": "tiny-points",
        "seed": "0",
        "hidden": "4",
        "epochs": "3",
        "lr": "0.05",
        "batch_size": "64",
        "weight_decay": "0.0",
        "optimizer": "adam",
        "schedule": "constant",
        "val_fraction": "0.1",
        "patience": "0",
    }
    assert [step for step, _ in logged.steps("loss")] == [1, 2, 3]
    assert {name: logged.metrics[name] for name in result.metrics} == pytest.approx(dict(result.metrics))
    assert logged.metrics["num_params"] == result.num_params

    row = find_run(zoo.home, result.run_id)
    tags = logged.tags
    assert tags["zoo.status"] == "ok" and tags["zoo.plugin"] == "test-plugin"
    assert tags["zoo.dataset_fingerprint"] == row["dataset_fingerprint"].strip()
    assert tags["zoo.torch_version"] == row["torch_version"] and tags["zoo.zoo_version"] == row["zoo_version"]

    assert {"weights.pt", "loss_curve.png", "confusion_matrix.png", "config.json"} <= set(logged.artifacts())
    # Artifacts go beside the database in the zoo home, never into ./mlruns where zoo happened to run.
    artifacts = zoo.home / "mlflow" / "artifacts"
    assert list(artifacts.rglob("weights.pt")) and not (tmp_path / "mlruns").exists()


def test_each_run_is_its_own_mlflow_run_in_the_experiment_named_by_the_setting(zoo, read_back, monkeypatch):
    monkeypatch.setenv("ZOO_MLFLOW_EXPERIMENT", "lenet-study")
    monkeypatch.setenv("ZOO_MLFLOW_ARTIFACTS", "0")
    first, second = zoo.run(), zoo.run(epochs=2)
    assert read_back(local_uri(zoo.home), first.run_id, "lenet-study").params["epochs"] == "3"
    logged = read_back(local_uri(zoo.home), second.run_id, "lenet-study")
    assert logged.params["epochs"] == "2" and [s for s, _ in logged.steps("loss")] == [1, 2]
    assert logged.artifacts() == []


def config_for(home: Path, run_id: str) -> RunConfig:
    return RunConfig(
        run_id=run_id,
        model="tiny-mlp",
        dataset="tiny-points",
        task="classification",
        seed=1,
        device="cpu",
        threads=1,
        hparams={"hidden": 4, "seed": 7},
        trainer={"epochs": 2},
        run_dir=home / "runs" / run_id,
        plugin="test-plugin",
        plugin_version="0",
    )


def record(config: RunConfig, result: RunResult, sweep_id: str = "") -> None:
    """Record the run as the runner does (a sweep's client, for ``sweep_id``), with a file in its folder."""
    config.run_dir.mkdir(parents=True)
    (config.run_dir / "weights.pt").write_bytes(b"weights")
    provenance = Provenance("2.4", "3.11", 1, "sha256:feed", "abc123", "")
    recorded = replace(row(config, result, provenance, "2026-01-01T00:00:00", "2.15"), sweep_id=sweep_id)
    Store(config.home / "results.sqlite").record(recorded, result.metrics)


def test_validation_metrics_are_step_metrics_and_a_setting_never_hides_the_seed(zoo, read_back):
    config = config_for(zoo.home, "20260101-000000-tiny-mlp-tiny-points-s1-aaaaaa")
    result = RunResult(
        run_id=config.run_id,
        model=config.model,
        dataset=config.dataset,
        status="ok",
        metrics={"accuracy": 0.9},
    )
    zoo_mlflow.zoo_run_started(config=config)
    for epoch, accuracy in ((1, 0.6), (2, 0.8)):
        zoo_mlflow.zoo_epoch_finished(
            config=config, epoch=epoch, loss=1 / epoch, validation={"accuracy": accuracy}
        )
    record(config, result)
    zoo_mlflow.zoo_run_finished(config=config, result=result)

    logged = read_back(local_uri(zoo.home), config.run_id)
    assert logged.steps("val_accuracy") == [(1, 0.6), (2, 0.8)] and logged.steps("loss") == [
        (1, 1.0),
        (2, 0.5),
    ]
    assert logged.params["seed"] == "1" and logged.params["hparams.seed"] == "7"
    assert logged.tags["mlflow.source.git.commit"] == "abc123" and logged.artifacts() == ["weights.pt"]


def test_a_run_recorded_in_another_process_than_it_trained_is_found_and_its_sweep_groups_it(zoo, read_back):
    uri = local_uri(zoo.home)
    trainer, recorder = Tracker(), Tracker()  # a sweep's worker and its client
    run_ids = (
        "20260101-000000-tiny-mlp-tiny-points-s1-bbbbbb",
        "20260101-000000-tiny-mlp-tiny-points-s2-cccccc",
    )
    for n, run_id in enumerate(run_ids):
        config = config_for(zoo.home, run_id)
        result = RunResult(run_id=run_id, model=config.model, dataset=config.dataset, status="ok", metrics={})
        if n == 0:
            trainer.started(config)
            trainer.epoch(config, 1, 0.5, {})
        record(config, result, sweep_id="sweep-1f2e")
        recorder.finished(config, result)  # the second one never started anywhere: it is opened here

    first, second = (read_back(uri, run_id) for run_id in run_ids)
    assert first.steps("loss") == [(1, 0.5)] and first.status == second.status == "FINISHED"
    parent = first.tags["mlflow.parentRunId"]
    assert second.tags["mlflow.parentRunId"] == parent and first.tags["zoo.sweep_id"] == "sweep-1f2e"
    assert first.client.get_run(parent).info.run_name == "sweep-sweep-1f2e"


def test_params_keep_the_model_and_trainer_settings_apart_only_when_they_clash(tmp_path):
    config = config_for(tmp_path, "x")
    assert params_of(config) == {
        "model": "tiny-mlp",
        "dataset": "tiny-points",
        "seed": 1,
        "hidden": 4,
        "hparams.seed": 7,
        "epochs": 2,
    }


def test_mlflow_waits_are_bounded_only_inside_the_plugin_and_the_users_own_values_win(monkeypatch, tmp_path):
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", raising=False)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    monkeypatch.setenv("ZOO_MLFLOW_TIMEOUT", "3")
    from mlflow.environment_variables import MLFLOW_HTTP_REQUEST_MAX_RETRIES, MLFLOW_HTTP_REQUEST_TIMEOUT

    with bounded(read(tmp_path)):
        assert MLFLOW_HTTP_REQUEST_TIMEOUT.get() == 30 and MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 1
    assert MLFLOW_HTTP_REQUEST_MAX_RETRIES.get() == 7  # MLflow's own default again


def test_zoo_plugins_without_mlflow_switch_it_off(zoo, monkeypatch):
    monkeypatch.setenv("ZOO_PLUGINS", "")
    assert zoo.run().status == "ok"
    assert not (zoo.home / "mlflow").exists()


def test_loading_the_plugin_does_not_import_mlflow():
    code = "import sys, zoo_mlflow; print('mlflow' in sys.modules)"
    assert (
        subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
        == "False\n"
    )


@pytest.mark.integration  # four processes importing MLflow: `nox -s mlflow_server`
def test_processes_starting_together_on_a_new_store_all_get_a_client(tmp_path):
    # A sweep's workers and its client open one new SQLite store at once; MLflow's migrations of a
    # new file must not collide ("table _alembic_tmp_experiments already exists").
    start = tmp_path / "go"
    script = (
        "import pathlib, sys, time\n"
        "from zoo_mlflow.settings import read\n"
        "from zoo_mlflow.tracker import Tracker\n"
        "while not pathlib.Path(sys.argv[1]).exists(): time.sleep(0.01)\n"
        "Tracker()._client(read(pathlib.Path(sys.argv[2])))\n"
    )
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(start), str(tmp_path / "home")],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "MLFLOW_TRACKING_URI": ""},
        )
        for _ in range(4)
    ]
    (tmp_path / "home" / "mlflow").mkdir(parents=True)
    start.touch()
    errors = [p.communicate(timeout=300)[1] for p in processes]
    assert [p.returncode for p in processes] == [0] * 4, errors
