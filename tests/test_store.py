"""The results store: a round trip, atomic rows and concurrent writers."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from contextlib import closing

import pytest

from zoo_core.store import Store


def test_round_trip(tmp_path, make_row):
    store = Store(tmp_path / "results.sqlite")
    assert store.rows() == []
    store.record(make_row("a", seed=1), {"accuracy": 0.9, "f1": 0.8})
    store.record(make_row("b", status="failed", error="RuntimeError: boom"), {})
    a, b = store.rows()
    assert a["run_id"] == "a" and a["seed"] == 1 and a["hparams"] == {"activation": "relu", "hidden": 8}
    assert a["metrics"] == {"accuracy": 0.9, "f1": 0.8} and a["num_params"] == 42 and a["device"] == "cpu"
    assert {"zoo_version", "plugin_version", "torch_version", "started_at", "duration_s"} <= set(a)
    assert b["status"] == "failed" and "accuracy" not in b


def test_an_undefined_metric_is_not_stored(tmp_path, make_row):
    store = Store(tmp_path / "results.sqlite")
    store.record(make_row("a"), {"silhouette": float("nan"), "ari": 1.0})
    [row] = store.rows()
    assert row["metrics"] == {"ari": 1.0}


def test_a_failed_write_leaves_no_half_row(tmp_path, make_row):
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


def test_a_new_database_carries_the_current_schema_version(tmp_path, make_row):
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


def test_an_older_database_is_migrated_keeping_every_run(tmp_path, make_row):
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
    assert "toy-points,toy-mlp,,2,2,0.55,0.07" in board  # the mean and std of the two old runs
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


def one_line(result) -> str:
    """The single line a refused command printed (and it exited 2, without a traceback)."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    return result.stderr


# Every command that opens the store, reading or writing.
COMMANDS = [["run", "toy-mlp", "--quiet"], ["runs"], ["show", "x"], ["leaderboard"], ["reproduce", "x"]]


def sqlite_file(path, script: str) -> None:
    with closing(sqlite3.connect(path)) as db:
        db.executescript(script)


def zoo_tables(version: int) -> str:
    from zoo_core.store import MIGRATIONS

    return "".join(MIGRATIONS[v] + ";" for v in range(version))


def without(script: str, column: str) -> str:
    return "\n".join(line for line in script.splitlines() if f" {column} " not in line)


# SQLite files that are not the zoo's, though some look much like it.
FOREIGN = {
    "a runs table of its own": "CREATE TABLE runs (id INTEGER PRIMARY KEY, name TEXT);",
    "the v1 tables and one more": zoo_tables(1) + "CREATE TABLE notes (text TEXT);",
    "the v1 tables with a user_version of 7": zoo_tables(1) + "PRAGMA user_version = 7;",
    "the v2 tables less a column": without(zoo_tables(2), "git_commit") + "PRAGMA user_version = 2;",
    "the v1 tables with a column of another type": zoo_tables(1).replace("seed INTEGER", "seed TEXT"),
    "the v4 tables under another application id": zoo_tables(4) + "PRAGMA application_id = 1234;",
    "the v4 tables with no id": zoo_tables(4) + "PRAGMA user_version = 4;",
    "a runs table in WAL mode": "PRAGMA journal_mode = WAL; CREATE TABLE runs (run_id TEXT, x);",
    "a view named runs, and no table": "CREATE VIEW runs AS SELECT 1 AS run_id;",
    "the zoo's mark over another schema": "CREATE TABLE runs (run_id TEXT); PRAGMA user_version = 4;"
    "PRAGMA application_id = 2054123313;",
}


@pytest.mark.parametrize("script", FOREIGN.values(), ids=FOREIGN.keys())
def test_an_sqlite_file_that_is_not_the_zoos_is_refused_untouched(script, home, zoo):
    path = home / "results.sqlite"
    sqlite_file(path, script)
    before = path.read_bytes()
    for command in COMMANDS:
        error = one_line(zoo(*command, check=False))
        assert "not the zoo's results database" in error or "changed by hand" in error, error
        assert "will not touch it" in error
    assert path.read_bytes() == before
    assert [p.name for p in home.iterdir()] == ["results.sqlite"]  # no -wal, -shm or runs folder beside it


@pytest.mark.parametrize(
    "content",
    [b"not a database at all\n", b"SQLite format 3\x00" + bytes(200)],
    ids=["text", "a torn header"],
)
def test_a_file_that_is_not_a_database_is_refused_untouched(content, home, zoo):
    path = home / "results.sqlite"
    path.write_bytes(content)
    for command in COMMANDS:
        error = one_line(zoo(*command, check=False))
        assert str(path) in error and ("not an SQLite database" in error or "damaged" in error)
    assert path.read_bytes() == content


def rebuild_without_constraints(db, table: str) -> None:
    """Rebuild ``table`` with the same columns but no NOT NULL or key: what an editor might do."""
    db.executescript(
        f"CREATE TABLE loose AS SELECT * FROM {table}; DROP TABLE {table};"
        f"ALTER TABLE loose RENAME TO {table};"
    )


