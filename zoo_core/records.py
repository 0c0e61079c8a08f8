"""Looking up recorded runs: a run by its id or a prefix, and what its folder holds.

Ids are matched literally (a prefix is a plain string prefix, never a pattern), so ``*`` or
``../x`` match nothing unless a run id really starts with them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import layout
from .errors import UnknownName, ZooError
from .store import Store, ambiguous


def find_run(home: Path, run_id: str) -> dict[str, Any]:
    """The recorded run whose id is ``run_id`` or starts with it.

    The run folders count too: a run that did not finish (interrupted or killed) is named as
    such, and a prefix that starts more than one run, recorded or not, is ambiguous. A recorded
    run whose folder still carries the INCOMPLETE marker (stopped right after recording) is a
    recorded run, not a second one.
    """
    if not run_id.strip():
        raise ZooError("give a run id, or the start of one; `zoo runs` lists the recorded ones")
    store = Store(layout.database_path(home))
    runs = store.rows()
    recorded = {row["run_id"]: row for row in runs}
    unfinished = [
        folder
        for folder in layout.incomplete_runs(home, run_id)
        if folder.name not in recorded and folder.name not in store.damaged
    ]
    if run_id in recorded:
        return recorded[run_id]
    for folder in unfinished:
        if folder.name == run_id:
            raise _did_not_finish(folder)
    matches = [name for name in recorded if name.startswith(run_id)]
    if len(matches) + len(unfinished) > 1:
        raise UnknownName(ambiguous(run_id, matches, [folder.name for folder in unfinished]))
    if matches:
        return recorded[matches[0]]
    if unfinished:
        raise _did_not_finish(unfinished[0])
    raise UnknownName(store.unknown(run_id, list(recorded)))


def _did_not_finish(folder: Path) -> ZooError:
    return ZooError(
        f"run {folder.name} did not finish (interrupted or killed), so nothing was recorded; "
        f"its folder is {folder}"
    )


def artefacts(row: dict[str, Any]) -> tuple[Path | None, list[str]]:
    """The run's folder (None when the row names none) and the files in it, sorted."""
    folder = Path(row["run_dir"]) if row["run_dir"] else None
    if folder is None or not folder.is_dir():
        return folder, []
    try:
        return folder, sorted(str(path) for path in folder.iterdir())
    except OSError:  # unreadable: shown as holding nothing, like a folder that is gone
        return folder, []
