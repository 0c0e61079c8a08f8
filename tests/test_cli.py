"""The `zoo` command end to end, as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def test_help_and_list_do_not_import_torch_pandas_or_dask(home, env):
    # A real process: what matters is what this command imports when it starts from nothing.
    probe = (
        "import sys\nfrom zoo_core.cli import main\n"
        "try:\n    code = main(sys.argv[1:])\nexcept SystemExit as exc:\n    code = exc.code\n"
        "assert code == 0, f'exit {code}'\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
        "assert 'pandas' not in sys.modules, 'pandas was imported'\n"
        "assert not {'dask', 'distributed'} & set(sys.modules), 'dask was imported'\n"
        "print('checked')\n"
    )
    for args in (
        ["list"],
        ["list", "--json"],
        ["plugins"],
        ["--help"],
        ["run", "--help"],
        ["sweep", "--help"],
    ):
        result = subprocess.run(
            [sys.executable, "-c", probe, *args],
            capture_output=True,
            text=True,
            env={**os.environ, **env, "ZOO_HOME": str(home)},
        )
        assert result.returncode == 0, result.stderr
        assert result.stdout.rstrip().endswith("checked"), args


def test_list_is_sorted_and_filters_by_task(home, zoo):
    listed = json.loads(zoo("list", "--json").stdout)
    assert set(listed) >= {"models", "datasets", "metrics"}
    for kind in ("models", "datasets", "metrics"):
        names = [item["name"] for item in listed[kind]]
        assert names == sorted(names)
        assert all({"name", "task", "plugin"} <= set(item) for item in listed[kind])
    forecasting = json.loads(zoo("list", "--task", "forecasting", "--json").stdout)
    assert [m["name"] for m in forecasting["models"]] == ["last-value", "toy-net"]
    assert {m["task"] for m in forecasting["metrics"]} == {"forecasting"}
    table = zoo("list").stdout
    assert "toy-points" in table and "default dataset" in table


def test_info_shows_parameter_count_and_fitting_datasets(home, zoo):
    info = json.loads(zoo("info", "toy-mlp", "--json").stdout)
    assert info["parameters"] == "42 (on toy-points)"  # 2*8+8 + 8*2+2
    assert info["datasets_it_fits"] == "toy-file, toy-points"
    assert info["hyperparameters"] == "activation=relu, hidden=8"
    assert "epochs=3" in info["trainer"] and "batch_size=64" in info["trainer"]
    dataset = json.loads(zoo("info", "toy-points", "--json").stdout)
    assert dataset["primary_metric"] == "accuracy"
    assert dataset["models_that_fit"] == "majority-class, toy-fallback, toy-mlp"
    assert "higher" in zoo("info", "accuracy").stdout


def test_run_writes_the_run_folder_and_a_row(home, zoo):
    [result] = zoo.json("run", "toy-mlp", "--seed", "3")
    assert result["status"] == "ok" and result["dataset"] == "toy-points"
    assert result["metrics"]["accuracy"] > 0.9
    assert result["num_params"] == 42
    folder = home / "runs" / result["run_id"]
    assert str(folder) == result["run_dir"]
    assert {p.name for p in folder.iterdir()} == {
        "config.json",
        "metrics.json",
        "weights.pt",
        "loss_curve.png",
        "confusion_matrix.png",
    }
    config = json.loads((folder / "config.json").read_text())
    assert config["seed"] == 3 and config["hparams"]["hidden"] == 8 and config["plugin_version"] == "0.3"
    assert json.loads((folder / "metrics.json").read_text()) == result["metrics"]


def test_seeds_and_all(home, zoo):
    results = zoo.json("run", "toy-mlp", "--seeds", "0,1,2", "--threads", "1", "--quiet")
    assert [r["status"] for r in results] == ["ok"] * 3
    everything = zoo.json("run", "--all", "--quiet")
    pairs = {(r["model"], r["dataset"]) for r in everything}
    # toy-fallback's own dataset is missing, so it falls back; baselines then run on what was used.
    assert pairs == {
        ("toy-mlp", "toy-points"),
        ("toy-net", "toy-wave"),
        ("toy-fallback", "toy-points"),
        ("majority-class", "toy-points"),
        ("last-value", "toy-wave"),
    }
    on_points = zoo.json("run", "--all", "--dataset", "toy-points", "--quiet")
    assert sorted(r["model"] for r in on_points) == ["majority-class", "toy-fallback", "toy-mlp"]


def test_fallback_only_when_the_dataset_was_not_asked_for(home, zoo):
    result = zoo("run", "toy-fallback", "--json", "--quiet")  # --quiet: no epoch lines, the notice stays
    fallen_back = json.loads(result.stdout)
    assert fallen_back["dataset"] == "toy-points"
    # The fallback dataset's own defaults apply, exactly as if it had been asked for.
    assert json.loads((Path(fallen_back["run_dir"]) / "config.json").read_text())["trainer"]["epochs"] == 2
    info = json.loads(zoo("info", "toy-fallback", "--json").stdout)
    assert info["on_toy-points"] == "epochs=2"
    notice = result.stderr.strip().splitlines()
    assert notice == [
        "zoo: toy-file is not available (put toy.csv into "
        + str(home / "data")
        + "); running toy-fallback on toy-points"
    ]
    explicit = zoo("run", "toy-fallback", "--dataset", "toy-file", check=False)
    assert explicit.returncode == 2 and "put toy.csv into" in explicit.stderr


def test_same_seed_same_metrics(home, zoo):
    first = zoo.json("run", "toy-mlp", "--seed", "7")[0]
    second = zoo.json("run", "toy-mlp", "--seed", "7")[0]
    assert first["metrics"] == second["metrics"]
    assert first["run_id"] != second["run_id"]
    forecast_a = zoo.json("run", "toy-net", "--seed", "1")[0]
    forecast_b = zoo.json("run", "toy-net", "--seed", "1")[0]
    assert forecast_a["metrics"] == forecast_b["metrics"]
    other = zoo.json("run", "toy-net", "--seed", "2")[0]
    assert other["metrics"] != forecast_a["metrics"]


def test_forecasting_and_estimator_runs(home, zoo):
    [net] = zoo.json("run", "toy-net", "--set", "epochs=30", "--set", "lr=0.01")
    [last] = zoo.json("run", "last-value", "--dataset", "toy-wave")
    assert set(net["metrics"]) == {"mse", "rmse", "mae"}
    assert abs(net["metrics"]["rmse"] ** 2 - net["metrics"]["mse"]) < 1e-9
    assert (home / "runs" / net["run_id"] / "forecast.png").exists()
    assert not (home / "runs" / last["run_id"] / "loss_curve.png").exists()  # nothing was trained
    [majority] = zoo.json("run", "majority-class", "--dataset", "toy-points")
    assert majority["metrics"]["accuracy"] == 0.5
    assert majority["num_params"] == 1  # the fitted state: one label


def test_leaderboard_from_the_command_line(home, zoo):
    zoo.json("run", "toy-mlp", "--seeds", "0,1")
    zoo.json("run", "majority-class", "--dataset", "toy-points")
    csv = zoo("leaderboard", "--format", "csv").stdout.splitlines()
    assert csv[0].split(",")[:3] == ["task", "dataset", "model"]
    assert [line.split(",")[2] for line in csv[1:]] == ["toy-mlp", "majority-class"]
    rows = json.loads(zoo("leaderboard", "--format", "json", "--model", "toy-mlp").stdout)
    assert rows[0]["runs"] == 2 and rows[0]["accuracy_std"] is not None
    markdown = zoo("leaderboard", "--format", "markdown").stdout
    assert markdown.startswith("| task") and "±" in markdown
    html = home / "board.html"
    plot = home / "board.png"
    zoo("leaderboard", "--format", "html", "--output", str(html), "--plot", str(plot))
    assert "<table" in html.read_text()
    assert plot.read_bytes()[:4] == b"\x89PNG"
    empty = zoo("leaderboard", "--task", "classification", home=home / "elsewhere", check=False)
    assert empty.returncode == 2 and "no successful runs with task" in empty.stderr


def test_a_closed_pipe_is_not_an_error(home, env):
    read_end, write_end = os.pipe()
    os.close(read_end)  # like `zoo list | head` once head has left: every write fails with EPIPE
    result = subprocess.run(
        [sys.executable, "-m", "zoo_core", "list"],
        stdout=write_end,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **env, "ZOO_HOME": str(home)},
    )
    os.close(write_end)
    assert result.returncode == 0 and result.stderr == ""


def test_python_dash_m_is_the_same_command():
    result = subprocess.run([sys.executable, "-m", "zoo_core", "--version"], capture_output=True, text=True)
    assert result.stdout.startswith("zoo-core ")
