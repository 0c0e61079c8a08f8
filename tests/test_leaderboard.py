"""Leaderboard aggregation: mean ± std over seeds, best first within each dataset."""

from __future__ import annotations

import json
import math
import shutil

import pytest

from zoo_core.errors import ZooError
from zoo_core.leaderboard import FORMATS, aggregate, panels, render, render_all, runs_frame, select
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


# --- seeds, not runs, are what a mean ± std is over -------------------------------------------


@pytest.mark.parametrize(
    ("seeds_and_values", "seeds", "runs", "mean", "std"),
    [
        ([(0, 0.8), (0, 0.8)], 1, 2, 0.8, None),  # a seed run twice is one seed: no "± 0.0000"
        ([(0, 0.8), (0, 0.6)], 1, 2, 0.7, None),  # its duplicates are averaged first
        ([(0, 0.8), (0, 0.6), (1, 0.9)], 2, 3, 0.8, math.sqrt(0.02)),  # seed 0 counts once, as 0.7
        ([(0, 0.8), (1, 0.9), (2, 1.0)], 3, 3, 0.9, 0.1),
        ([(5, 0.5)], 1, 1, 0.5, None),
    ],
)
def test_duplicates_of_a_seed_count_once(seeds_and_values, seeds, runs, mean, std):
    rows = [row("a", "points", "classification", s, accuracy=v) for s, v in seeds_and_values]
    [line] = aggregate(runs_frame(rows, defaults), METRICS, {"points": "accuracy"}).to_dict("records")
    assert (line["seeds"], line["runs"]) == (seeds, runs)
    assert line["accuracy_mean"] == pytest.approx(mean)
    assert math.isnan(line["accuracy_std"]) if std is None else line["accuracy_std"] == pytest.approx(std)


def test_one_seed_shows_no_spread_and_the_columns_say_seeds_and_runs():
    rows = [row("a", "points", "classification", 0, accuracy=0.8) for _ in range(2)]
    table = render(aggregate(runs_frame(rows, defaults), METRICS, {"points": "accuracy"}), "table")
    header, line = table.splitlines()
    assert header.split() == ["task", "dataset", "model", "settings", "seeds", "runs", "accuracy"]
    assert line.split()[-3:] == ["1", "2", "0.8000"] and "±" not in line


# --- best on top, whatever the values -----------------------------------------------------------

ORDER_CASES = {
    "higher is better": ("points", "accuracy", [("a", 0.5), ("b", 0.9), ("x", 0.7)], ["b", "x", "a"]),
    "lower is better": ("wave", "mse", [("a", 0.5), ("b", 0.9), ("x", 0.1)], ["x", "a", "b"]),
    "ties by name": ("points", "accuracy", [("x", 0.5), ("b", 0.5), ("a", 0.5)], ["a", "b", "x"]),
    "one row": ("wave", "mse", [("y", 0.3)], ["y"]),
    "missing value last": ("points", "accuracy", [("a", None), ("b", 0.1), ("x", 0.2)], ["x", "b", "a"]),
    "missing value last, lower": ("wave", "mse", [("a", None), ("b", 0.9), ("x", 0.2)], ["x", "b", "a"]),
    "negative values": ("points", "accuracy", [("a", -0.5), ("b", -0.1), ("x", -0.9)], ["b", "a", "x"]),
}


@pytest.mark.parametrize("case", sorted(ORDER_CASES))
def test_best_rows_come_first(case):
    dataset, metric, values, expected = ORDER_CASES[case]
    task = "classification" if metric == "accuracy" else "forecasting"
    rows = [
        row(model, dataset, task, 0, metrics={metric: value} if value is not None else {"f1": 0.1})
        for model, value in values
    ]
    metrics = {**METRICS, "f1": METRICS["accuracy"]}
    board = aggregate(runs_frame(rows, defaults), metrics, {dataset: metric})
    assert board["model"].tolist() == expected
    bars = panels({task: _with_attrs(board, {dataset: metric}, metrics)})[0].bars
    assert [b.label for b in bars] == expected  # the plot draws them in the same order, first on top


def _with_attrs(board, primary, metrics, baselines=()):
    board.attrs.update(
        primary=primary,
        higher={m: metrics[m].higher_is_better for m in primary.values()},
        baselines=list(baselines),
    )
    return board