def set_null(table: str, column: str):
    def edit(db) -> None:
        rebuild_without_constraints(db, table)
        db.execute(f"UPDATE {table} SET {column} = NULL WHERE run_id = 'run-bad'")

    return edit


def sql(statement: str):
    return lambda db: db.execute(statement)


# Hand edits that leave rows the zoo did not write; each names what the warning must say.
EDITS = {
    "orphan metric rows": (
        sql("INSERT INTO metrics VALUES ('ghost', 'accuracy', 0.9)"),
        "(run 'ghost') (belongs to no recorded run)",
    ),
    "hparams not JSON": (sql("UPDATE runs SET hparams = '{oops' WHERE run_id = 'run-bad'"), "hparams is"),
    "hparams a list": (sql("UPDATE runs SET hparams = '[1, 2]' WHERE run_id = 'run-bad'"), "not a dict"),
    "warnings not a list": (sql("UPDATE runs SET warnings = '\"x\"' WHERE run_id = 'run-bad'"), "not a list"),
    "a metric that is text": (
        sql("UPDATE metrics SET value = 'high' WHERE run_id = 'run-bad'"),
        "metric 'accuracy' is 'high', not a number",
    ),
    "a metric that is infinite": (
        sql("UPDATE metrics SET value = 1e999 WHERE run_id = 'run-bad'"),
        "metric 'accuracy' is inf",
    ),
    "a seed that is text": (sql("UPDATE runs SET seed = 'zero' WHERE run_id = 'run-bad'"), "seed is 'zero'"),
    "a duration that is bytes": (
        sql("UPDATE runs SET duration_s = x'00' WHERE run_id = 'run-bad'"),
        "duration_s is b'\\x00'",
    ),
    "a NULL seed": (set_null("runs", "seed"), "seed is NULL"),
    "a NULL start": (set_null("runs", "started_at"), "started_at is NULL"),
    "a NULL run id": (set_null("runs", "run_id"), "(run_id is NULL)"),
    "a NULL metric": (set_null("metrics", "value"), "metric 'accuracy' is None"),
}


@pytest.mark.parametrize("case", EDITS.values(), ids=EDITS.keys())
def test_a_store_edited_by_hand_skips_the_damaged_rows_naming_them(case, home, recorded, zoo):
    edit, named = case
    recorded("run-good", seed=0)
    recorded("run-bad", seed=1)
    with closing(sqlite3.connect(home / "results.sqlite")) as db, db:
        edit(db)
    for command in (["runs"], ["runs", "--json"], ["show", "run-good"], ["leaderboard"]):
        result = zoo(*command)
        assert ("toy-mlp" if command == ["leaderboard"] else "run-good") in result.stdout
        [warning] = [line for line in result.stderr.splitlines() if "damaged row" in line]
        assert named in warning and "Traceback" not in result.stderr
    # A damaged metric row costs the run that metric; a damaged runs row costs the run.
    listed = [row["run_id"] for row in json.loads(zoo("runs", "--json").stdout)]
    assert listed == (["run-good", "run-bad"] if "metric" in named or "ghost" in named else ["run-good"])
    if listed == ["run-good"] and "run_id is NULL" not in named:
        for command in (["show", "run-bad"], ["reproduce", "run-b"]):
            result = zoo(*command, check=False)
            assert result.returncode == 2 and "Traceback" not in result.stderr
            [error] = [line for line in result.stderr.splitlines() if line.startswith("zoo: error:")]
            assert "the row of run run-bad in" in error and "is damaged" in error


# A zoo home that cannot be one, or a database path that cannot be a database: what every command
# says, and whether reading commands fail too (a home that cannot be made simply holds no runs).
HOMES = {
    "the database is a folder": ("db-folder", "is a folder, not a database file", True),
    "the home is a file": ("a-file", "not a folder", True),
    "the home is under a file": ("a-file/home", "not a folder", True),
    "the home cannot be made": ("/proc/zoo-home", "cannot create zoo home", False),
    "the home path is too long": ("h" * 300, "too long", True),
    "the home is not UTF-8": ("home-\udcff", "is not valid UTF-8", True),
    "the home has a NUL": ("home\x00", "has a NUL", True),
}


@pytest.mark.parametrize("case", HOMES.values(), ids=HOMES.keys())
@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_a_home_that_cannot_hold_a_store_is_one_line(case, command, tmp_path, in_process):
    from zoo_core.testing import invoke

    name, said, reads_fail = case
    (tmp_path / "a-file").write_text("x")
    (tmp_path / "db-folder" / "results.sqlite").mkdir(parents=True)
    result = invoke("--home", str(tmp_path / name), *command, home=tmp_path, check=False)
    if command[0] == "run" or reads_fail:
        assert said in one_line(result)
    elif command[0] in ("show", "reproduce"):
        assert "no run 'x'" in one_line(result)
    else:
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
