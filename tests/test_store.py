"""The results store: a round trip, atomic rows and concurrent writers."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest

from zoo_core.store import RunRow, Store


def make_row(run_id: str, **changes) -> RunRow:
    values = dict(
        run_id=run_id,
        model="toy-mlp",
        dataset="toy-points",
        task="classification",
        plugin="toy",
        seed=0,
        status="ok",
        hparams={"lr": 0.05, "hidden": 8},
        duration_s=1.5,
        num_params=42,
        zoo_version="0.1.0",
        plugin_version="0.3",
        torch_version="2.x",
        device="cpu",
        started_at="2026-11-21T12:00:00+00:00",
        error="",
        run_dir="/tmp/r",
    )
    values.update(changes)
    return RunRow(**values)


def test_round_trip(tmp_path):
    store = Store(tmp_path / "results.sqlite")
    assert store.rows() == []
    store.record(make_row("a", seed=1), {"accuracy": 0.9, "f1": 0.8})
    store.record(make_row("b", status="failed", error="RuntimeError: boom"), {})
    a, b = store.rows()
    assert a["run_id"] == "a" and a["seed"] == 1 and a["hparams"] == {"lr": 0.05, "hidden": 8}
    assert a["metrics"] == {"accuracy": 0.9, "f1": 0.8} and a["num_params"] == 42 and a["device"] == "cpu"
    assert {"zoo_version", "plugin_version", "torch_version", "started_at", "duration_s"} <= set(a)
    assert b["status"] == "failed" and "accuracy" not in b


def test_an_undefined_metric_is_not_stored(tmp_path):
    store = Store(tmp_path / "results.sqlite")
    store.record(make_row("a"), {"silhouette": float("nan"), "ari": 1.0})
    [row] = store.rows()
    assert row["metrics"] == {"ari": 1.0}


def test_a_failed_write_leaves_no_half_row(tmp_path):
    store = Store(tmp_path / "results.sqlite")
    store.record(make_row("a"), {"accuracy": 0.5})
    with pytest.raises(ValueError):
        # The run row is inserted first; the non-numeric metric then fails inside the same transaction.
        store.record(make_row("b"), {"accuracy": "not a number"})
    assert [row["run_id"] for row in store.rows()] == ["a"]


WRITER = """
import sys
from pathlib import Path
from zoo_core.store import RunRow, Store

store = Store(Path(sys.argv[1]))
for i in range(25):
    row = RunRow(f"{sys.argv[2]}-{i}", "toy-mlp", "toy-points", "classification", "toy", 0, "ok", {}, 1.0, 42,
                 "0.1.0", "0.3", "2.x", "cpu", "2026-11-21T12:00:00+00:00", "", "/tmp/r")
    store.record(row, {"accuracy": i / 25})
"""


def test_concurrent_writers_all_land(tmp_path):
    path = tmp_path / "results.sqlite"
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(path), name], stderr=subprocess.PIPE, text=True)
        for name in ("p", "q", "r")
    ]
    for writer in writers:
        _, err = writer.communicate(timeout=120)
        assert writer.returncode == 0, err
    rows = Store(path).rows()
    assert len(rows) == 75 and len({row["run_id"] for row in rows}) == 75


def test_a_new_database_carries_the_current_schema_version(tmp_path):
    from zoo_core.store import SCHEMA_VERSION

    store = Store(tmp_path / "results.sqlite")
    store.record(make_row("a"), {"accuracy": 0.5})
    assert store.version == SCHEMA_VERSION == 4


def write_version_1(path, runs):
    """A results file as zoo-core wrote it before the schema had a version (and provenance)."""
    from zoo_core.store import CREATE_V1

    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(CREATE_V1)
        for i, run_id in enumerate(runs):
            db.execute(
                "INSERT INTO runs VALUES (?, 'toy-mlp', 'toy-points', 'classification', 'toy', ?, 'ok', "
                "'{\"hidden\": 8}', 1.0, 42, '0.1.0', '0.3', '2.x', 'cpu', '2026-11-20T12:00:00', '', '')",
                (run_id, i),
            )
            db.execute("INSERT INTO metrics VALUES (?, 'accuracy', ?)", (run_id, 0.5 + i / 10))


def test_an_older_database_is_migrated_keeping_every_run(tmp_path):
    path = tmp_path / "results.sqlite"
    write_version_1(path, ["old-0", "old-1"])
    store = Store(path)
    assert store.version == 0
    store.record(make_row("new", config={"seed": 0}, dataset_fingerprint="sha256:ab"), {"accuracy": 0.9})
    assert store.version == 4
    old, _, new = store.rows()
    assert (
        old["run_id"] == "old-0" and old["metrics"] == {"accuracy": 0.5} and old["hparams"] == {"hidden": 8}
    )
    assert old["config"] == {} and old["dataset_fingerprint"] == "" and old["threads"] == 0
    assert old["trainer"] == {} and old["warnings"] == []
    assert new["config"] == {"seed": 0} and new["dataset_fingerprint"] == "sha256:ab"


def test_a_version_2_database_is_migrated_to_the_current_version(tmp_path):
    from zoo_core.store import ADD_PROVENANCE, APPLICATION_ID

    path = tmp_path / "results.sqlite"
    write_version_1(path, ["old-0"])
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(ADD_PROVENANCE + "PRAGMA user_version = 2;")
    Store(path).check()
    [old] = Store(path).rows()
    assert old["hparams"] == {"hidden": 8} and old["trainer"] == {} and old["warnings"] == []
    assert old["metrics"] == {"accuracy": 0.5}
    assert old["run_key"] == old["sweep_id"] == old["note"] == "" and old["training"] == {}
    assert old["folder_bytes"] == 0
    with closing(sqlite3.connect(path)) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == 4
        assert db.execute("PRAGMA application_id").fetchone()[0] == APPLICATION_ID


def test_the_cli_reads_an_older_database_and_a_run_migrates_it(home, zoo):
    write_version_1(home / "results.sqlite", ["old-0", "old-1"])
    before = (home / "results.sqlite").read_bytes()
    board = zoo("leaderboard", "--format", "csv").stdout
    assert "toy-points,toy-mlp,,2,0.55,0.07" in board  # the mean and std of the two old runs
    assert "old-1" in zoo("show", "old-1").stdout
    assert (home / "results.sqlite").read_bytes() == before  # reading never changes the file
    zoo("run", "toy-mlp", "--quiet")
    assert Store(home / "results.sqlite").version == 4
    assert sorted(r["run_id"][:5] for r in Store(home / "results.sqlite").rows())[-2:] == ["old-0", "old-1"]


def test_a_newer_database_is_refused_and_left_untouched(home, zoo):
    from zoo_core.store import APPLICATION_ID

    path = home / "results.sqlite"
    with closing(sqlite3.connect(path)) as db, db:
        db.executescript(
            "CREATE TABLE runs (run_id TEXT, future_column BLOB); PRAGMA user_version = 9;"
            f"PRAGMA application_id = {APPLICATION_ID};"
        )
    before = path.read_bytes()
    for args in (["run", "toy-mlp", "--quiet"], ["leaderboard"], ["runs"], ["show", "x"]):
        result = zoo(*args, check=False)
        assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert "has schema version 9, newer than the 4 this zoo-core" in result.stderr
        assert "upgrade zoo-core" in result.stderr
    assert path.read_bytes() == before
    assert not (home / "runs").exists()
