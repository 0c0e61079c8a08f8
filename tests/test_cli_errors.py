"""Every input error a user can cause: one line on stderr, exit code 2, no traceback, no data lost."""

from __future__ import annotations

import pytest

CASES = {
    "unknown model": (["run", "toy-mpl"], "unknown model 'toy-mpl'; did you mean 'toy-mlp'?"),
    "unknown dataset": (["run", "toy-mlp", "--dataset", "toy-pionts"], "did you mean 'toy-points'?"),
    "unknown info name": (["info", "toy-wav"], "did you mean 'toy-wave'?"),
    "task mismatch": (
        ["run", "toy-mlp", "--dataset", "toy-wave"],
        "toy-mlp is a classification model but toy-wave is a forecasting dataset",
    ),
    "no default dataset": (
        ["run", "majority-class"],
        "majority-class has no default dataset; pass --dataset",
    ),
    "shape mismatch": (
        ["run", "toy-mlp", "--dataset", "toy-triples"],
        "toy-mlp needs inputs shaped 2 but toy-triples gives 3",
    ),
    "unknown hyperparameter": (["run", "toy-mlp", "--set", "hiden=3"], "unknown hyperparameter 'hiden'"),
    "ill-typed hyperparameter": (
        ["run", "toy-mlp", "--set", "hidden=many"],
        "hidden expects int, got 'many'",
    ),
    "value not among the choices": (
        ["run", "toy-mlp", "--set", "activation=gelu"],
        "activation must be one of relu, tanh, got 'gelu'",
    ),
    "unknown optimizer": (["run", "toy-mlp", "--set", "optimizer=rmsprop"], "optimizer must be one of adam"),
    "malformed --set": (["run", "toy-mlp", "--set", "hidden"], "--set expects key=value"),
    "zero epochs": (["run", "toy-mlp", "--epochs", "0"], "epochs must be positive, got 0"),
    "negative lr": (["run", "toy-mlp", "--set", "lr=-1"], "lr must be positive"),
    "zero batch size": (["run", "toy-mlp", "--set", "batch_size=0"], "batch_size must be positive, got 0"),
    "negative weight decay": (
        ["run", "toy-mlp", "--set", "weight_decay=-0.1"],
        "weight_decay must be between 0.0 and 1000000.0, got -0.1",
    ),
    "below a model's bound": (["run", "toy-mlp", "--set", "hidden=0"], "hidden must be between 1 and 1024"),
    "above a model's bound": (["run", "toy-mlp", "--set", "hidden=5000"], "must be between 1 and 1024"),
    "unknown device": (["run", "toy-mlp", "--device", "tpu"], "argument --device: invalid choice: 'tpu'"),
    "--seed and --seeds": (["run", "toy-mlp", "--seed", "1", "--seeds", "0,1"], "not allowed with argument"),
    "unknown run id": (["show", "2026"], "no run '2026'"),
    "reproduce unknown run": (["reproduce", "nope"], "no run 'nope'"),
    "zero --limit": (["runs", "--limit", "0"], "--limit must be positive, got 0"),
    "epochs for an estimator": (
        ["run", "majority-class", "--dataset", "toy-points", "--epochs", "3"],
        "majority-class is not trained by gradient descent",
    ),
    "bad seeds": (["run", "toy-mlp", "--seeds", "0,x"], "--seeds expects comma-separated integers"),
    "unavailable device": (["run", "toy-mlp", "--device", "cuda"], "device 'cuda' is not available"),
    "missing data folder": (["run", "toy-mlp", "--dataset", "toy-file"], "put toy.csv into"),
    "zero threads": (["run", "toy-mlp", "--threads", "0"], "--threads must be between 1 and 1024, got 0"),
    "argparse error": (["run", "toy-mlp", "--epochs", "three"], "invalid int value"),
    "name and --all": (["run", "toy-mlp", "--all"], "give a model name or --all, not both"),
    "leaderboard filter": (["leaderboard", "--model", "nobody"], "no successful runs with model 'nobody'"),
}


def assert_one_line_error(result, message):
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_one_line_and_exit_2(case, home, zoo):
    args, message = CASES[case]
    assert_one_line_error(zoo(*args, check=False), message)


def test_corrupt_data_file(home, zoo):
    data = home / "data"
    data.mkdir()
    (data / "toy.csv").write_text("not,a\nnumber,table,at all\n")
    result = zoo("run", "toy-mlp", "--dataset", "toy-file", check=False)
    assert_one_line_error(result, "toy.csv is not a CSV")
    assert (data / "toy.csv").read_text() == "not,a\nnumber,table,at all\n"


def test_corrupt_results_database_is_left_alone(home, zoo):
    database = home / "results.sqlite"
    database.write_bytes(b"this is not sqlite, but it is somebody's file" * 100)
    before = database.read_bytes()
    for args in (["run", "toy-mlp", "--quiet"], ["leaderboard"]):
        result = zoo(*args, check=False)
        assert_one_line_error(result, "is unreadable")
    assert database.read_bytes() == before


def test_unwritable_leaderboard_output(home, zoo):
    zoo("run", "toy-mlp", "--quiet")
    result = zoo("leaderboard", "--output", str(home / "no" / "such" / "dir.md"), check=False)
    assert_one_line_error(result, "cannot write")
