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
        assert_one_line_error(result, "is not an SQLite database")
    assert database.read_bytes() == before


def test_unwritable_leaderboard_output(home, zoo):
    zoo("run", "toy-mlp", "--quiet")
    result = zoo("leaderboard", "--output", str(home / "no" / "such" / "dir.md"), check=False)
    assert_one_line_error(result, "cannot write")


# --- hostile values of every kind of input: one line, exit 2, and nothing written anywhere ------------

LONG = "d" * 300  # longer than any file system's name limit (255 bytes)
NOT_UTF8 = "caf\udce9"  # what Python makes of the bytes b"caf\xe9" on a UTF-8 system's command line


def files_under(*folders):
    """Every file and folder under ``folders`` with its size: what a refused command must not change."""
    found = {}
    for folder in folders:
        for path in sorted(folder.rglob("*")):
            found[str(path)] = path.stat().st_size if path.is_file() else "folder"
    return found


@pytest.fixture
def recorded(home, tmp_path, make_row):
    """A home with one successful run, a file and a folder next to it, and the paths to check."""
    from zoo_core.store import Store

    Store(home / "results.sqlite").record(
        make_row("20260101-000000-toy-mlp-toy-points-s0-abcdef"), {"accuracy": 0.9}
    )
    (home / "runs" / "20260101-000000-toy-mlp-toy-points-s0-abcdef").mkdir(parents=True)
    (tmp_path / "a-file").write_text("mine\n")
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "full.png").symlink_to("/dev/full")  # every write to it fails as on a full disk
    return tmp_path


