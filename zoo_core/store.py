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
import sqlite3
from contextlib import closing
from dataclasses import dataclass, field, fields
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping

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


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            # Checked before anything writes: a newer zoo's database must stay byte for byte as it was.
            version = self._check_version(connection)
            if version < SCHEMA_VERSION:
                self._migrate(connection)
            connection.execute("PRAGMA journal_mode=WAL")
        except sqlite3.DatabaseError as exc:
            connection.close()
            # Never repair or replace it: the file may hold results the user wants back.
            raise ZooError(
                f"results database {self.path} is unreadable ({exc}); move it aside to start afresh"
            ) from None
        except ZooError:
            connection.close()
            raise
        return connection

    def _check_version(self, connection: sqlite3.Connection) -> int:
        version = connection.execute("PRAGMA user_version").fetchone()[0]
        if version > SCHEMA_VERSION:
            raise ZooError(
                f"results database {self.path} has schema version {version}, newer than the "
                f"{SCHEMA_VERSION} this zoo-core {__version__} knows; upgrade zoo-core to read it"
            )
        return int(version)

    def _migrate(self, connection: sqlite3.Connection) -> None:
        """Bring the database up to SCHEMA_VERSION, one step per version, all in one transaction."""
        connection.execute("BEGIN IMMEDIATE")  # another process may be migrating the same file
        try:
            version = self._check_version(connection)
            if version == 0 and self._has_table(connection, "runs"):
                version = 1  # written before the schema carried a version number
            while version < SCHEMA_VERSION:
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        connection.execute(statement)
                version += 1
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            connection.execute(f"PRAGMA application_id = {APPLICATION_ID}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")

    @staticmethod
    def _has_table(connection: sqlite3.Connection, name: str) -> bool:
        query = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"
        return connection.execute(query, (name,)).fetchone() is not None

    @property
    def version(self) -> int:
        """The schema version of the file on disk (0 when there is none yet); reading never migrates."""
        if not self.path.exists():
            return 0
        with closing(sqlite3.connect(f"{self.path.as_uri()}?mode=ro", uri=True)) as connection:
            return int(connection.execute("PRAGMA user_version").fetchone()[0])

    def check(self) -> None:
        """Open (and if needed create or migrate) the database now, so a run fails before training."""
        with closing(self._connect()):
            pass

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
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                connection.execute(f"INSERT INTO runs ({columns}) VALUES ({placeholders})", values)
                connection.executemany(
                    "INSERT INTO metrics (run_id, name, value) VALUES (?, ?, ?)",
                    # An undefined score (NaN, e.g. silhouette of one cluster) is simply not stored.
                    [
                        (row.run_id, name, v)
                        for name, v in ((n, float(v)) for n, v in metrics.items())
                        if math.isfinite(v)
                    ],
                )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def add_warnings(self, run_id: str, lines: list[str]) -> None:
        """Append warnings to a recorded run (an observer failed after the row was written)."""
        with closing(self._connect()) as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                (stored,) = connection.execute(
                    "SELECT warnings FROM runs WHERE run_id = ?", (run_id,)
                ).fetchone()
                merged = json.dumps([*json.loads(stored), *lines])
                connection.execute("UPDATE runs SET warnings = ? WHERE run_id = ?", (merged, run_id))
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def rows(self) -> list[dict[str, Any]]:
        """Every run as a dict of its columns, plus ``"metrics"``: a dict of its scores."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as connection:
            connection.row_factory = sqlite3.Row
            runs = {
                r["run_id"]: {**dict(r), "metrics": {}}
                for r in connection.execute("SELECT * FROM runs ORDER BY started_at")
            }
            for run_id, name, value in connection.execute("SELECT run_id, name, value FROM metrics"):
                runs[run_id]["metrics"][name] = value
        for run in runs.values():
            for column in JSON_COLUMNS:
                run[column] = json.loads(run[column])
        return list(runs.values())

    def find(self, run_id: str) -> dict[str, Any]:
        """The run whose id is ``run_id`` or starts with it; an unknown or ambiguous id is a ZooError."""
        runs = self.rows()
        exact = [r for r in runs if r["run_id"] == run_id]
        matches = exact or [r for r in runs if r["run_id"].startswith(run_id)]
        if len(matches) == 1:
            return matches[0]
        if matches:
            shown = ", ".join(r["run_id"] for r in matches[:3])
            raise UnknownName(f"{len(matches)} runs start with {run_id!r} ({shown}); give more of the id")
        raise UnknownName(
            f"no run {run_id!r} in {self.path}{suggest(run_id, [r['run_id'] for r in runs])}"
            "; `zoo runs` lists the recorded ones"
        )

    # Sweeps (`zoo sweep`): what is done already, and each sweep's plan.

    def done_keys(self, keys: Iterable[str]) -> set[str]:
        """The run keys among ``keys`` that have an ``ok`` row; reading creates no database."""
        wanted = set(keys)
        if not self.path.exists() or not wanted:
            return set()
        query = "SELECT DISTINCT run_key FROM runs WHERE status = 'ok' AND run_key != ''"
        with closing(self._connect()) as connection:
            return wanted & {key for (key,) in connection.execute(query)}

    def add_sweep(self, sweep_id: str, plan: Mapping[str, Any]) -> None:
        """Keep a sweep's plan; a sweep started again (to resume it) keeps its first record."""
        created_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with closing(self._connect()) as connection:
            connection.execute(
                "INSERT OR IGNORE INTO sweeps (sweep_id, created_at, plan) VALUES (?, ?, ?)",
                (sweep_id, created_at, json.dumps(plan, sort_keys=True)),
            )

    def find_sweep(self, sweep_id: str) -> dict[str, Any]:
        """The sweep whose id is ``sweep_id`` or starts with it; unknown or ambiguous is a ZooError."""
        sweeps = []
        if self.path.exists():
            with closing(self._connect()) as connection:
                query = "SELECT sweep_id, created_at, plan FROM sweeps ORDER BY created_at"
                sweeps = [
                    {"sweep_id": s, "created_at": c, "plan": json.loads(p)}
                    for s, c, p in connection.execute(query)
                ]
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
