"""Removing runs (`zoo rm`) and cleaning up after interrupted ones (`zoo gc`), crash-safely.

A removal has two steps. :func:`forget` deletes the runs' rows and lists their folders in the
store's ``removals`` table, in one transaction; :func:`delete_folders` then deletes the folders
and clears their entries. A process killed between or during the steps leaves a valid store
whose ``removals`` names what is left to delete, and the next `zoo gc` finishes it.

`zoo gc` also removes the folders of runs that did not finish and no longer run (their
INCOMPLETE marker is not locked: see :mod:`zoo_core.markers`), and folders with no row. It never
touches a live run, nor a folder written in the last minute that could still be recorded.
"""

from __future__ import annotations

import os
import shutil
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Sequence

from . import layout, markers
from .errors import ZooError
from .store import Store


def run_folder(home: Path, run_id: str) -> Path | None:
    """The folder of run ``run_id`` in ``home``: ``runs/<run id>``; None for an id that is no folder name."""
    if not run_id or run_id in (".", "..") or "/" in run_id or os.sep in run_id or "\0" in run_id:
        return None
    return _runs(home) / run_id


def _runs(home: Path) -> Path:
    # Absolute, so that `zoo rm --home h` and a later `zoo gc` from another folder agree.
    return Path(os.path.abspath(layout.runs_dir(home)))


def forget(home: Path, rows: Sequence[dict[str, Any]]) -> list[Path]:
    """Step one of a removal: the runs' rows go and their folders are listed in ``removals``, atomically.

    Only a run's own folder in this home (``runs/<run id>``) is ever deleted, whatever its row says.
    """
    store = Store(layout.database_path(home))
    folders = [run_folder(home, row["run_id"]) for row in rows]
    runs = [(row["run_id"], str(folder) if folder else "") for row, folder in zip(rows, folders, strict=True)]
    store.remove(runs, datetime.now(timezone.utc).isoformat(timespec="seconds"))
    return [folder for folder in folders if folder]


def delete_folders(home: Path) -> list[Path]:
    """Step two: delete the folders ``removals`` lists, then clear their entries; the ones deleted."""
    store = Store(layout.database_path(home))
    done, deleted = [], []
    for run_dir, _run_id in store.removals():
        folder = Path(run_dir)
        if folder.parent == _runs(home) and folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
            deleted.append(folder)
        done.append(run_dir)
    store.removed(done)
    return deleted


def remove(home: Path, rows: Sequence[dict[str, Any]]) -> list[Path]:
    """Remove the recorded runs ``rows``: rows first (one transaction), then folders."""
    forget(home, rows)
    return delete_folders(home)


@dataclass(frozen=True)
class Cleanup:
    """A folder `zoo gc` removes (or, for a recorded run, whose stale marker it removes), and why."""

    folder: Path
    reason: str
    size: int
    unmark_only: bool = False


@dataclass(frozen=True)
class GcPlan:
    """What `zoo gc` would do: ``cleanups``; what it leaves and why (``kept``); rows with no folder."""

    cleanups: list[Cleanup] = field(default_factory=list)
    kept: list[tuple[Path, str]] = field(default_factory=list)
    missing: list[dict[str, Any]] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)  # entries of removals whose folder is gone

    @property
    def size(self) -> int:
        return sum(cleanup.size for cleanup in self.cleanups if not cleanup.unmark_only)


def plan_gc(home: Path, now: float | None = None) -> GcPlan:
    """Find what `zoo gc` cleans up in ``home``, touching nothing."""
    store = Store(layout.database_path(home))
    if not store.path.exists() and layout.run_folders(home):
        raise ZooError(
            f"there is no results database at {store.path}, so every run folder would look like one "
            "with no row; `zoo gc` removes nothing without one"
        )
    pending = {Path(run_dir) for run_dir, _ in store.removals()}
    # Folders first, rows after: a run recorded in between is then seen marked and locked, or recorded.
    folders = [_runs(home) / folder.name for folder in layout.run_folders(home)]
    scanned = [(folder, markers.liveness(folder, now)) for folder in folders]
    recorded = store.run_ids()
    clock = now or time.time()
    plan = GcPlan()
    for folder, live in scanned:
        marked = live.reason != "not marked"
        if folder in pending:
            plan.cleanups.append(
                Cleanup(folder, "removed by `zoo rm`, which did not finish", layout.folder_bytes(folder))
            )
        elif live.running:
            plan.kept.append((folder, f"still running: {live.reason}"))
        elif folder.name in recorded:
            if marked:
                plan.cleanups.append(
                    Cleanup(folder, "recorded, but its INCOMPLETE marker was left behind", 0, True)
                )
        elif marked:
            plan.cleanups.append(
                Cleanup(folder, f"did not finish: {live.reason}", layout.folder_bytes(folder))
            )
        elif clock - _modified(folder) < markers.GRACE_S:
            plan.kept.append((folder, "written less than a minute ago, it may be about to be recorded"))
        else:
            plan.cleanups.append(
                Cleanup(folder, "no run in the results database", layout.folder_bytes(folder))
            )
    plan.removals.extend(str(d) for d in pending if not d.exists())
    for row in store.rows():
        folder = run_folder(home, row["run_id"])
        recorded_dir = Path(row["run_dir"]) if row["run_dir"] else None
        if not any(path is not None and path.is_dir() for path in (folder, recorded_dir)):
            plan.missing.append(row)
    return plan


def collect(home: Path, plan: GcPlan) -> list[Cleanup]:
    """Do what ``plan`` says; the cleanups done. A run that came alive since the plan is left alone."""
    store = Store(layout.database_path(home))
    done = []
    for cleanup in plan.cleanups:
        folder = cleanup.folder
        if cleanup.unmark_only:
            if not markers.liveness(folder).running:
                (folder / layout.INCOMPLETE).unlink(missing_ok=True)
                done.append(cleanup)
            continue
        if markers.liveness(folder).running:
            continue
        if folder.is_dir() and not folder.is_symlink():
            shutil.rmtree(folder)
        done.append(cleanup)
    # Removals whose folders are now gone (deleted here or before): their entries go too.
    store.removed([d for d, _ in store.removals() if not Path(d).exists()])
    return done


def _modified(folder: Path) -> float:
    """The last time anything in ``folder`` changed (its own entries, or a file's contents)."""
    latest = folder.stat().st_mtime
    for entry in os.scandir(folder):
        try:
            latest = max(latest, entry.stat(follow_symlinks=False).st_mtime)
        except OSError:  # removed while we looked
            continue
    return latest
