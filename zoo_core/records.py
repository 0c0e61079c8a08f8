"""Looking up recorded runs: a run by its id or a prefix, what its folder holds, its trained state.

Ids are matched literally (a prefix is a plain string prefix, never a pattern), so ``*`` or
``../x`` match nothing unless a run id really starts with them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import layout
from .errors import UnknownName, ZooError
from .store import Store, ambiguous

if TYPE_CHECKING:
    from .checkpoints import DataSource


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


def load_run_state(row: dict[str, Any], home: Path) -> dict[str, Any]:
    """The trained state of the recorded run ``row``, with training data it refers to read back in.

    A run whose model keeps its training data (KNN) refers to its dataset instead of holding a
    copy: the dataset is loaded again from ``home``, and refused, in one line, when its
    fingerprint is not the one the run trained on.
    """
    from .checkpoints import load_state

    def training(source: DataSource) -> Any:
        return reloaded_data(row["run_id"], source, home).train

    return load_state(Path(row["run_dir"]), training)


def reloaded_data(run_id: str, source: DataSource, home: Path) -> Any:
    """The splits of ``source``'s dataset loaded from ``home``, if they are still the data it names."""
    from .loading import checked_load
    from .provenance import fingerprint
    from .registry import get_registry

    try:
        entry = get_registry().dataset(source.dataset)
    except UnknownName as exc:
        raise UnknownName(
            f"run {run_id} refers to its training data in dataset {source.dataset!r}, which is not "
            f"registered ({exc}); install the plugin that provides it"
        ) from None
    splits = checked_load(entry, layout.data_dir(home))
    now = fingerprint(splits)
    if now != source.fingerprint:
        raise ZooError(
            f"run {run_id} refers to its training data in {source.dataset} ({short(source.fingerprint)}), "
            f"but {source.dataset} now loads as {short(now)}: the data changed since the run, so its "
            "model cannot be rebuilt (run it again, with --store-data to keep a copy of the data)"
        )
    return splits


def short(fingerprint: str) -> str:
    """A fingerprint cut to its algorithm and first 12 hex digits, for one-line messages."""
    algorithm, _, digest = fingerprint.partition(":")
    return f"{algorithm}:{digest[:12]}" if digest else fingerprint[:19]


def parameters_text(row: dict[str, Any]) -> str:
    """What a run's model holds, in words: "61,706", or "fitted: 60,000 training points (data reference)"."""
    kept = row.get("training") or {}
    points = kept.get("fitted_points") if isinstance(kept, dict) else None
    if not points:
        return f"{row['num_params']:,}"
    how = "data reference" if kept.get("data_reference") else "stored in the run folder"
    fitted = f"fitted: {points:,} training points ({how})"
    return f"{row['num_params']:,} + {fitted}" if row["num_params"] else fitted


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
