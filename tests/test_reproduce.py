"""Provenance in every row, and the commands that read it back: runs, show, reproduce."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

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
            "val_fraction": 0.1,
            "patience": 0,
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


def one_line(result) -> str:
    """The single line a refused command printed (and it exited 2, without a traceback)."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


# Several runs, or run folders, that one prefix starts: recorded rows and unfinished folders alike.
AMBIGUOUS = {
    "two recorded runs": (["run-a1", "run-a2"], [], "2 recorded runs (run-a1, run-a2)"),
    "a recorded run and an unfinished one": (
        ["run-a1"],
        ["run-a2"],
        "1 recorded run (run-a1) and 1 unfinished",
    ),
    "two unfinished runs": ([], ["run-a1", "run-a2"], "2 unfinished runs (run-a1, run-a2)"),
    "one of each, and more": (["run-a1", "run-a3", "run-a4", "run-a5"], ["run-a2"], "4 recorded runs"),
}


@pytest.mark.parametrize("case", AMBIGUOUS.values(), ids=AMBIGUOUS.keys())
@pytest.mark.parametrize("command", ["show", "reproduce"])
def test_an_ambiguous_prefix_says_so(case, command, home, recorded, zoo):
    rows, unfinished, said = case
    for run_id in rows:
        recorded(run_id)
    for run_id in unfinished:
        (home / "runs" / run_id).mkdir(parents=True)
        (home / "runs" / run_id / "INCOMPLETE").write_text("killed\n")
    error = one_line(zoo(command, "run-a", check=False))
    assert "the run id prefix 'run-a' is ambiguous" in error and said in error
    assert "did not finish" not in error
    # The whole id is never ambiguous, even when it starts another run's id.
    if rows:
        assert rows[0] in zoo("show", rows[0]).stdout


def test_a_prefix_of_one_unfinished_run_says_it_did_not_finish(home, recorded, zoo):
    recorded("run-b1")
    (home / "runs" / "run-c1").mkdir(parents=True)
    (home / "runs" / "run-c1" / "INCOMPLETE").write_text("killed\n")
    assert "run run-c1 did not finish" in one_line(zoo("show", "run-c", check=False))


# Ids are plain text: never a glob, a path, an SQL pattern or a format string.
HOSTILE_IDS = {
    "star": "*",
    "double star": "**",
    "question mark": "?",
    "brackets": "[r]*",
    "absolute path": "/etc/passwd",
    "parent path": "../x",
    "dot": ".",
    "sql wildcards": "%_",
    "sql quote": "r' OR '1'='1",
    "format braces": "{0}{run_id}",
    "empty": "",
    "spaces": "   ",
    "newline": "run-a\nrun-b",
    "nul": "run\x00a",
    "very long": "r" * 100_000,
    "not utf-8": "run-\udcff",
    "tilde": "~",
}


@pytest.mark.parametrize("run_id", HOSTILE_IDS.values(), ids=HOSTILE_IDS.keys())
@pytest.mark.parametrize("command", ["show", "reproduce"])
def test_ids_are_matched_literally(run_id, command, home, recorded, zoo):
    recorded("run-a")
    recorded("run-b")
    (home / "runs" / "zzz-unrelated").mkdir()
    (home / "runs" / "zzz-unrelated" / "INCOMPLETE").write_text("not a run\n")
    result = zoo(command, run_id, check=False)
    error = one_line(result)
    assert "no run " in error or "give a run id" in error
    assert "zzz-unrelated" not in error and result.stdout == "" and len(error) < 500
    assert len(json.loads(zoo("runs", "--json").stdout)) == 2


STALE_MARKERS = {
    "as a kill leaves it": "run {id} has not finished, or was stopped between recording it and removing it",
    "an older zoo's text": "run {id} has not finished; until it does, nothing about it is recorded",
    "after ctrl-c": "run {id} was interrupted; nothing about it is recorded",
    "empty": "",
}


@pytest.mark.parametrize("text", STALE_MARKERS.values(), ids=STALE_MARKERS.keys())
def test_show_tells_the_truth_about_a_recorded_run_with_a_stale_marker(text, home, recorded, zoo):
    folder = recorded("run-stale")
    recorded("run-other")
    (folder / "INCOMPLETE").write_text(text.format(id="run-stale"))
    shown = zoo("show", "run-st")  # a prefix: the stale marker does not make it a second run
    assert shown.stdout.startswith("run ") and "run-stale" in shown.stdout and "status" in shown.stdout
    assert "still carries an INCOMPLETE marker, but the run is recorded" in shown.stderr
    assert json.loads(zoo("show", "run-stale", "--json").stdout)["status"] == "ok"
    assert "run-stale" in zoo("runs").stdout


