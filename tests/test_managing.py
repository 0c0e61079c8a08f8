"""Runs people manage: tags, notes, filters, compare, rm and gc, on stores written row by row."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from zoo_core.store import RunRow, Store

BASE = datetime(2026, 11, 1, tzinfo=timezone.utc)


def record(home: Path, run_id: str, *, folder: bool = True, metrics=None, **changes) -> dict:
    """Record a run in ``home``'s store, with a small run folder unless ``folder`` is False."""
    run_dir = home / "runs" / run_id
    if folder:
        run_dir.mkdir(parents=True)
        (run_dir / "metrics.json").write_text("{}\n")
    # A toy-mlp run on toy-points as `zoo run` records it; ``changes`` make it another.
    values: dict = {"run_id": run_id, "run_dir": str(run_dir), "started_at": BASE.isoformat(), "error": ""}
    values |= {"model": "toy-mlp", "dataset": "toy-points", "task": "classification", "plugin": "toy"}
    values |= {"seed": 0, "status": "ok", "device": "cpu", "threads": 1, "duration_s": 1.0, "num_params": 42}
    values |= {"hparams": {"hidden": 8, "activation": "relu"}, "trainer": {"epochs": 3, "lr": 0.05}}
    values |= {"zoo_version": "0.2.0", "plugin_version": "0.3", "torch_version": "2.x", "folder_bytes": 3}
    values["dataset_fingerprint"] = "sha256:" + "a" * 64
    values.update(changes)
    Store(home / "results.sqlite").record(RunRow(**values), metrics or {"accuracy": 0.9})
    return values


