"""Looking up recorded runs: a run by its id or a prefix, and what its folder holds.

Ids are matched literally (a prefix is a plain string prefix, never a pattern), so ``*`` or
``../x`` match nothing unless a run id really starts with them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from . import layout
from .errors import UnknownName, ZooError
from .store import Store


def find_run(home: Path, run_id: str) -> dict[str, Any]:
    """The recorded run whose id is ``run_id`` or starts with it.

    When no row matches, the run folders say why: a run that did not finish (interrupted or
    killed) is named as such, and a prefix that matches several of them is ambiguous.
    """
    store = Store(layout.database_path(home))
    try:
        return store.find(run_id)
    except UnknownName:
        unfinished = layout.incomplete_runs(home, run_id)
        exact = [folder for folder in unfinished if folder.name == run_id]
        if len(exact or unfinished) == 1:
            folder = (exact or unfinished)[0]
            raise ZooError(
                f"run {folder.name} did not finish (interrupted or killed), so nothing was recorded; "
                f"its folder is {folder}"
            ) from None
        if unfinished:
            shown = ", ".join(folder.name for folder in unfinished[:3])
            raise UnknownName(
                f"{len(unfinished)} unfinished runs start with {run_id!r} ({shown}); give more of the id"
            ) from None
        raise


def artefacts(row: dict[str, Any]) -> tuple[Path | None, list[str]]:
    """The run's folder (None when the row names none) and the files in it, sorted."""
    folder = Path(row["run_dir"]) if row["run_dir"] else None
    if folder is None or not folder.is_dir():
        return folder, []
    return folder, sorted(str(path) for path in folder.iterdir())


def ran_on(row: dict[str, Any]) -> list[str]:
    """What a run ran on, as "name version" words: zoo-core, its plugin, torch, numpy, python."""
    labels = (
        ("zoo-core", "zoo_version"),
        (row["plugin"], "plugin_version"),
        ("torch", "torch_version"),
        ("numpy", "numpy_version"),
        ("python", "python_version"),
    )
    return [f"{name} {row[key]}" for name, key in labels if row.get(key)]