KILL_AFTER_COMMIT = """
import os, sys
from pathlib import Path

from zoo_core import layout
from zoo_core.cli import main

unlink = Path.unlink


def killed_at_the_marker(path, *args, **kwargs):
    if path.name == layout.INCOMPLETE:
        os._exit(9)  # as SIGKILL would, right after the row was committed
    return unlink(path, *args, **kwargs)


Path.unlink = killed_at_the_marker
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.integration  # kills a `zoo` process: `nox -s processes`
def test_a_kill_between_the_commit_and_the_marker_leaves_a_truthful_run(home, env, zoo):
    process = subprocess.run(
        [sys.executable, "-c", KILL_AFTER_COMMIT, "run", "toy-mlp", "--quiet"],
        env={**os.environ, **env, "ZOO_HOME": str(home)},
        capture_output=True,
        text=True,
    )
    assert process.returncode == 9, process.stderr
    [row] = json.loads(zoo("runs", "--json").stdout)
    marker = (Path(row["run_dir"]) / "INCOMPLETE").read_text()
    # The marker does not claim that nothing was recorded: it says how to find out.
    assert "nothing" not in marker and f"zoo show {row['run_id']}" in marker
    shown = zoo("show", row["run_id"])
    assert row["status"] == "ok" and "but the run is recorded" in shown.stderr


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


def tamper(change):
    """A function that loads the weights at a path, applies ``change`` to them and saves them back."""

    def apply(path: Path) -> None:
        import torch

        state = torch.load(path, weights_only=True)
        change(state, next(iter(state)))
        torch.save(state, path)

    return apply


# Changes to a stored run's weights after it was recorded; none may pass `zoo reproduce`.
TAMPERED = {
    "one value nudged": (
        tamper(lambda state, name: state.__setitem__(name, state[name] + 1e-3)),
        "weights: DIFFERENT",
        "NOT reproduced",
    ),
    "a tensor zeroed": (
        tamper(lambda state, name: state[name].zero_()),
        "weights: DIFFERENT",
        "NOT reproduced",
    ),
    "a tensor removed": (tamper(lambda state, name: state.pop(name)), "weights: DIFFERENT", "NOT reproduced"),
    "a tensor of another dtype": (
        tamper(lambda state, name: state.__setitem__(name, state[name].double())),
        "weights: DIFFERENT",
        "NOT reproduced",
    ),
    "deleted": (Path.unlink, "weights: MISSING", "NOT verified: the metrics match"),
    "run folder deleted": (lambda path: shutil.rmtree(path.parent), "weights: MISSING", "NOT verified"),
}


@pytest.mark.parametrize("case", TAMPERED.values(), ids=TAMPERED.keys())
def test_tampered_weights_never_pass_reproduce(case, home, zoo):
    change, weights_line, verdict = case
    [original] = zoo.json("run", "toy-mlp", "--quiet")
    change(Path(original["run_dir"]) / "weights.pt")
    result = zoo("reproduce", original["run_id"], check=False)
    assert result.returncode == 1, result.stderr
    assert weights_line in result.stdout and verdict in result.stdout
    assert "reproduced exactly" not in result.stdout
    assert all(line.endswith(" yes") for line in result.stdout.splitlines()[3:5])  # the metrics match
    check = json.loads(zoo("reproduce", original["run_id"], "--json", check=False).stdout)
    assert check["matches"] is False and check["weights"] in ("different", "missing")


def write_tensor(path: Path) -> None:
    import torch

    torch.save(torch.zeros(3), path)


def write_fifo(path: Path) -> None:
    os.mkfifo(path)


# What can stand where a run's weights file belongs; each is refused in one line, never loaded.
NOT_WEIGHTS = {
    "a folder": (lambda path: path.mkdir(), "it is a folder"),
    "a FIFO": (write_fifo, "it is a FIFO"),
    "a link to real weights": (None, "it is a symbolic link"),
    "a dangling link": (lambda path: path.symlink_to(path.parent / "nowhere"), "it is a symbolic link"),
    "a tensor": (write_tensor, "it holds a Tensor, not a state dict"),
    "a list": (lambda path: __import__("torch").save([1, 2], path), "it holds a list"),
    "a dict of numbers": (lambda path: __import__("torch").save({"w": 1.5}, path), "'w' = a float"),
    "a dict keyed by numbers": (
        lambda path: __import__("torch").save({0: __import__("torch").ones(1)}, path),
        "a key 0 that is not a name",
    ),
    "an empty file": (lambda path: path.write_bytes(b""), "not a plain weights file"),
    "garbage": (lambda path: path.write_bytes(os.urandom(4096)), "not a plain weights file"),
    "a truncated zip": (None, "not a plain weights file"),
}


def put_in_place(kind: str, path: Path, tmp_path: Path) -> None:
    import torch

    make, _ = NOT_WEIGHTS[kind]
    real = tmp_path / "real.pt"
    torch.save({"w": torch.ones(2)}, real)
    if kind == "a link to real weights":
        path.symlink_to(real)
    elif kind == "a truncated zip":
        path.write_bytes(real.read_bytes()[:200])
    else:
        make(path)


@pytest.mark.parametrize("kind", NOT_WEIGHTS)
def test_load_weights_refuses_anything_but_tensors_by_name(kind, tmp_path):
    from zoo_core.checkpoints import load_weights
    from zoo_core.errors import ZooError

    path = tmp_path / "weights.pt"
    put_in_place(kind, path, tmp_path)
    outcome: list = []

    def load() -> None:
        try:
            load_weights(path)
        except ZooError as exc:
            outcome.append(str(exc))

    loader = threading.Thread(target=load, daemon=True)
    loader.start()
    loader.join(timeout=60)
    assert not loader.is_alive(), "load_weights hung"  # a FIFO would block an open() forever
    [message] = outcome
    assert NOT_WEIGHTS[kind][1] in message and "\n" not in message


@pytest.mark.parametrize("kind", ["a folder", "a FIFO", "a link to real weights", "a tensor", "a list"])
def test_reproduce_refuses_weights_that_are_not_weights_before_rerunning(kind, home, recorded, tmp_path, zoo):
    folder = recorded("run-w")
    put_in_place(kind, folder / "weights.pt", tmp_path)
    error = one_line(zoo("reproduce", "run-w", check=False))
    assert NOT_WEIGHTS[kind][1] in error
    assert not list(tmp_path.glob("zoo-reproduce-*"))


def test_load_weights_says_missing_weights_are_missing(tmp_path):
    from zoo_core.checkpoints import load_weights
    from zoo_core.errors import ZooError

    with pytest.raises(ZooError, match="weights file .* is missing"):
        load_weights(tmp_path / "weights.pt")


# Where a kept re-run must not go: it would be a second row of the run where rows count.
KEEP = {
    "the zoo home": lambda home, tmp: home,
    "a folder in the zoo home": lambda home, tmp: home / "kept",
    "the runs folder": lambda home, tmp: home / "runs",
    "a link into the zoo home": lambda home, tmp: (tmp / "link").symlink_to(home) or tmp / "link" / "kept",
    "a folder with files": lambda home, tmp: (
        (tmp / "full").mkdir() or (tmp / "full" / "x").touch() or tmp / "full"
    ),
    "a file": lambda home, tmp: (tmp / "file").touch() or tmp / "file",
    "a relative path into the home": lambda home, tmp: Path(os.path.relpath(home / "k")),
}


@pytest.mark.parametrize("where", KEEP.values(), ids=KEEP.keys())
def test_reproduce_keep_refuses_a_folder_where_a_second_row_would_count(where, home, recorded, tmp_path, zoo):
    recorded("run-k")
    keep = where(home, tmp_path)
    before = (home / "results.sqlite").read_bytes()
    error = one_line(zoo("reproduce", "run-k", "--keep", str(keep), check=False))
    assert "--keep" in error and (
        "inside the zoo home" in error or "already holds" in error or "is a file" in error
    )
    assert (home / "results.sqlite").read_bytes() == before


def test_reproduce_keep_twice_refuses_the_second_time(home, tmp_path, zoo):
    [original] = zoo.json("run", "toy-mlp", "--quiet")
    keep = tmp_path / "kept"
    assert "reproduced exactly" in zoo("reproduce", original["run_id"], "--keep", str(keep)).stdout
    error = one_line(zoo("reproduce", original["run_id"], "--keep", str(keep), check=False))
    assert "already holds files" in error
    assert len(json.loads(zoo("runs", "--json", home=keep).stdout)) == 1
    assert len(json.loads(zoo("runs", "--json").stdout)) == 1