def one_line_error(result, text: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("zoo: error: ") and text in lines[0], result.stderr


# Tags and notes


def test_tags_are_added_and_removed_together_and_shown_everywhere(home, zoo):
    record(home, "run-a")
    record(home, "run-b")
    zoo("tag", "run-a", "run-b", "--add", "smoke", "--add", "old")
    out = zoo("tag", "run-a", "--remove", "old", "--add", "keep").stdout
    assert out.split() == ["run-a", "keep,", "smoke"]
    rows = {r["run_id"]: r for r in json.loads(zoo("runs", "--json").stdout)}
    assert rows["run-a"]["tags"] == ["keep", "smoke"] and rows["run-b"]["tags"] == ["old", "smoke"]
    assert "tags         keep, smoke" in zoo("show", "run-a").stdout
    assert json.loads(zoo("show", "run-b", "--json").stdout)["tags"] == ["old", "smoke"]
    zoo("tag", "run-b", "--add", "smoke")  # adding a tag twice keeps one
    assert Store(home / "results.sqlite").tags()["run-b"] == ["old", "smoke"]


def test_a_note_is_kept_in_the_store_and_cleared_by_an_empty_one(home, zoo):
    record(home, "run-a")
    zoo("note", "run-a", "k=3 looked best on the validation split")
    assert Store(home / "results.sqlite").find("run-a")["note"] == "k=3 looked best on the validation split"
    assert "note         k=3 looked best" in zoo("show", "run-a").stdout
    zoo("note", "run-a", "")
    assert json.loads(zoo("show", "run-a", "--json").stdout)["note"] == ""
    zoo("note", "run-a", "two lines:\n\tk=3 and k=5")  # tabs and newlines are text
    assert Store(home / "results.sqlite").find("run-a")["note"] == "two lines:\n\tk=3 and k=5"


# Filters, on a store of 200 runs


MODELS = ("knn", "lenet5", "toy-mlp")


def two_hundred_runs(home: Path) -> list[dict]:
    store = Store(home / "results.sqlite")
    rows = []
    for i in range(200):
        model = MODELS[i % 3]
        hparams = {"k": 1 + i % 5, "metric": "euclidean"} if model == "knn" else {"hidden": 8 * (1 + i % 2)}
        values = record(
            home,
            f"run-{i:03d}",
            folder=False,
            model=model,
            dataset=("digits", "fashion-mnist")[i % 2],
            seed=i % 4,
            status="failed" if i % 7 == 0 else "ok",
            error="RuntimeError: boom" if i % 7 == 0 else "",
            hparams=hparams,
            trainer={} if model == "knn" else {"epochs": 1 + i % 3},
            started_at=(BASE + timedelta(hours=i)).isoformat(),
        )
        values["tags"] = [tag for tag, every in (("smoke", 3), ("keep", 5)) if i % every == 0]
        rows.append(values)
    for tag, every in (("smoke", 3), ("keep", 5)):
        store.retag([f"run-{i:03d}" for i in range(0, 200, every)], [tag], [])
    return rows


FILTERS = [
    ([], lambda r: True),
    (["--model", "knn"], lambda r: r["model"] == "knn"),
    (
        ["--dataset", "digits", "--status", "failed"],
        lambda r: r["dataset"] == "digits" and r["status"] == "failed",
    ),
    (["--tag", "smoke"], lambda r: "smoke" in r["tags"]),
    (["--tag", "smoke", "--tag", "keep"], lambda r: {"smoke", "keep"} <= set(r["tags"])),
    (["--exclude-tag", "smoke"], lambda r: "smoke" not in r["tags"]),
    (["--settings", "k=3"], lambda r: r["hparams"].get("k") == 3),
    (
        ["--settings", "k=3", "--settings", "metric=euclidean", "--status", "ok"],
        lambda r: r["hparams"].get("k") == 3 and r["status"] == "ok",
    ),
    (
        ["--settings", "epochs=2", "--model", "lenet5"],
        lambda r: r["trainer"].get("epochs") == 2 and r["model"] == "lenet5",
    ),
    (["--since", "2026-11-08"], lambda r: r["started_at"] >= "2026-11-08"),
    (
        ["--since", "2026-11-05T10:00", "--tag", "keep"],
        lambda r: r["started_at"] >= "2026-11-05T10:00" and "keep" in r["tags"],
    ),
]


@pytest.fixture(scope="module")
def two_hundred(tmp_path_factory) -> tuple[Path, list[dict]]:
    home = tmp_path_factory.mktemp("crowded")
    return home, two_hundred_runs(home)


@pytest.fixture
def crowded(two_hundred, home) -> list[dict]:
    """A copy of the store of 200 runs, in this test's home."""
    import shutil

    shutil.copy(two_hundred[0] / "results.sqlite", home / "results.sqlite")
    return two_hundred[1]


@pytest.mark.parametrize(("args", "keep"), FILTERS, ids=[" ".join(a) or "none" for a, _ in FILTERS])
def test_runs_filters_against_200_runs(crowded, zoo, args, keep):
    shown = json.loads(zoo("runs", *args, "--limit", "1000", "--json").stdout)
    expected = [r["run_id"] for r in crowded if keep(r)]
    assert [r["run_id"] for r in shown] == expected and expected


def test_the_library_filters_are_the_commands(crowded, home):
    from zoo_core.queries import recorded_runs

    chosen = recorded_runs(home, model="knn", settings={"k": 3}, exclude_tags="smoke", since=BASE.date())
    assert [r["run_id"] for r in chosen] == [
        r["run_id"]
        for r in crowded
        if r["model"] == "knn" and r["hparams"]["k"] == 3 and "smoke" not in r["tags"]
    ]


def keywords(args: list[str]) -> dict:
    """The Python API's keywords for `zoo runs` options."""
    names = {"--tag": "tags", "--exclude-tag": "exclude_tags", "--settings": "settings"}
    chosen: dict = {}
    for option, value in zip(args[::2], args[1::2], strict=True):
        if option in names:
            chosen.setdefault(names[option], []).append(value)
        else:
            chosen[option.removeprefix("--")] = value
    return chosen


@pytest.mark.parametrize(("args", "keep"), FILTERS, ids=[" ".join(a) or "none" for a, _ in FILTERS])
def test_the_python_api_takes_the_commands_filters(crowded, zoo, home, args, keep):
    import zoo_core

    shown = json.loads(zoo("runs", *args, "--limit", "1000", "--json").stdout)
    table = zoo_core.runs(home=home, **keywords(args))
    assert list(table["run_id"]) == [r["run_id"] for r in shown]
    assert list(table["tags"]) == [r["tags"] for r in shown]


def test_the_python_api_keeps_plain_column_filters_beside_the_commands(crowded, home):
    import zoo_core

    table = zoo_core.runs(home=home, model="knn", seed=1, tags="smoke", settings={"k": 4})
    assert list(table["run_id"]) == [
        r["run_id"]
        for r in crowded
        if r["model"] == "knn" and r["seed"] == 1 and "smoke" in r["tags"] and r["hparams"]["k"] == 4
    ]
    with pytest.raises(zoo_core.ZooError, match="tag 'Smoke' must be lowercase kebab-case"):
        zoo_core.runs(home=home, tags=["Smoke"])
    with pytest.raises(zoo_core.ZooError, match="status must be one of ok, failed"):
        zoo_core.runs(home=home, status="done")


def test_since_takes_dates_times_and_ages():
    from zoo_core.queries import parse_since

    assert parse_since("3d", now=BASE) == BASE - timedelta(days=3)
    assert parse_since("12h", now=BASE) == parse_since("2026-10-31T12:00")
    assert (
        parse_since("2w", now=BASE) == parse_since("2026-10-18") == parse_since(BASE.date() - timedelta(14))
    )
    assert parse_since("2026-11-01T13:00+01:00") == BASE + timedelta(hours=12)
    assert parse_since("99999999d", now=BASE) == datetime.min.replace(tzinfo=timezone.utc)  # all of time


def test_limit_keeps_the_newest_and_says_how_many_more(crowded, zoo):
    result = zoo("runs", "--model", "knn", "--limit", "5")
    lines = result.stdout.splitlines()
    knn = [r["run_id"] for r in crowded if r["model"] == "knn"]
    assert result.stderr == f"zoo: showing the last 5 of {len(knn)} runs (--limit N for more)\n"
    assert [line.split()[0] for line in lines[2:]] == knn[-5:]
    quiet = zoo("runs", "--model", "knn", "--limit", "5", "--json")
    assert len(json.loads(quiet.stdout)) == 5 and quiet.stderr == ""


def test_runs_shows_the_settings_that_differ_from_the_defaults(home, zoo):
    record(home, "run-a")
    record(
        home,
        "run-b",
        hparams={"hidden": 16, "activation": "relu"},
        started_at=(BASE + timedelta(1)).isoformat(),
    )
    table = zoo("runs").stdout.splitlines()
    assert table[0].split()[:6] == ["run", "id", "status", "started", "settings", "tags"]
    assert table[2].split()[3] == "-" and table[3].split()[3] == "hidden=16"


def test_no_match_says_so_with_a_suggestion(crowded, zoo):
    result = zoo("runs", "--model", "knm", check=False)
    assert (
        result.returncode == 2
        and result.stdout == ""
        and "no recorded runs match; no run has model 'knm'; did you mean 'knn'?" in result.stderr
    )


def test_leaderboard_keeps_or_leaves_out_tagged_runs(home, zoo):
    record(home, "smoke-run", hparams={"hidden": 16, "activation": "relu"}, metrics={"accuracy": 0.2})
    record(home, "real-run", metrics={"accuracy": 0.9})
    zoo("tag", "smoke-run", "--add", "smoke")
    everything = zoo("leaderboard", "--format", "csv").stdout
    assert "hidden=16" in everything
    hidden = zoo("leaderboard", "--format", "csv", "--exclude-tag", "smoke").stdout
    assert "hidden=16" not in hidden and "toy-mlp" in hidden
    only = zoo("leaderboard", "--format", "csv", "--tag", "smoke").stdout
    assert "hidden=16" in only and ",1,0.2" in only and ",0.9" not in only
    import zoo_core  # the library's leaderboard takes the same filters

    assert zoo_core.leaderboard("classification", home=home, tags="smoke").to_csv(index=False) == only
    board = zoo_core.leaderboard(home=home, exclude_tags=["smoke"], settings={"hidden": 8})
    assert list(board["classification"]["model"]) == ["toy-mlp"]
    assert zoo_core.leaderboard(home=home, since="2999-01-01") == {}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["show", "no-such-run"], "no run 'no-such-run'"),
        (["tag", "run-a", "no-such-run", "--add", "ok"], "no run 'no-such-run'"),
        (["note", "run-", "text"], "the run id prefix 'run-' is ambiguous: it starts 2 recorded runs"),
        (["compare", "run-a", "nope"], "no run 'nope'"),
        (["compare", "run-a", "run-a"], "needs two different runs or more"),
        (["rm", "nope", "--yes"], "no run 'nope'"),
        (["tag", "run-a", "--add", "Smoke"], "tag 'Smoke' must be lowercase kebab-case"),
        (["tag", "run-a", "--add", "two words"], "tag 'two words' must be lowercase kebab-case"),
        (["tag", "run-a", "--add", "../up"], "tag '../up' must be lowercase kebab-case"),
        (["tag", "run-a", "--add", ""], "tag '' must be a non-empty string"),
        (["tag", "run-a", "--add", "x" * 65], "is 65 characters long"),
        (["tag", "run-a", "--add", "a", "--remove", "a"], "tag 'a' is both added and removed"),
        (["runs", "--tag", "no_underscores"], "tag 'no_underscores' must be lowercase kebab-case"),
        (["leaderboard", "--exclude-tag", "A"], "tag 'A' must be lowercase kebab-case"),
        (["rm", "--tag", "Bad", "--yes"], "tag 'Bad' must be lowercase kebab-case"),
        (["runs", "--since", "last tuesday"], "--since expects a date"),
        (["runs", "--settings", "k"], "--settings expects key=value"),
        (["runs", "--settings", "hiden=8"], "no recorded run has a setting 'hiden'; did you mean 'hidden'?"),
        (["rm"], "say which runs to remove"),
        (["note", "run-a", "caf\udce9"], "the note is not valid UTF-8"),
        (["note", "run-a", "a\x00b"], "the note contains control characters"),
        (["note", "run-a", "\x1b[31mred"], "the note contains control characters"),
        (["note", "run-a", "x" * 5001], "the note is 5001 characters long; notes have at most 5000"),
        (["rm", "run-a", "--status", "failed"], "give run ids or filters"),
    ],
)
def test_bad_ids_tags_and_filters_exit_2_with_one_line(home, zoo, args, message):
    record(home, "run-a")
    record(home, "run-b")
    before = Store(home / "results.sqlite").rows()
    one_line_error(zoo(*args, check=False), message)
    assert Store(home / "results.sqlite").rows() == before