HOSTILE = {
    # --plot behaves like --output, and neither ever writes where it was refused
    "plot into a missing folder": (
        ["leaderboard", "--plot", "{tmp}/no/such/board.png"],
        "its folder does not exist",
    ),
    "plot with a text extension": (
        ["leaderboard", "--plot", "{tmp}/board.txt"],
        ".txt is not an image format",
    ),
    "plot without an extension": (["leaderboard", "--plot", "{tmp}/board"], "no extension names its format"),
    "plot into a folder": (["leaderboard", "--plot", "{tmp}/a-folder"], "is a folder; give a file name"),
    "plot under a file": (["leaderboard", "--plot", "{tmp}/a-file/board.png"], "a-file is not a folder"),
    "plot with an empty name": (["leaderboard", "--plot", ""], "argument --plot: the path is empty"),
    "plot with a name too long": (["leaderboard", "--plot", "{tmp}/" + LONG + ".png"], "too long"),
    "plot not UTF-8": (["leaderboard", "--plot", "{tmp}/" + NOT_UTF8 + ".png"], "is not valid UTF-8"),
    "plot over the database": (["leaderboard", "--plot", "{home}/results.sqlite"], "results database"),
    "plot into /proc": (["leaderboard", "--plot", "/proc/board.png"], "cannot write /proc/board.png"),
    "plot over the output": (
        ["leaderboard", "--output", "{tmp}/board.png", "--plot", "{tmp}/board.png"],
        "--output and --plot both name",
    ),
    "output into a missing folder": (
        ["leaderboard", "--output", "{tmp}/no/board.md"],
        "its folder does not exist",
    ),
    "output into a folder": (["leaderboard", "--output", "{tmp}/a-folder"], "is a folder"),
    "output named as a folder": (["leaderboard", "--output", "{tmp}/new/"], "so it names a folder"),
    "plot named as a folder": (["leaderboard", "--plot", "{tmp}/board.png/"], "so it names a folder"),
    "output with an empty name": (["leaderboard", "--output", ""], "argument --output: the path is empty"),
    "output not UTF-8": (["leaderboard", "--output", NOT_UTF8], "is not valid UTF-8"),
    "output with a name too long": (["leaderboard", "--output", "{tmp}/" + LONG], "too long"),
    "output over the database": (["leaderboard", "--output", "{home}/results.sqlite"], "results database"),
    "output over its journal": (["leaderboard", "--output", "{home}/results.sqlite-wal"], "results database"),
    "output into a run folder": (
        ["leaderboard", "--output", "{home}/runs/20260101-000000-toy-mlp-toy-points-s0-abcdef/weights.pt"],
        "inside the zoo's run folders",
    ),
    "output into /proc": (["leaderboard", "--output", "/proc/board.md"], "cannot write /proc/board.md"),
    "output on a full disk": (
        ["leaderboard", "--output", "/dev/full"],
        "cannot write /dev/full: the disk is full",
    ),
    "plot on a full disk": (["leaderboard", "--plot", "{tmp}/full.png"], "full.png: the disk is full"),
    # new-plugin --dir: a folder it may create, or nothing at all
    "plugin into a file": (["new-plugin", "my-net", "--dir", "{tmp}/a-file"], "it is a file, not a folder"),
    "plugin under a file": (["new-plugin", "my-net", "--dir", "{tmp}/a-file/sub/dir"], "a-file is a file"),
    "plugin into /proc": (["new-plugin", "my-net", "--dir", "/proc"], "cannot write a plugin into /proc"),
    "plugin under /proc": (["new-plugin", "my-net", "--dir", "/proc/no/such"], "cannot create /proc/no"),
    "plugin dir name too long": (["new-plugin", "my-net", "--dir", "{tmp}/new/" + LONG], "too long"),
    "plugin dir empty": (["new-plugin", "my-net", "--dir", ""], "argument --dir: the path is empty"),
    "plugin dir not UTF-8": (["new-plugin", "my-net", "--dir", "{tmp}/" + NOT_UTF8], "is not valid UTF-8"),
    "plugin name of 47 characters": (["new-plugin", "a" * 47, "--dir", "{tmp}/new"], "at most 46"),
    "plugin name of 65 characters": (["new-plugin", "a" * 65, "--dir", "{tmp}/new"], "at most 46"),
    "plugin name of 100000 characters": (["new-plugin", "a" * 100_000, "--dir", "{tmp}/new"], "at most 46"),
    "plugin name empty": (["new-plugin", "", "--dir", "{tmp}/new"], "plugin name '' must be lowercase"),
    "plugin name not UTF-8": (["new-plugin", NOT_UTF8, "--dir", "{tmp}/new"], "must be lowercase kebab-case"),
    # names: empty, not UTF-8 or longer than any name could be, refused before anything runs
    "empty model name": (["run", ""], "argument name: a name cannot be empty"),
    "blank model name": (["run", "  "], "argument name: a name cannot be empty"),
    "empty dataset": (["run", "toy-mlp", "--dataset", ""], "argument --dataset: a name cannot be empty"),
    "model name not UTF-8": (["run", NOT_UTF8], "is not valid UTF-8"),
    "model name of 100000 characters": (
        ["run", "a" * 100_000],
        "100000 characters long; names have at most 64",
    ),
    "dataset name too long": (["run", "toy-mlp", "--dataset", "b" * 65], "names have at most 64"),
    "empty info name": (["info", ""], "a name cannot be empty"),
    "empty leaderboard model": (["leaderboard", "--model", ""], "a name cannot be empty"),
    "empty runs dataset": (["runs", "--dataset", ""], "a name cannot be empty"),
    "runs of an unknown model": (["runs", "--model", "toy-mpl"], "no run has model 'toy-mpl'"),
    "runs of an unknown dataset": (["runs", "--dataset", "toy-pionts"], "did you mean 'toy-points'?"),
    "negative --limit": (["runs", "--limit", "-3"], "--limit must be positive, got -3"),
    "non-numeric --limit": (["runs", "--limit", "all"], "argument --limit: invalid int value"),
    # numbers: out of range, not finite, or too large for any integer type, all refused in one place
    "seed below 0": (["run", "toy-mlp", "--seed", "-1"], "seed must be between 0 and 4294967295, got -1"),
    "seed of 2**32": (["run", "toy-mlp", "--seed", str(2**32)], "seed must be between 0 and 4294967295"),
    "seed of 10**20": (["run", "toy-mlp", "--seed", str(10**20)], "seed must be between 0 and 4294967295"),
    "seeds with one of 2**32": (["run", "toy-mlp", "--seeds", f"0,{2**32}"], f"got {2**32}"),
    "threads of 2**31": (["run", "toy-mlp", "--threads", str(2**31)], "--threads must be between 1 and 1024"),
    "threads of 10**20": (["run", "toy-mlp", "--threads", str(10**20)], "--threads must be between 1 and"),
    "lr of 1e308": (["run", "toy-mlp", "--set", "lr=1e308"], "lr must be at most 1000000.0, got 1e+308"),
    "lr of inf": (["run", "toy-mlp", "--set", "lr=inf"], "lr must be a finite number, got inf"),
    "lr of nan": (["run", "toy-mlp", "--set", "lr=nan"], "lr must be a finite number, got nan"),
    "weight decay of nan": (["run", "toy-mlp", "--set", "weight_decay=nan"], "weight_decay must be a finite"),
    "weight decay of 1e400": (["run", "toy-mlp", "--set", "weight_decay=1e400"], "must be a finite number"),
    "batch size of 2**63": (["run", "toy-mlp", "--set", f"batch_size={2**63}"], "batch_size must be at most"),
    "hidden of 2**63": (["run", "toy-mlp", "--set", f"hidden={2**63}"], "hidden must be between 1 and 1024"),
    "epochs of 10**20": (["run", "toy-mlp", "--epochs", str(10**20)], "epochs must be at most 100000"),
    "--all with a setting no model has": (["run", "--all", "--set", "nosuch=1"], "no model has a setting"),
    "--all that nothing can run": (
        ["run", "--all", "--dataset", "toy-wave", "--set", "activation=tanh"],
        "no model can run: last-value (it has no setting 'activation')",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_values_are_one_line_exit_2_and_write_nothing(case, home, zoo, recorded):
    args, message = HOSTILE[case]
    args = [a.format(tmp=recorded, home=home) for a in args]
    before = files_under(recorded)
    result = zoo(*args, check=False)
    assert_one_line_error(result, message)
    assert result.stdout == ""
    assert files_under(recorded) == before  # no row, no run folder, no output, no plugin


@pytest.mark.parametrize(
    "args",
    [
        ["run", "toy-mpl"],
        ["run", "toy-mlp", "--set", "hidden=0"],
        ["run", "toy-mlp", "--dataset", "toy-wave"],
        ["run", "--all", "--set", "nope=1"],
    ],
)
def test_a_refused_run_in_a_new_home_leaves_it_empty(home, zoo, args):
    assert zoo(*args, check=False).returncode == 2
    assert not home.exists() or list(home.iterdir()) == []
