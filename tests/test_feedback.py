"""Validation, early stopping, progress that stays, and the loss curve (issue 14)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
import torch

from zoo_core.data import Split
from zoo_core.training import HEARTBEAT_S, fit, holdout


def points(n: int = 100) -> Split:
    x = torch.randn(n, 2, generator=torch.Generator().manual_seed(0))
    return Split(x, (x[:, 0] > 0).long())


def rows(split: Split) -> set[tuple[float, ...]]:
    return {tuple(row.tolist()) for row in split.x}


def test_holdout_is_seeded_disjoint_and_keeps_every_sample_once():
    train = points()
    kept, validation = holdout(train, 0.1, seed=3, task="classification")
    assert len(validation) == 10 and len(kept) == 90
    assert rows(kept) | rows(validation) == rows(train) and not rows(kept) & rows(validation)
    again = holdout(train, 0.1, seed=3, task="classification")[1]
    assert torch.equal(again.x, validation.x)  # the run's seed fixes the split
    assert not torch.equal(holdout(train, 0.1, seed=4, task="classification")[1].x, validation.x)
    assert holdout(train, 0.0, seed=3, task="classification") == (train, None)


def test_forecasting_validates_on_the_end_of_the_series():
    x = torch.arange(20, dtype=torch.float32).reshape(20, 1, 1)
    series = Split(x, x[:, 0, 0] + 1, torch.arange(20))
    kept, validation = holdout(series, 0.2, seed=0, task="forecasting")
    assert validation.y.tolist() == [17.0, 18.0, 19.0, 20.0] and validation.index.tolist() == [16, 17, 18, 19]
    assert kept.y.tolist() == [float(v) for v in range(1, 17)]


def test_patience_stops_early_and_keeps_the_best_epochs_weights():
    torch.manual_seed(0)
    model = torch.nn.Linear(2, 2)
    weights, scores = {}, []

    def on_epoch(epoch, loss, validation):
        weights[epoch] = {k: v.clone() for k, v in model.state_dict().items()}
        scores.append(validation["loss"])

    history = fit(
        model, points(200), task="classification", epochs=200, batch_size=8, lr=1.0,
        val_fraction=0.2, patience=2, progress=0, on_epoch=on_epoch,
    )  # fmt: skip
    run = len(history.loss)
    assert run < 200 and history.validation == {"loss": scores}
    best = history.best_epoch
    assert best == run - 2 and scores[best - 1] == min(scores)
    assert history.stop_reason == "validation loss did not improve for 2 epochs"
    for name, value in model.state_dict().items():
        assert torch.equal(value, weights[best][name])  # the best epoch's, not the last one's
    assert not all(torch.equal(value, weights[run][k]) for k, value in model.state_dict().items())


def test_run_records_the_validation_curve_and_why_training_stopped(zoo, home):
    [run] = zoo.json("run", "toy-mlp", "--epochs", "40", "--patience", "2", "--quiet")
    row = json.loads(zoo("show", run["run_id"], "--json").stdout)
    training = row["training"]
    epochs = training["epochs"]
    assert epochs < 40 and len(training["loss"]) == epochs
    assert len(training["validation"]["accuracy"]) == epochs
    assert training["best_epoch"] == epochs - 2
    assert training["stop_reason"] == "validation accuracy did not improve for 2 epochs"
    assert row["trainer"]["patience"] == 2 and row["trainer"]["val_fraction"] == 0.1
    shown = zoo("show", run["run_id"]).stdout
    assert f"epochs run   {epochs}\n" in shown
    assert f"best epoch   {epochs - 2}, validation accuracy" in shown
    assert "stopped      validation accuracy did not improve for 2 epochs" in shown


def test_validation_comes_from_training_data_never_the_test_set(zoo, monkeypatch):
    import zoo_core.training

    seen = []

    def spy(train, fraction, **options):
        parts = holdout(train, fraction, **options)
        seen.append(parts)
        return parts

    monkeypatch.setattr(zoo_core.training, "holdout", spy)
    zoo("run", "toy-mlp", "--quiet", "--seeds", "0,1")
    from zoo_core.api import load_dataset

    splits = load_dataset("toy-points", home=zoo.home)
    (kept, validation), (_, other) = seen
    assert len(validation) == 16 and rows(validation) <= rows(splits.train)
    assert not rows(validation) & rows(splits.test) and not rows(validation) & rows(kept)
    assert rows(other) != rows(validation)  # each seed its own split


def test_zero_val_fraction_trains_as_before(zoo):
    [run] = zoo.json("run", "toy-mlp", "--set", "val_fraction=0", "--quiet")
    row = json.loads(zoo("show", run["run_id"], "--json").stdout)
    assert "validation" not in row["training"] and "best_epoch" not in row["training"]
    assert row["training"]["stop_reason"] == "ran all 3 epochs"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--set", "val_fraction=1"], "val_fraction must be at least 0 and below 1, got 1.0"),
        (["--set", "val_fraction=-0.1"], "val_fraction must be at least 0.0, got -0.1"),
        (["--set", "val_fraction=nan"], "val_fraction must be a finite number, got nan"),
        (["--patience", "-1"], "patience must be between 0 and 100000, got -1"),
        (["--set", "val_fraction=0", "--patience", "3"], "patience=3 stops on the validation score"),
        (["--set", "val_fraction=0.999"], "val_fraction=0.999 holds out 160 of the 160 training samples"),
    ],
)
def test_bad_validation_settings_are_one_line_and_exit_2(zoo, args, message):
    result = zoo("run", "toy-mlp", *args, "--quiet", check=False)
    assert result.returncode == 2 and result.stdout == ""
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_estimator_takes_no_patience(zoo):
    result = zoo("run", "majority-class", "--dataset", "toy-points", "--patience", "2", check=False)
    assert result.returncode == 2
    assert "majority-class is not trained by gradient descent, so it takes no 'patience'" in result.stderr


def test_a_line_per_epoch_stays_without_a_terminal_and_quiet_silences_it(zoo):
    said = zoo("run", "toy-mlp").stderr.splitlines()
    epochs = [line for line in said if line.startswith("toy-mlp epoch ")]
    assert len(epochs) == 3 and epochs[0].startswith("toy-mlp epoch 1/3: loss ")
    assert ", validation accuracy " in epochs[0] and epochs[0].endswith(" s")
    assert "step" not in zoo("run", "toy-mlp").stderr
    assert zoo("run", "toy-mlp", "--quiet").stderr == ""
    verbose = zoo("run", "toy-mlp", "--verbose").stderr
    assert "toy-mlp epoch 1/3 step 1/3: loss " in verbose  # 144 samples in batches of 64


def test_without_a_terminal_a_long_epoch_still_says_something(zoo, monkeypatch):
    assert HEARTBEAT_S == 30
    monkeypatch.setattr("zoo_core.training.HEARTBEAT_S", 0.0)  # as if every step took 30 s
    said = zoo("run", "toy-mlp").stderr
    assert "toy-mlp epoch 1/3: 64/144 samples, loss so far " in said


def test_on_a_terminal_the_bar_goes_and_the_epoch_lines_stay(monkeypatch):
    stream = io.StringIO()
    stream.isatty = lambda: True
    monkeypatch.setattr("sys.stderr", stream)
    fit(torch.nn.Linear(2, 2), points(64), task="classification", epochs=2, batch_size=8, lr=0.1, label="toy")
    text = stream.getvalue()
    assert "sample/s" in text  # the bar
    assert "toy epoch 1/2: loss " in text and "toy epoch 2/2: loss " in text


def test_a_one_epoch_curve_is_a_visible_marker_on_a_sane_axis(tmp_path: Path):
    from zoo_core.plots import loss_curve, loss_figure

    figure = loss_figure([0.6931], title="one epoch", validation={"accuracy": [0.5]})
    ax, right = figure.axes
    low, high = ax.get_xlim()
    assert low <= 0.5 and high >= 1.5  # the point sits inside a unit-wide axis
    assert [tick for tick in ax.get_xticks() if low <= tick <= high] == [1.0]  # whole epochs only
    for axis, value in ((ax, 0.6931), (right, 0.5)):
        bottom, top = axis.get_ylim()
        assert bottom < value < top and top - bottom >= 0.01  # not a hairline range around one value
        assert axis.lines[0].get_marker() == "o" and axis.lines[0].get_markersize() >= 10
    loss_curve([0.6931], tmp_path / "curve.png", title="one epoch")
    assert (tmp_path / "curve.png").stat().st_size > 0


def test_an_estimators_curve_names_what_it_measures_over_whole_iterations():
    from zoo_core.plots import loss_figure

    figure = loss_figure([900.0, 600.5, 561.2, 561.2], title="k", xlabel="iteration", ylabel="inertia")
    [ax] = figure.axes
    assert ax.get_xlabel() == "iteration" and ax.get_ylabel() == "inertia"
    assert all(float(tick).is_integer() for tick in ax.get_xticks())


def test_old_rows_trained_without_validation(zoo, home, recorded):
    from zoo_core.recipe import recorded_trainer

    assert recorded_trainer({"epochs": 3}) == {"epochs": 3, "val_fraction": 0.0, "patience": 0}
    assert recorded_trainer({}) == {}  # an estimator has no trainer
    recorded("20260101-000000-toy-mlp-toy-points-s0-0ld000", trainer={"epochs": 3, "lr": 0.05})
    zoo.json("run", "toy-mlp", "--quiet")
    board = zoo("leaderboard", "--dataset", "toy-points").stdout
    assert "val_fraction=0.0" in board  # the old run is not averaged with the new default's