# Compare


def test_compare_shows_what_differs_and_which_way_each_metric_should_go(home, zoo):
    record(home, "run-a", metrics={"accuracy": 0.8, "f1": 0.7})
    record(
        home,
        "run-b",
        seed=1,
        hparams={"hidden": 16, "activation": "relu"},
        threads=2,
        torch_version="2.y",
        dataset_fingerprint="sha256:" + "b" * 64,
        metrics={"accuracy": 0.9, "f1": 0.7, "custom-loss": 0.3},
    )
    [result] = [json.loads(zoo("compare", "run-a", "run-b", "--json").stdout)]
    assert result["runs"] == ["run-a", "run-b"]
    assert result["differences"]["run"] == {"seed": [0, 1]}
    assert result["differences"]["settings"] == {"hidden": [8, 16]}
    assert result["differences"]["provenance"] == {
        "data fingerprint": ["sha256:" + "a" * 64, "sha256:" + "b" * 64],
        "threads": [1, 2],
        "torch version": ["2.x", "2.y"],
    }
    metrics = {m["name"]: m for m in result["metrics"]}
    assert metrics["accuracy"] == {
        "name": "accuracy",
        "better": "higher",
        "values": [0.8, 0.9],
        "best": ["run-b"],
    }
    assert metrics["f1"]["best"] == []  # equal: neither is better
    assert metrics["custom-loss"]["better"] is None and metrics["custom-loss"]["values"] == [None, 0.3]
    assert "model" in result["same"] and "device" in result["same"]
    text = zoo("compare", "run-a", "run-b").stdout
    assert "A  run-a" in text and "B  run-b" in text
    lines = {line.split()[0]: line.split()[1:] for line in text.splitlines() if line.strip()}
    assert lines["accuracy"] == ["↑", "0.8", "0.9", "*"] and lines["custom-loss"] == ["?", "-", "0.3"]
    assert lines["data"] == ["fingerprint", "sha256:aaaaaaaaaaaa", "sha256:bbbbbbbbbbbb"]


