"""The results database: one SQLite file, one row per run plus its metrics.

Each run is written in a single transaction, so a crash never leaves half a row, and
WAL mode with a busy timeout lets several `zoo run` processes record at once. The schema
carries a version: older files are migrated in place, newer ones are refused untouched.
A row's metrics are kept apart from its columns (``row["metrics"]``), so no metric name
can hide or replace a column.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import sqlite3
import stat
import sys
from collections.abc import Iterator
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from functools import cache
from pathlib import Path
from typing import Any, Callable, Iterable, Mapping, Sequence

from .errors import UnknownName, ZooError
from .names import suggest
from .version import __version__

# Bump SCHEMA_VERSION with every change to the tables, and add the step that brings the previous
# version up to it to MIGRATIONS. The version lives in SQLite's own `PRAGMA user_version`.
SCHEMA_VERSION = 4
# Marks a file as the zoo's own (PRAGMA application_id), from version 3 on: 'zoo1' in ASCII.
APPLICATION_ID = 0x7A6F6F31

CREATE_V1 = """
CREATE TABLE runs (
    run_id TEXT PRIMARY KEY,
    model TEXT NOT NULL,
    dataset TEXT NOT NULL,
    task TEXT NOT NULL,
    plugin TEXT NOT NULL,
    seed INTEGER NOT NULL,
    status TEXT NOT NULL,
    hparams TEXT NOT NULL,
    duration_s REAL NOT NULL,
    num_params INTEGER NOT NULL,
    zoo_version TEXT NOT NULL,
    plugin_version TEXT NOT NULL,
    torch_version TEXT NOT NULL,
    device TEXT NOT NULL,
    started_at TEXT NOT NULL,
    error TEXT NOT NULL,
    run_dir TEXT NOT NULL
);
CREATE TABLE metrics (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    name TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (run_id, name)
);
"""

# Version 2 records what a re-run needs: the whole config and where the code and data came from.
# Rows from version 1 keep empty values: they were recorded before anyone kept these.
ADD_PROVENANCE = """
ALTER TABLE runs ADD COLUMN config TEXT NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN numpy_version TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN python_version TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN threads INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN dataset_fingerprint TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN git_commit TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN core_git_commit TEXT NOT NULL DEFAULT '';
"""

# Version 3 keeps the model's hyperparameters (hparams) and the trainer's settings apart, and a
# run's warnings: an observer plugin or a metric that failed without failing the run.
SPLIT_SETTINGS = """
ALTER TABLE runs ADD COLUMN trainer TEXT NOT NULL DEFAULT '{}';
ALTER TABLE runs ADD COLUMN warnings TEXT NOT NULL DEFAULT '[]';
"""

# Version 4 is for runs people sweep and manage. A run's identity (run_key: a hash of model, dataset,
# resolved settings and seed) and its sweep let a sweep resume; the sweeps table keeps each sweep's
# plan. Tags, a note and the folder's size let people find, keep and remove runs; removals lists
# run folders whose rows are gone but whose deletion has not finished (zoo gc completes it).
# training holds what the trainer did: epochs run, best epoch, why it stopped, its curves.
MANAGE_RUNS = """
ALTER TABLE runs ADD COLUMN run_key TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN sweep_id TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN note TEXT NOT NULL DEFAULT '';
ALTER TABLE runs ADD COLUMN folder_bytes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE runs ADD COLUMN training TEXT NOT NULL DEFAULT '{}';
CREATE INDEX runs_by_key ON runs (run_key);
CREATE TABLE tags (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    tag TEXT NOT NULL,
    PRIMARY KEY (run_id, tag)
);
CREATE TABLE sweeps (
    sweep_id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    plan TEXT NOT NULL
);
CREATE TABLE removals (
    run_dir TEXT PRIMARY KEY,
    run_id TEXT NOT NULL,
    removed_at TEXT NOT NULL
);
"""

# MIGRATIONS[v] turns a version-v database into version v + 1; version 0 is an empty file.
MIGRATIONS = {0: CREATE_V1, 1: ADD_PROVENANCE, 2: SPLIT_SETTINGS, 3: MANAGE_RUNS}


@dataclass(frozen=True)
class RunRow:
    """Everything the store keeps about one run, besides its metrics."""

    run_id: str
    model: str
    dataset: str
    task: str
    plugin: str
    seed: int
    status: str
    hparams: Mapping[str, Any]
    duration_s: float
    num_params: int
    zoo_version: str
    plugin_version: str
    torch_version: str
    device: str
    started_at: str
    error: str
    run_dir: str
    config: Mapping[str, Any] = field(default_factory=dict)
    trainer: Mapping[str, Any] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    numpy_version: str = ""
    python_version: str = ""
    threads: int = 0
    dataset_fingerprint: str = ""
    git_commit: str = ""  # of the plugin's source
    core_git_commit: str = ""
    run_key: str = ""
    sweep_id: str = ""
    note: str = ""
    folder_bytes: int = 0
    training: Mapping[str, Any] = field(default_factory=dict)


JSON_COLUMNS = ("hparams", "config", "trainer", "warnings", "training")
# What each column of a row must hold to be read back; a row edited by hand into anything else is
# skipped with a warning instead of crashing every command that lists runs.
COLUMN_TYPES: dict[str, tuple[type, ...]] = {
    f.name: {"str": (str,), "int": (int,), "float": (int, float)}.get(str(f.type), (dict, list))
    for f in fields(RunRow)
}
JSON_TYPES = {"hparams": dict, "config": dict, "trainer": dict, "warnings": list, "training": dict}
# Shown at most, when a warning names damaged rows.
NAMED = 5

# SQLite's primary result codes that say something about the machine rather than about the zoo.
SQLITE_CODES = {3: "PERM", 5: "BUSY", 6: "LOCKED", 8: "READONLY", 10: "IOERR", 11: "CORRUPT",
                13: "FULL", 14: "CANTOPEN", 23: "AUTH", 26: "NOTADB"}  # fmt: skip
# Python before 3.11 gives only the message.
SQLITE_MESSAGES = {
    "database or disk is full": "FULL",
    "attempt to write a readonly database": "READONLY",
    "unable to open database file": "CANTOPEN",
    "file is not a database": "NOTADB",
    "database disk image is malformed": "CORRUPT",
    "disk i/o error": "IOERR",
    "database is locked": "BUSY",
}


def _warn(line: str) -> None:
    print(f"zoo: warning: {line}", file=sys.stderr, flush=True)


class Store:
    """The results database at ``path``.

    Reading never changes the file: it is opened read-only (so a read-only home can still be
    listed), and an older schema is migrated in a copy in memory. Writing opens it for writing,
    migrates it in place and turns on WAL mode. A file that is not the zoo's is refused untouched.
    ``notify`` hears about damaged rows that reading skipped (by default, a line on stderr).
    """

    def __init__(self, path: Path, notify: Callable[[str], None] = _warn) -> None:
        self.path = path
        self.notify = notify
        # The rows the last rows() skipped, and why: by run id ("row N" when the id itself is
        # damaged, "metric row N" for a metric).
        self.damaged: dict[str, str] = {}

    # -- opening ---------------------------------------------------------------------------

    def _check_path(self) -> bool:
        """Whether the database file exists; a folder in its place, or a home that is a file, is refused."""
        try:
            info = self.path.stat()
        except FileNotFoundError:
            return False
        except NotADirectoryError:
            raise ZooError(
                f"the zoo home {self.path.parent} is not a folder: its path has a file in it"
            ) from None
        except OSError as exc:
            raise ZooError(f"cannot reach results database {self.path}: {exc.strerror}") from None
        if stat.S_ISDIR(info.st_mode):
            raise ZooError(f"results database {self.path} is a folder, not a database file")
        if not stat.S_ISREG(info.st_mode):
            raise ZooError(f"results database {self.path} is not a regular file")
        return True

    def _open_for_reading(self) -> sqlite3.Connection | None:
        """A read-only connection to the current schema, or None when there is no database yet."""
        if not self._check_path():
            return None
        self._identify_file()
        # A read-only connection to a WAL-mode file leaves -wal and -shm files behind it, which only a
        # writer removes. Where this process could write anyway, reading through a read-write
        # connection (it never changes a row) leaves the folder as it was.
        writable = _writable(self.path) and _writable(self.path.parent)
        uri = self._uri("rw") if writable else self._read_only_uri()
        try:
            try:
                connection = _opened(sqlite3.connect(uri, uri=True, timeout=60))
            except sqlite3.Error as exc:
                if _code(exc) != "CANTOPEN" or self._wal.exists():
                    raise
                # A WAL-mode file in a folder this user cannot write: SQLite cannot create the shared
                # index it reads through. With no -wal file, the main file holds every row, and no one
                # may change it from here, so it is read as immutable.
                connection = _opened(sqlite3.connect(f"{uri}&immutable=1", uri=True))
        except sqlite3.Error as exc:
            raise self._explain(exc, writing=False) from None
        try:
            version = self._identify(connection)
            if version < SCHEMA_VERSION:
                # Reading never migrates the file: a copy in memory is brought up to date.
                memory = sqlite3.connect(":memory:", isolation_level=None)
                connection.backup(memory)
                connection.close()
                connection = memory
                self._migrate(connection)
        except BaseException as exc:
            connection.close()
            if isinstance(exc, sqlite3.Error):
                raise self._explain(exc, writing=False) from None
            raise
        return connection

    def _identify_file(self) -> int:
        """The schema version of the file, judged before any connection could change it or its folder.

        A file that is not the zoo's, or a newer zoo's, must stay as it was, and get no -wal or
        -shm file beside it (a read-only connection to a WAL-mode file makes both). With no -wal
        file, the main file holds every page, so it is read as immutable, which creates nothing.
        """
        immutable = "" if self._wal.exists() else "&immutable=1"
        try:
            with closing(
                _opened(sqlite3.connect(self._read_only_uri() + immutable, uri=True, timeout=60))
            ) as peek:
                return self._identify(peek)
        except sqlite3.Error as exc:
            raise self._explain(exc, writing=False) from None

    def _read_only_uri(self) -> str:
        return self._uri("ro")

    def _uri(self, mode: str) -> str:
        return f"{self.path.absolute().as_uri()}?mode={mode}"

    @property
    def _wal(self) -> Path:
        return self.path.with_name(self.path.name + "-wal")

    def _open_for_writing(self) -> sqlite3.Connection:
        """A connection that may write, to a database migrated (or created) in place."""
        from .disk import ensure_folder

        exists = self._check_path()
        ensure_folder(self.path.parent, "zoo home")
        if exists:
            self._identify_file()
        try:
            connection = _opened(sqlite3.connect(self.path, timeout=60, isolation_level=None))
        except sqlite3.Error as exc:
            raise self._explain(exc, writing=True) from None
        try:
            if self._identify(connection) < SCHEMA_VERSION:
                self._migrate(connection)
            connection.execute("PRAGMA journal_mode=WAL")
        except BaseException as exc:
            connection.close()
            if isinstance(exc, sqlite3.Error):
                raise self._explain(exc, writing=True) from None
            raise
        return connection

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction: committed whole, or rolled back whole (a full disk included)."""
        connection = self._open_for_writing()
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            connection.execute("COMMIT")
        except BaseException as exc:
            if connection.in_transaction:  # SQLite may have rolled back already (a full disk does)
                with suppress(sqlite3.Error):  # closing the connection rolls back what is left
                    connection.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise self._explain(exc, writing=True) from None
            raise
        finally:
            connection.close()

    # -- what the file is ------------------------------------------------------------------

    def _identify(self, connection: sqlite3.Connection) -> int:
        """The file's schema version, once it is known to be the zoo's; anything else is refused.

        Version 3 on marks the file with ``PRAGMA application_id``. Older zoo files carry no mark,
        so they are recognised by their exact tables and columns; an empty file is a new database.
        """
        version = int(connection.execute("PRAGMA user_version").fetchone()[0])
        mark = int(connection.execute("PRAGMA application_id").fetchone()[0])
        found = _tables(connection)
        if mark == APPLICATION_ID:
            if version > SCHEMA_VERSION:
                raise ZooError(
                    f"results database {self.path} has schema version {version}, newer than the "
                    f"{SCHEMA_VERSION} this zoo-core {__version__} knows; upgrade zoo-core to read it"
                )
            missing = _missing(found, _shapes().get(version, {}))
            if missing:
                raise ZooError(
                    f"results database {self.path} is the zoo's, but its schema version {version} lacks "
                    f"{', '.join(missing)}: it was changed by hand or by another program, and the zoo "
                    "will not touch it"
                )
            return version
        (objects,) = connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
        if mark == 0 and version == 0 and objects == 0:
            return 0  # an empty file (no tables, views, indexes or triggers): a new database
        for known, stamped in ((1, 0), (2, 2)):  # version 1 files predate the version number
            if mark == 0 and version == stamped and found == _shapes()[known]:
                return known
        shown = ", ".join(sorted(found)) or "none"
        raise ZooError(
            f"{self.path} is an SQLite database, but not the zoo's results database (its tables: "
            f"{shown}); the zoo will not touch it: point --home elsewhere, or move that file aside"
        )

    def _migrate(self, connection: sqlite3.Connection) -> None:
        """Bring the database up to SCHEMA_VERSION, one step per version, all in one transaction."""
        if not connection.in_transaction:
            connection.execute("BEGIN IMMEDIATE")
        try:
            version = self._identify(connection)  # again: another process may have migrated it
            while version < SCHEMA_VERSION:
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        connection.execute(statement)
                version += 1
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    def _explain(self, exc: sqlite3.Error, writing: bool) -> ZooError:
        """One line for an error SQLite reports about the file or the machine."""
        code = _code(exc)
        path = self.path
        if code == "FULL":
            return ZooError(
                f"the disk is full: results database {path} could not take the write ({exc}); "
                "the database is unchanged"
            )
        if code in ("READONLY", "PERM", "AUTH") or (code == "CANTOPEN" and writing and not _writable(path)):
            return ZooError(
                f"results database {path} is read-only ({exc}): commands that record runs cannot "
                "write to it; runs, show and leaderboard still read it"
            )
        if code == "NOTADB":
            return ZooError(
                f"{path} is not an SQLite database ({exc}); the zoo will not touch it: point --home "
                "elsewhere, or move that file aside"
            )
        if code == "CORRUPT":
            return ZooError(
                f"results database {path} is damaged ({exc}); the zoo will not change it: "
                f"`sqlite3 {path} .recover` may save its rows"
            )
        if code in ("BUSY", "LOCKED"):
            return ZooError(
                f"results database {path} stayed locked by another process for 60 s ({exc}); try again"
            )
        if code in ("IOERR", "CANTOPEN") and writing and _nearly_full(path.parent):
            return ZooError(
                f"the disk is full: results database {path} could not be opened to write ({exc}); "
                "the database is unchanged"
            )
        if code == "IOERR":
            return ZooError(
                f"could not read or write results database {path} ({exc}): the disk may be failing; "
                "the database is unchanged"
            )
        if code == "CANTOPEN":
            if self._wal.exists() and not _writable(path):
                return ZooError(
                    f"results database {path} has a write-ahead log ({self._wal.name}) that only a writable "
                    "home can merge; run any zoo command once where the home is writable"
                )
            return ZooError(f"cannot open results database {path} ({exc})")
        raise exc  # not about the file or the machine: a bug, with its traceback

    # -- the public surface ----------------------------------------------------------------

    @property
    def version(self) -> int:
        """The schema version of the file on disk (0 when there is none yet); reading never migrates."""
        if not self._check_path():
            return 0
        with closing(sqlite3.connect(self._read_only_uri(), uri=True)) as connection:
            return int(connection.execute("PRAGMA user_version").fetchone()[0])

    def check(self) -> None:
        """Open (and if needed create or migrate) the database for writing, so a run fails before training.

        An empty write transaction is begun and rolled back: a read-only file or folder says so here.
        """
        with closing(self._open_for_writing()) as connection:
            try:
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("ROLLBACK")
            except sqlite3.Error as exc:
                raise self._explain(exc, writing=True) from None

    def record(self, row: RunRow, metrics: Mapping[str, float]) -> None:
        """Write the run and its metrics atomically."""
        values = {f.name: getattr(row, f.name) for f in fields(row)}
        for column in JSON_COLUMNS:
            value = values[column]
            values[column] = json.dumps(
                dict(value) if isinstance(value, Mapping) else list(value), sort_keys=True
            )
        columns = ", ".join(values)
        placeholders = ", ".join(f":{name}" for name in values)
        scores = [(n, float(v)) for n, v in metrics.items()]
        with self._transaction() as connection:
            connection.execute(f"INSERT INTO runs ({columns}) VALUES ({placeholders})", values)
            connection.executemany(
                "INSERT INTO metrics (run_id, name, value) VALUES (?, ?, ?)",
                # An undefined score (NaN, e.g. silhouette of one cluster) is simply not stored.
                [(row.run_id, name, v) for name, v in scores if math.isfinite(v)],
            )

    def add_warnings(self, run_id: str, lines: list[str]) -> None:
        """Append warnings to a recorded run (an observer failed after the row was written)."""
        with self._transaction() as connection:
            (stored,) = connection.execute("SELECT warnings FROM runs WHERE run_id = ?", (run_id,)).fetchone()
            merged = json.dumps([*json.loads(stored), *lines])
            connection.execute("UPDATE runs SET warnings = ? WHERE run_id = ?", (merged, run_id))

    def rows(self) -> list[dict[str, Any]]:
        """Every run as a dict of its columns, plus ``"metrics"``: a dict of its scores.

        Rows that do not hold what the zoo wrote (edited by hand: text where a number belongs, a
        ``hparams`` cell that is not JSON, metrics of a run that is not there) are left out, and
        ``notify`` hears one line naming them; ``damaged`` keeps them, with what is wrong.
        """
        self.damaged = {}
        connection = self._open_for_reading()
        if connection is None:
            return []
        try:
            with closing(connection):
                connection.row_factory = sqlite3.Row
                listed = [
                    dict(r) for r in connection.execute("SELECT rowid, * FROM runs ORDER BY started_at")
                ]
                scores = connection.execute("SELECT rowid, run_id, name, value FROM metrics").fetchall()
        except sqlite3.Error as exc:
            raise self._explain(exc, writing=False) from None
        runs: dict[str, dict[str, Any]] = {}
        for run in listed:
            number = run.pop("rowid")
            problem = _row_problem(run)
            if problem is None:
                runs[run["run_id"]] = {**run, "metrics": {}}
            else:
                name = run["run_id"] if isinstance(run["run_id"], str) and run["run_id"] else f"row {number}"
                self.damaged[name] = problem
        orphans: dict[str, None] = {}
        for number, run_id, name, value in scores:
            if run_id in self.damaged:
                continue
            if run_id not in runs:
                orphans[f"metric row {number} (run {run_id!r})"] = None
            elif not isinstance(name, str) or not _number(value):
                self.damaged[f"metric row {number}"] = (
                    f"run {run_id}: metric {name!r} is {value!r}, not a number"
                )
            else:
                runs[run_id]["metrics"][name] = float(value)
        for orphan in orphans:
            self.damaged[orphan] = "belongs to no recorded run"
        if self.damaged:
            named = [f"{name} ({problem})" for name, problem in list(self.damaged.items())[:NAMED]]
            more = len(self.damaged) - len(named)
            self.notify(
                f"skipped {len(self.damaged)} damaged row{'s' if len(self.damaged) > 1 else ''} of "
                f"{self.path}: {'; '.join(named)}{f'; and {more} more' if more else ''}"
            )
        return list(runs.values())

    def find(self, run_id: str) -> dict[str, Any]:
        """The run whose id is ``run_id`` or starts with it (literally); none, or several, is a ZooError."""
        runs = self.rows()
        exact = [r for r in runs if r["run_id"] == run_id]
        matches = exact or [r for r in runs if r["run_id"].startswith(run_id)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            raise UnknownName(ambiguous(run_id, [r["run_id"] for r in matches]))
        raise UnknownName(self.unknown(run_id, [r["run_id"] for r in runs]))

    def unknown(self, run_id: str, known: list[str]) -> str:
        """Why no recorded run has the id ``run_id``: a damaged row of that id, or none at all."""
        damaged = [name for name in self.damaged if name.startswith(run_id) and "row " not in name]
        if len(damaged) == 1:
            return f"the row of run {damaged[0]} in {self.path} is damaged ({self.damaged[damaged[0]]})"
        hint = suggest(run_id, known) if len(run_id) <= 100 else ""  # difflib is slow on long text
        return f"no run {shorten(run_id)} in {self.path}{hint}; `zoo runs` lists the recorded ones"

    # Managing runs (`zoo tag`, `zoo note`, `zoo rm`, `zoo gc`); each change is one transaction.

    def _write(self, statements: list[tuple[str, Any]]) -> None:
        """Run ``(sql, parameters)`` statements in one transaction; a list of parameters runs many."""
        with self._transaction() as connection:
            for sql, parameters in statements:
                if isinstance(parameters, list):
                    connection.executemany(sql, parameters)
                else:
                    connection.execute(sql, parameters)

    def _read(self, sql: str, parameters: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        connection = self._open_for_reading()
        if connection is None:
            return []
        try:
            with closing(connection):
                return connection.execute(sql, parameters).fetchall()
        except sqlite3.Error as exc:
            raise self._explain(exc, writing=False) from None

    def tags(self) -> dict[str, list[str]]:
        """Each tagged run's tags, sorted, by run id."""
        tagged: dict[str, list[str]] = {}
        for run_id, tag in self._read("SELECT run_id, tag FROM tags ORDER BY run_id, tag"):
            tagged.setdefault(run_id, []).append(tag)
        return tagged

    def retag(self, run_ids: list[str], add: list[str], remove: list[str]) -> None:
        """Add the tags ``add`` to each run and take ``remove`` off, together."""
        self._write(
            [
                ("DELETE FROM tags WHERE run_id = ? AND tag = ?", [(r, t) for r in run_ids for t in remove]),
                (
                    "INSERT OR IGNORE INTO tags (run_id, tag) VALUES (?, ?)",
                    [(r, t) for r in run_ids for t in add],
                ),
            ]
        )

    def set_note(self, run_id: str, note: str) -> None:
        self._write([("UPDATE runs SET note = ? WHERE run_id = ?", (note, run_id))])

    def remove(self, runs: list[tuple[str, str]], removed_at: str) -> None:
        """Delete the rows of ``runs`` (run id, run folder) and list their folders in ``removals``.

        One transaction: afterwards the runs are gone and every folder still to delete is listed,
        or nothing changed. The caller deletes the folders, then calls :meth:`removed` for each.
        """
        ids = [(run_id,) for run_id, _ in runs]
        self._write(
            [
                (
                    "INSERT OR REPLACE INTO removals (run_dir, run_id, removed_at) VALUES (?, ?, ?)",
                    [(folder, run_id, removed_at) for run_id, folder in runs if folder],
                ),
                ("DELETE FROM metrics WHERE run_id = ?", ids),
                ("DELETE FROM tags WHERE run_id = ?", ids),
                ("DELETE FROM runs WHERE run_id = ?", ids),
            ]
        )

    def removals(self) -> list[tuple[str, str]]:
        """The folders (run folder, run id) of removed runs whose deletion has not finished."""
        return [(d, r) for d, r in self._read("SELECT run_dir, run_id FROM removals ORDER BY run_dir")]

    def removed(self, run_dirs: list[str]) -> None:
        """The folders ``run_dirs`` of removed runs are deleted: forget them."""
        self._write([("DELETE FROM removals WHERE run_dir = ?", [(d,) for d in run_dirs])])

    def run_ids(self) -> set[str]:
        """The id of every recorded run, read as stored (whatever else its row holds)."""
        return {run_id for (run_id,) in self._read("SELECT run_id FROM runs")}

    # Sweeps (`zoo sweep`): what is done already, and each sweep's plan.

    def done_keys(self, keys: Iterable[str]) -> set[str]:
        """The run keys among ``keys`` that have an ``ok`` row; reading creates no database."""
        wanted = set(keys)
        if not wanted:
            return set()
        query = "SELECT DISTINCT run_key FROM runs WHERE status = 'ok' AND run_key != ''"
        return wanted & {key for (key,) in self._read(query)}

    def add_sweep(self, sweep_id: str, plan: Mapping[str, Any]) -> None:
        """Keep a sweep's plan; a sweep started again (to resume it) keeps its first record."""
        created_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self._write(
            [
                (
                    "INSERT OR IGNORE INTO sweeps (sweep_id, created_at, plan) VALUES (?, ?, ?)",
                    (sweep_id, created_at, json.dumps(plan, sort_keys=True)),
                )
            ]
        )

    def find_sweep(self, sweep_id: str) -> dict[str, Any]:
        """The sweep whose id is ``sweep_id`` or starts with it; unknown or ambiguous is a ZooError."""
        query = "SELECT sweep_id, created_at, plan FROM sweeps ORDER BY created_at"
        sweeps = [{"sweep_id": s, "created_at": c, "plan": json.loads(p)} for s, c, p in self._read(query)]
        exact = [s for s in sweeps if s["sweep_id"] == sweep_id]
        matches = exact or [s for s in sweeps if s["sweep_id"].startswith(sweep_id)]
        if len(matches) == 1:
            return matches[0]
        ids = [s["sweep_id"] for s in sweeps]
        if matches:
            raise UnknownName(f"{len(matches)} sweeps start with {sweep_id!r}; give more of the id")
        raise UnknownName(f"no sweep {sweep_id!r} in {self.path}{suggest(sweep_id, ids)}")

    def sweep_rows(self, sweep_id: str) -> list[dict[str, Any]]:
        """One row per run a sweep planned: its newest ``ok`` row, else its newest row, if any.

        A run counts for the sweep whichever command recorded it (a run already done is not run
        again), so the rows are found by the planned runs' keys, not by ``sweep_id``.
        """
        planned = self.find_sweep(sweep_id)["plan"]["runs"]
        by_key: dict[str, list[dict[str, Any]]] = {}
        for run in self.rows():  # oldest first
            by_key.setdefault(run["run_key"], []).append(run)
        chosen = []
        for entry in planned:
            candidates = [run for key in entry["keys"] for run in by_key.get(key, [])]
            ok = [run for run in candidates if run["status"] == "ok"]
            if ok or candidates:
                chosen.append(sorted(ok or candidates, key=lambda run: run["started_at"])[-1])
        return chosen


def ambiguous(run_id: str, recorded: Sequence[str], unfinished: Sequence[str] = ()) -> str:
    """The message for a prefix that starts several runs (recorded, or folders of unfinished ones)."""
    parts = [
        f"{len(names)} {kind} run{'s' if len(names) > 1 else ''} ({', '.join(names[:3])}"
        f"{', ...' if len(names) > 3 else ''})"
        for kind, names in (("recorded", recorded), ("unfinished", unfinished))
        if names
    ]
    return (
        f"the run id prefix {shorten(run_id)} is ambiguous: it starts {' and '.join(parts)}; "
        "give more of the id"
    )


def shorten(run_id: str, limit: int = 80) -> str:
    """``run_id`` quoted for a one-line message: escapes shown, and cut if very long."""
    return repr(run_id) if len(run_id) <= limit else f"{run_id[:limit]!r}... ({len(run_id)} characters)"


def _row_problem(run: dict[str, Any]) -> str | None:
    """What is wrong with a runs row read back (its JSON columns decoded in place), or None."""
    for column, types in COLUMN_TYPES.items():
        value = run.get(column)
        if column in JSON_TYPES:
            if not isinstance(value, str):
                return f"{column} is {_shown(value)}, not JSON text"
            try:
                value = run[column] = json.loads(value)
            except ValueError:
                return f"{column} is {_shown(value)}, not JSON"
            if not isinstance(value, JSON_TYPES[column]):
                return f"{column} holds a {type(value).__name__}, not a {JSON_TYPES[column].__name__}"
        elif (
            not isinstance(value, types)
            or isinstance(value, bool)
            or (types != (str,) and not _number(value))
        ):
            return f"{column} is {_shown(value)}"
    if not run["run_id"]:
        return "run_id is empty"
    return None


def _opened(connection: sqlite3.Connection) -> sqlite3.Connection:
    """``connection`` once SQLite has really opened the file (it opens lazily, on first use)."""
    try:
        connection.execute("SELECT count(*) FROM sqlite_master").fetchone()
    except BaseException:
        connection.close()
        raise
    return connection


def _missing(
    found: dict[str, list[tuple[Any, ...]]], expected: dict[str, list[tuple[Any, ...]]]
) -> list[str]:
    """The tables and columns of ``expected`` that ``found`` lacks."""
    missing = []
    for table, columns in expected.items():
        if table not in found:
            missing.append(f"table {table}")
            continue
        present = {column[0] for column in found[table]}
        missing += [f"{table}.{column[0]}" for column in columns if column[0] not in present]
    return missing


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _shown(value: Any) -> str:
    if value is None:
        return "NULL"
    text = repr(value)
    return text if len(text) <= 40 else f"{text[:37]}..."


def _tables(connection: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    """The file's own tables, each with its columns as (name, type, not null, default, primary key)."""
    names = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {
        name: [
            tuple(column[1:]) for column in connection.execute("SELECT * FROM pragma_table_info(?)", (name,))
        ]
        for name in names
    }


@cache
def _shapes() -> dict[int, dict[str, list[tuple[Any, ...]]]]:
    """The tables of each schema version, exactly as the migrations make them (built in memory)."""
    shapes = {0: {}}
    with closing(sqlite3.connect(":memory:")) as connection:
        for version in range(SCHEMA_VERSION):
            connection.executescript(MIGRATIONS[version])
            shapes[version + 1] = _tables(connection)
    return shapes


def _code(exc: sqlite3.Error) -> str:
    """SQLite's primary result code of ``exc``, without its ``SQLITE_`` prefix (or "" when unknown)."""
    number = getattr(exc, "sqlite_errorcode", None)
    if isinstance(number, int):
        return SQLITE_CODES.get(number & 0xFF, "")
    return SQLITE_MESSAGES.get(str(exc).strip().lower(), "")


def _nearly_full(folder: Path) -> bool:
    """Whether the disk under ``folder`` has less room than SQLite needs to open a file for writing."""
    try:
        return shutil.disk_usage(folder).free < 256 * 1024
    except OSError:
        return False


def _writable(path: Path) -> bool:
    """Whether this process may write the file (or create it): False on a read-only mount, even as root."""
    return os.access(path if path.exists() else path.parent, os.W_OK)