# --- what a plot's bars say -----------------------------------------------------------------------


def test_bars_tell_settings_and_baselines_apart():
    rows = [
        row("a", "points", "classification", 0, accuracy=0.9),
        row("a", "points", "classification", 1, accuracy=0.8),
        row("a", "points", "classification", 0, hparams={"epochs": 1}, accuracy=0.3),
        row("x", "points", "classification", 0, accuracy=0.5),
        row("x", "points", "classification", 0, accuracy=0.5),
    ]
    board = aggregate(runs_frame(rows, defaults), METRICS, {"points": "accuracy"})
    [panel] = panels({"classification": _with_attrs(board, {"points": "accuracy"}, METRICS, ["x"])})
    assert (panel.task, panel.dataset, panel.metric, panel.higher_is_better) == (
        "classification",
        "points",
        "accuracy",
        True,
    )
    assert [(b.label, b.kind) for b in panel.bars] == [
        ("a", "default settings"),
        ("x", "baseline"),
        ("a (epochs=1)", "other settings"),  # a smoke run is its own bar, never drawn over the real one
    ]
    assert [b.text for b in panel.bars] == [
        "0.8500 ± 0.0707 (2 seeds)",
        "0.5000 (1 seed, 2 runs)",
        "0.3000 (1 seed)",
    ]


def test_the_plot_draws_every_panel_in_the_format_asked(tmp_path):
    from zoo_core.plots import leaderboard_bars

    rows = [
        row("a", "points", "classification", 0, accuracy=0.9),
        row("a", "points", "classification", 0, hparams={"epochs": 1}, accuracy=0.3),
        row("y", "wave", "forecasting", 0, mse=float("nan")),
        row("x", "wave", "forecasting", 0, mse=0.5),
    ]
    frame = runs_frame(rows, defaults)
    tables = {
        task: _with_attrs(
            aggregate(frame[frame["task"] == task], METRICS, {dataset: metric}), {dataset: metric}, METRICS
        )
        for task, dataset, metric in (
            ("classification", "points", "accuracy"),
            ("forecasting", "wave", "mse"),
        )
    }
    drawn = panels(tables)
    assert [(p.dataset, p.higher_is_better) for p in drawn] == [("points", True), ("wave", False)]
    assert [b.text for b in drawn[1].bars] == ["0.5000 (1 seed)", "no value"]
    for fmt, magic in (("png", b"\x89PNG"), ("pdf", b"%PDF"), ("svg", b"<?xml")):
        assert leaderboard_bars(drawn, fmt).startswith(magic)


# --- every format, one task or several ----------------------------------------------------------


@pytest.fixture
def tables(board):
    """The fixture's board split by task, as ``boards`` gives it: each with its own metrics only."""
    return {
        task: board[board["task"] == task].dropna(axis=1, how="all").reset_index(drop=True)
        for task in ("classification", "forecasting")
    }


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_keeps_the_tasks_apart(tables, fmt):
    text = render_all(tables, fmt)
    if fmt == "json":
        rows = json.loads(text)
        assert [r["task"] for r in rows] == ["classification"] * 2 + ["forecasting"] * 2
        assert "mse_mean" not in rows[0] and "accuracy_mean" not in rows[2]  # no other task's columns
        assert json.loads(render_all({"classification": tables["classification"]}, fmt)) == rows[:2]
    elif fmt == "csv":
        header, *lines = text.splitlines()
        assert header.split(",")[:6] == ["task", "dataset", "model", "settings", "seeds", "runs"]
        assert [line.split(",")[0] for line in lines] == ["classification"] * 2 + ["forecasting"] * 2
    else:
        for board in tables.values():
            # Each task's own table, with its own columns only; its heading names the task.
            assert render(board.drop(columns="task"), fmt) in text
        assert text.index("classification") < text.index("forecasting")
        heading = {"table": "forecasting\n", "markdown": "**forecasting**", "html": "<h2>forecasting</h2>"}
        assert heading[fmt] in text