# Remove


def test_rm_needs_a_yes_when_there_is_no_terminal_to_ask(home, zoo):
    record(home, "run-a")
    one_line_error(zoo("rm", "run-a", check=False), "there is no terminal to ask, so pass --yes")
    assert (home / "runs" / "run-a").is_dir() and Store(home / "results.sqlite").run_ids() == {"run-a"}


@pytest.mark.parametrize(("answer", "removed"), [("y\n", True), ("\n", False), ("no\n", False)])
def test_rm_asks_at_a_terminal(home, zoo, monkeypatch, answer, removed):
    import io

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    record(home, "run-a")
    monkeypatch.setattr(sys, "stdin", Terminal(answer))
    result = zoo("rm", "run-a", check=False)
    assert result.returncode == (0 if removed else 1)
    assert (home / "runs" / "run-a").exists() is not removed


def test_rm_by_tag_or_status_removes_rows_and_folders_together(home, zoo):
    record(home, "smoke-1")
    record(home, "smoke-2", status="failed", error="boom")
    record(home, "kept")
    record(home, "failed", status="failed", error="boom")
    zoo("tag", "smoke-1", "smoke-2", "--add", "smoke")
    result = zoo("rm", "--tag", "smoke", "--yes")
    assert "removed 2 runs and 2 folders" in result.stderr
    zoo("rm", "--status", "failed", "--yes")
    store = Store(home / "results.sqlite")
    assert store.run_ids() == {"kept"} and store.tags() == {} and store.removals() == []
    assert sorted(p.name for p in (home / "runs").iterdir()) == ["kept"]
    with closing(sqlite3.connect(home / "results.sqlite")) as db:
        assert db.execute("SELECT DISTINCT run_id FROM metrics").fetchall() == [("kept",)]
    assert "nothing removed" in zoo("rm", "--tag", "smoke", "--yes").stderr


