"""The results database: one SQLite file, one row per run plus its metrics.

Each run is written in a single transaction, so a crash never leaves half a row, and
WAL mode with a busy timeout lets several `zoo run` processes record at once.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Mapping

from .errors import ZooError

SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
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
CREATE TABLE IF NOT EXISTS metrics (
    run_id TEXT NOT NULL REFERENCES runs(run_id),
    name TEXT NOT NULL,
    value REAL NOT NULL,
    PRIMARY KEY (run_id, name)
);
"""


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


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path

    def _connect(self) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        connection = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.executescript(SCHEMA)
        except sqlite3.DatabaseError as exc:
            connection.close()
            # Never repair or replace it: the file may hold results the user wants back.
            raise ZooError(
                f"results database {self.path} is unreadable ({exc}); move it aside to start afresh"
            ) from None
        return connection

    def record(self, row: RunRow, metrics: Mapping[str, float]) -> None:
        """Write the run and its metrics atomically."""
        values = asdict(row)
        values["hparams"] = json.dumps(dict(row.hparams), sort_keys=True)
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
                        if v == v
                    ],
                )
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")

    def rows(self) -> list[dict[str, Any]]:
        """Every run as a flat dict: the run's columns plus one key per metric."""
        if not self.path.exists():
            return []
        with closing(self._connect()) as connection:
            connection.row_factory = sqlite3.Row
            runs = {
                r["run_id"]: dict(r) for r in connection.execute("SELECT * FROM runs ORDER BY started_at")
            }
            for run_id, name, value in connection.execute("SELECT run_id, name, value FROM metrics"):
                runs[run_id][name] = value
        for run in runs.values():
            run["hparams"] = json.loads(run["hparams"])
        return list(runs.values())
