"""Leaderboard aggregation: mean ± std over seeds, best first within each dataset."""

from __future__ import annotations

import math

import pytest

from zoo_core.leaderboard import aggregate, render, runs_frame
from zoo_core.specs import MetricSpec

METRICS = {
    "accuracy": MetricSpec(
        name="accuracy", task="classification", fn="m:f", higher_is_better=True, summary="a"
    ),
    "mse": MetricSpec(name="mse", task="forecasting", fn="m:f", higher_is_better=False, summary="m"),
    "seed": MetricSpec(name="seed", task="forecasting", fn="m:f", higher_is_better=True, summary="s"),
    "status": MetricSpec(name="status", task="forecasting", fn="m:f", higher_is_better=True, summary="s"),
}


DEFAULTS = {"a": {"epochs": 5}, "b": {"epochs": 5}, "x": {}, "y": {}}


def defaults(model, dataset):
    return DEFAULTS.get(model, {})


def row(model, dataset, task, seed, status="ok", hparams=None, metrics=None, **named):
    hparams = {"epochs": 5} if hparams is None and model in "ab" else hparams or {}
    return {
        "model": model,
        "dataset": dataset,
        "task": task,
        "seed": seed,
        "status": status,
        "hparams": hparams,
        "trainer": {},
        "metrics": {**(metrics or {}), **named},
    }


@pytest.fixture
def board():
    rows = [
        row("a", "points", "classification", 0, accuracy=0.80),
        row("a", "points", "classification", 1, accuracy=0.90),
        row("b", "points", "classification", 0, accuracy=0.95),
        row("b", "points", "classification", 1, status="failed"),
        row("x", "wave", "forecasting", 0, mse=0.5),
        row("y", "wave", "forecasting", 0, mse=0.1),
        row("y", "wave", "forecasting", 1, mse=0.3),
    ]
    return aggregate(runs_frame(rows, defaults), METRICS, {"points": "accuracy", "wave": "mse"})


def test_one_row_per_model_and_dataset_best_first(board):
    assert list(zip(board["dataset"], board["model"], strict=True)) == [
        ("points", "b"),
        ("points", "a"),
        ("wave", "y"),
        ("wave", "x"),
    ]


def test_mean_std_and_run_counts(board):
    a = board[board["model"] == "a"].iloc[0]
    assert a["accuracy_mean"] == pytest.approx(0.85)
    assert a["accuracy_std"] == pytest.approx(math.sqrt(0.005))  # sample std over the two seeds
    assert a["runs"] == 2
    b = board[board["model"] == "b"].iloc[0]
    assert b["runs"] == 1 and math.isnan(b["accuracy_std"])  # the failed run is not counted
    y = board[board["model"] == "y"].iloc[0]
    assert y["mse_mean"] == pytest.approx(0.2)


def test_rendering(board):
    table = render(board, "table")
    assert "0.8500 ± 0.0707" in table and "0.9500 " in table
    assert render(board, "csv").splitlines()[0].startswith("task,dataset,model")
    assert "<table" in render(board, "html")
    assert render(board, "markdown").splitlines()[1].startswith("|:")


def test_small_errors_keep_significant_figures():
    rows = [row("y", "wave", "forecasting", seed, mse=value) for seed, value in enumerate([7.9e-6, 9.4e-7])]
    table = render(aggregate(runs_frame(rows, defaults), METRICS, {"wave": "mse"}), "table")
    assert "4.42e-06 ± 4.92e-06" in table


def test_runs_with_other_settings_are_not_averaged_together():
    rows = [
        row("a", "points", "classification", 0, accuracy=0.9),
        row("a", "points", "classification", 1, accuracy=0.8),
        row("a", "points", "classification", 0, hparams={"epochs": 1}, accuracy=0.2),
    ]
    board = aggregate(runs_frame(rows, defaults), METRICS, {"points": "accuracy"})
    assert list(zip(board["settings"], board["runs"], strict=True)) == [("", 2), ("epochs=1", 1)]
    assert board["accuracy_mean"].tolist() == pytest.approx([0.85, 0.2])


def test_empty_store_gives_an_empty_board():
    assert aggregate(runs_frame([], defaults), METRICS, {}).empty


def test_metrics_never_replace_the_columns_of_a_run():
    # A plugin's metrics called "seed" and "status" stay metrics: the runs keep their own columns.
    rows = [
        row("y", "wave", "forecasting", seed, metrics={"mse": 0.1, "seed": 9.0, "status": 0.5})
        for seed in (0, 1)
    ]
    frame = runs_frame(rows, defaults)
    assert frame["seed"].tolist() == [0, 1] and frame["status"].tolist() == ["ok", "ok"]
    board = aggregate(frame, METRICS, {"wave": "mse"})
    assert board["runs"].tolist() == [2]
    assert board["seed_mean"].tolist() == [9.0] and board["status_mean"].tolist() == [0.5]
