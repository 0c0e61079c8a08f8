"""Provenance in every row, and the commands that read it back: runs, show, reproduce."""

from __future__ import annotations

import json
import sqlite3

import pytest


def test_a_row_records_what_a_rerun_needs(home, zoo):
    [result] = zoo.json("run", "toy-mlp", "--seed", "4", "--threads", "1", "--quiet")
    [row] = json.loads(zoo("runs", "--json").stdout)
    assert row["run_id"] == result["run_id"]
    assert row["config"]["hparams"] == row["hparams"] == {"activation": "relu", "hidden": 8}
    assert (
        row["config"]["trainer"]
        == row["trainer"]
        == {
            "batch_size": 64,
            "epochs": 3,
            "lr": 0.05,
            "optimizer": "adam",
            "schedule": "constant",
            "weight_decay": 0.0,
        }
    )
    assert row["config"]["seed"] == 4 and row["config"]["dataset"] == "toy-points"
    assert row["threads"] == 1 and row["device"] == "cpu"
    assert row["numpy_version"] and row["python_version"] and row["torch_version"] and row["zoo_version"]
    assert row["plugin_version"] == "0.3"
    assert row["dataset_fingerprint"].startswith("sha256:") and len(row["dataset_fingerprint"]) == 71
    # The test plugin is not installed from a checkout; zoo-core is, in the repository's own tests.
    assert row["git_commit"] == ""


def test_the_data_fingerprint_follows_the_data(home, zoo):
    zoo("run", "toy-mlp", "--quiet")
    zoo("run", "toy-mlp", "--seed", "1", "--quiet")
    zoo("run", "toy-fallback", "--dataset", "toy-points", "--quiet")
    (home / "data").mkdir()
    (home / "data" / "toy.csv").write_text("0,0,0\n1,1,1\n")
    zoo("run", "toy-fallback", "--dataset", "toy-file", "--quiet")
    rows = json.loads(zoo("runs", "--json").stdout)
    prints = {(r["model"], r["dataset"], r["seed"]): r["dataset_fingerprint"] for r in rows}
    assert len(set(prints.values())) == 2
    assert prints[("toy-mlp", "toy-points", 0)] == prints[("toy-mlp", "toy-points", 1)]
    assert prints[("toy-fallback", "toy-file", 0)] != prints[("toy-mlp", "toy-points", 0)]


def test_show_prints_config_metrics_and_artefacts(home, zoo):
    [result] = zoo.json("run", "toy-mlp", "--seed", "2", "--quiet")
    text = zoo("show", result["run_id"][:-2]).stdout  # a unique prefix will do
    assert f"run          {result['run_id']}" in text
    assert "settings     activation=relu, batch_size=64, epochs=3, hidden=8, lr=0.05" in text
    shown_metrics = {
        line.split()[0]: float(line.split()[1])
        for line in text.split("metrics\n")[1].split("artefacts")[0].splitlines()
    }
    assert shown_metrics == pytest.approx(result["metrics"], rel=1e-5)
    for name in ("config.json", "metrics.json", "weights.pt", "loss_curve.png", "confusion_matrix.png"):
        assert f"{result['run_dir']}/{name}" in text
    shown = json.loads(zoo("show", result["run_id"], "--json").stdout)
    assert shown["metrics"] == result["metrics"] and "accuracy" not in shown
    assert len(shown["artefacts"]) == 5


def test_an_ambiguous_prefix_is_refused(home, zoo):
    zoo("run", "toy-mlp", "--seeds", "0,1", "--quiet")
    result = zoo("show", "2", check=False)
    assert result.returncode == 2 and "2 runs start with '2'" in result.stderr


def test_reproduce_matches_a_cpu_run_exactly(home, zoo):
    [original] = zoo.json("run", "toy-mlp", "--seed", "7", "--quiet")
    out = zoo("reproduce", original["run_id"]).stdout
    assert "reproduced exactly" in out
    assert "data fingerprint: identical" in out and "weights: identical" in out
    table = {line.split()[0]: line.split()[1:] for line in out.splitlines()[3:] if line.endswith(" yes")}
    assert table == {name: [repr(value), repr(value), "yes"] for name, value in original["metrics"].items()}
    check = json.loads(zoo("reproduce", original["run_id"], "--json").stdout)
    assert check["matches"] and check["same_weights"] and check["same_data"]
    assert [(m["stored"], m["reproduced"]) for m in check["metrics"]] == [
        (original["metrics"][m["name"]],) * 2 for m in check["metrics"]
    ]
    # A reproduction is a check, not a result: the leaderboard still holds one run.
    assert len(json.loads(zoo("runs", "--json").stdout)) == 1


def test_reproduce_reports_a_metric_that_differs(home, zoo):
    [original] = zoo.json("run", "toy-mlp", "--quiet")
    with sqlite3.connect(home / "results.sqlite") as db:
        db.execute("UPDATE metrics SET value = value - 0.25 WHERE name = 'accuracy'")
    result = zoo("reproduce", original["run_id"], check=False)
    assert result.returncode == 1
    assert "NOT reproduced" in result.stdout
    [accuracy] = [line for line in result.stdout.splitlines() if line.startswith("accuracy")]
    assert accuracy.split()[-1] == "NO"


def test_reproduce_refuses_a_failed_run(home, zoo):
    result = zoo("run", "toy-mlp", "--set", "lr=1e6", "--set", "optimizer=sgd", check=False)
    assert result.returncode == 1
    [row] = json.loads(zoo("runs", "--json").stdout)
    result = zoo("reproduce", row["run_id"], check=False)
    assert result.returncode == 2 and "failed; there are no metrics to reproduce" in result.stderr