KILLED_RM = """
import os, signal, sys
from pathlib import Path
from zoo_core.housekeeping import forget
from zoo_core.store import Store

home = Path(sys.argv[1])
forget(home, [row for row in Store(home / "results.sqlite").rows() if row["run_id"] != "kept"])
os.kill(os.getpid(), signal.SIGKILL)  # killed after the rows went, before any folder did
"""


def test_an_rm_killed_between_its_steps_is_finished_by_gc(home, zoo):
    for run_id in ("gone-1", "gone-2", "kept"):
        record(home, run_id)
    killed = subprocess.run([sys.executable, "-c", KILLED_RM, str(home)], capture_output=True, text=True)
    assert killed.returncode == -9, killed.stderr
    store = Store(home / "results.sqlite")
    with closing(sqlite3.connect(home / "results.sqlite")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert store.run_ids() == {"kept"}
    # The folders outlive their rows, but not unnoticed: removals lists them.
    assert sorted(run_id for _, run_id in store.removals()) == ["gone-1", "gone-2"]
    assert (home / "runs" / "gone-1").is_dir()
    (home / "runs" / "gone-2" / "metrics.json").unlink()  # as if rmtree had been stopped half-way
    assert "no run 'gone-1'" in zoo("show", "gone-1", check=False).stderr
    dry = zoo("gc", "--dry-run")
    assert dry.stdout.count("removed by `zoo rm`, which did not finish") == 2
    assert (home / "runs" / "gone-1").is_dir()
    zoo("gc")
    assert sorted(p.name for p in (home / "runs").iterdir()) == ["kept"]
    assert store.removals() == [] and store.run_ids() == {"kept"}
    assert "nothing to clean up" in zoo("gc").stderr


def test_rm_deletes_only_the_runs_own_folder_whatever_its_row_says(home, zoo, tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    record(home, "run-a", folder=False, run_dir=str(outside))
    record(home, "../escape", folder=False, run_dir=str(outside))
    zoo("rm", "run-a", "--yes")
    zoo("rm", "../escape", "--yes")
    assert outside.is_dir() and Store(home / "results.sqlite").run_ids() == set()


# gc


def marked(home: Path, run_id: str, text: str, age_s: float = 0) -> Path:
    folder = home / "runs" / run_id
    folder.mkdir(parents=True)
    (folder / "weights.pt").write_bytes(b"0" * 1000)
    (folder / "INCOMPLETE").write_text(text)
    if age_s:
        for path in (folder / "weights.pt", folder / "INCOMPLETE", folder):
            os.utime(path, (path.stat().st_atime - age_s, path.stat().st_mtime - age_s))
    return folder


def test_gc_removes_what_killed_runs_left_and_nothing_that_may_still_be_recorded(home, zoo):
    import socket

    host = socket.gethostname()
    record(home, "recorded")
    dead = marked(home, "killed", f"run killed has not finished\nprocess 999999999 on host {host}\n")
    elsewhere = marked(home, "elsewhere", "run has not finished\nprocess 12 on host some-other-machine\n")
    fresh = marked(home, "being-recorded", "run is being recorded\n")  # no owner, just written
    old = marked(home, "old-zoo", "run has not finished\n", age_s=3600)  # an older zoo's marker
    # On a file system without locks, the process id says whether the run lives (this one does).
    unlocked = marked(home, "no-locks", f"run\nprocess {os.getpid()} on host {host} without a lock\n", 3600)
    stale = home / "runs" / "recorded" / "INCOMPLETE"
    stale.write_text(f"run recorded has not finished\nprocess 999999999 on host {host}\n")
    linked = home / "runs" / "linked"
    linked.mkdir()
    os.symlink(stale, linked / "INCOMPLETE")  # not a marker the zoo wrote: a person decides
    orphan = home / "runs" / "orphan"
    orphan.mkdir()
    (orphan / "weights.pt").write_bytes(b"0" * 500)
    os.utime(orphan, (0, 0))
    os.utime(orphan / "weights.pt", (0, 0))
    young = home / "runs" / "young"
    young.mkdir()
    record(home, "no-folder", folder=False)

    dry = zoo("gc", "--dry-run")
    assert "would remove" in dry.stdout and "nothing was removed" in dry.stderr
    assert all(path.exists() for path in (dead, old, orphan, stale))
    zoo("gc")
    assert not dead.exists() and not old.exists() and not orphan.exists()
    assert not stale.exists() and (home / "runs" / "recorded" / "metrics.json").exists()
    assert elsewhere.exists() and fresh.exists() and young.exists() and unlocked.exists() and linked.exists()
    result = zoo("gc")
    assert "still running: started on host some-other-machine" in result.stderr
    assert f"still running: its process {os.getpid()} is alive" in result.stderr
    assert "its INCOMPLETE marker cannot be read" in result.stderr
    assert "written less than a minute ago" in result.stderr
    assert "run no-folder is recorded but its folder is gone" in result.stderr
    assert Store(home / "results.sqlite").run_ids() == {"recorded", "no-folder"}


def test_gc_without_a_database_removes_nothing(home, zoo):
    folder = marked(home, "killed", "run has not finished\n", age_s=3600)
    one_line_error(zoo("gc", check=False), "no results database")
    assert folder.exists()


def test_gc_never_removes_a_live_run(home, zoo, env):
    """A real `zoo run` in another process; gc in the middle of it, then after it is killed."""
    run = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "zoo_core",
            "run",
            "toy-mlp",
            "--set",
            "epochs=100000",
            "--quiet",
            "--threads",
            "1",
        ],
        env={**os.environ, **env, "ZOO_HOME": str(home)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        marker = None
        for _ in range(1200):  # up to 10 minutes on a busy machine: it has to import torch first
            found = list((home / "runs").glob("*/INCOMPLETE"))
            if found and "process" in found[0].read_text():
                marker = found[0]
                break
            assert run.poll() is None, run.communicate()
            import time

            time.sleep(0.5)
        assert marker is not None, "the run never started"
        Store(home / "results.sqlite").check()
        os.utime(marker.parent, (0, 0))  # old enough that only its lock protects it
        os.utime(marker, (0, 0))
        result = zoo("gc")
        assert marker.exists(), result.stdout + result.stderr
        assert "still running: its process holds the marker's lock" in result.stderr
    finally:
        run.kill()
        run.communicate()
    zoo("gc")
    assert not marker.parent.exists()


# The schema


def test_a_version_3_store_with_runs_is_migrated_and_its_runs_can_be_managed(home, zoo):
    from zoo_core.store import ADD_PROVENANCE, APPLICATION_ID, CREATE_V1, SPLIT_SETTINGS

    path = home / "results.sqlite"
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(
            CREATE_V1
            + ADD_PROVENANCE
            + SPLIT_SETTINGS
            + f"PRAGMA user_version = 3; PRAGMA application_id = {APPLICATION_ID};"
        )
        for i in range(3):
            run_id = f"old-{i}"
            (home / "runs" / run_id).mkdir(parents=True)
            db.execute(
                "INSERT INTO runs (run_id, model, dataset, task, plugin, seed, status, hparams, duration_s, "
                "num_params, zoo_version, plugin_version, torch_version, device, started_at, error, run_dir, "
                "trainer) VALUES (?, 'toy-mlp', 'toy-points', 'classification', 'toy', ?, 'ok', "
                "'{\"hidden\": 8}', 1.0, 42, '0.1.0', '0.3', '2.x', 'cpu', ?, '', ?, '{\"epochs\": 3}')",
                (run_id, i, f"2026-11-0{i + 1}T12:00:00+00:00", str(home / "runs" / run_id)),
            )
            db.execute("INSERT INTO metrics VALUES (?, 'accuracy', ?)", (run_id, 0.5 + i / 10))
    zoo("tag", "old-0", "old-1", "--add", "legacy")
    zoo("note", "old-2", "kept from last year")
    assert Store(path).version == 4
    rows = {r["run_id"]: r for r in json.loads(zoo("runs", "--json").stdout)}
    assert rows["old-0"]["metrics"] == {"accuracy": 0.5} and rows["old-0"]["trainer"] == {"epochs": 3}
    assert rows["old-0"]["tags"] == ["legacy"] and rows["old-2"]["note"] == "kept from last year"
    assert rows["old-1"]["folder_bytes"] == 0 and "folder       -" in zoo("show", "old-1").stdout
    zoo("rm", "--tag", "legacy", "--yes")
    assert Store(path).run_ids() == {"old-2"} and sorted(p.name for p in (home / "runs").iterdir()) == [
        "old-2"
    ]