def test_filters_that_match_nothing_say_so_with_a_suggestion():
    rows = [row("a", "points", "classification", 0, accuracy=0.5)]
    assert select(rows, "db", model="a") == rows
    assert select(rows, "db", model=None, dataset="points") == rows
    with pytest.raises(ZooError, match=r"no runs with model 'b' in db$"):
        select(rows, "db", model="b")
    with pytest.raises(ZooError, match=r"no runs with dataset 'pionts' in db; did you mean 'points'\?"):
        select(rows, "db", dataset="pionts")


# --- the command: what it writes, and what it says it wrote -----------------------------------------


@pytest.fixture
def two_tasks(two_tasks_home, zoo, home):
    """`zoo` on this test's own copy of a home with classification and forecasting runs."""
    shutil.copytree(two_tasks_home, home, dirs_exist_ok=True)
    return zoo


@pytest.mark.parametrize(
    ("name", "magic"),
    [("board.png", b"\x89PNG"), ("board.PNG", b"\x89PNG"), ("board.svg", b"<?xml"), ("board.pdf", b"%PDF")],
)
def test_the_plot_is_one_file_with_the_name_given(two_tasks, home, name, magic):
    result = two_tasks("leaderboard", "--plot", str(home / name))
    assert (home / name).read_bytes().startswith(magic)
    assert result.stderr == f"zoo: wrote {home / name}: 2 panels, one per dataset\n"
    # Nothing else is written, besides SQLite's own -wal/-shm files of a read-only connection.
    written = sorted(p.name for p in home.iterdir() if not p.name.endswith(("-wal", "-shm")))
    assert written == sorted(["results.sqlite", "runs", name])


def test_the_output_is_written_whole_and_replaces_the_old_one(two_tasks, home, tmp_path):
    target = tmp_path / "board.md"
    target.write_text("old board\n")
    target.chmod(0o640)
    two_tasks("leaderboard", "--format", "markdown", "--output", str(target))
    text = target.read_text()
    assert text.startswith("**classification**") and "**forecasting**" in text
    assert target.stat().st_mode & 0o777 == 0o640  # the file is replaced, its permissions kept
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".zoo-")] == []
    link = tmp_path / "link.md"
    link.symlink_to(target)
    two_tasks("leaderboard", "--format", "csv", "--output", str(link))
    assert link.is_symlink() and target.read_text().startswith("task,dataset,model,settings,seeds,runs")


def test_the_table_keeps_each_task_apart_and_counts_seeds(two_tasks):
    text = two_tasks("leaderboard").stdout
    classification, forecasting = text.split("\n\n")
    assert classification.splitlines()[0] == "classification" and "mse" not in classification
    assert forecasting.splitlines()[0] == "forecasting" and "accuracy" not in forecasting
    rows = json.loads(two_tasks("leaderboard", "--format", "json").stdout)
    assert [(r["model"], r["settings"], r["seeds"], r["runs"]) for r in rows] == [
        ("toy-mlp", "", 2, 2),
        ("toy-mlp", "epochs=1", 1, 1),
        ("majority-class", "", 1, 1),
        ("toy-net", "", 1, 1),
    ]


@pytest.mark.parametrize(
    ("args", "shown", "note"),
    [
        ([], 20, "the last 20 of 23 runs"),
        (["--limit", "5"], 5, "the last 5 of 23 runs"),
        (["--limit", "50"], 23, None),
        (["--json"], 23, None),  # a program gets every run unless it asks for fewer
        (["--json", "--limit", "3"], 3, None),
        (["--model", "toy-mlp", "--limit", "100"], 22, None),
    ],
)
def test_runs_says_when_it_shows_only_the_last_ones(zoo, home, make_row, args, shown, note):
    from zoo_core.store import Store

    store = Store(home / "results.sqlite")
    for i in range(23):
        model = "toy-net" if i == 7 else "toy-mlp"
        store.record(make_row(f"run-{i:02d}", model=model, started_at=f"2026-01-01T00:00:{i:02d}"), {})
    result = zoo("runs", *args)
    if "--json" in args:
        ids = [r["run_id"] for r in json.loads(result.stdout)]
    else:
        ids = [line.split()[0] for line in result.stdout.splitlines()[2:]]
    assert len(ids) == shown and ids[-1] == "run-22"  # the newest last, always
    assert (note in result.stderr) if note else result.stderr == ""
