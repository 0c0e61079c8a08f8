"""`zoo reproduce`: run a stored run again from its record and compare, metric by metric."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import layout
from .errors import ZooError
from .store import Store

# Compared between the stored run and the re-run; a difference explains a mismatch, it is not one.
VERSIONS = ("zoo_version", "plugin_version", "torch_version", "numpy_version", "python_version")


@dataclass(frozen=True)
class MetricCheck:
    name: str
    stored: float | None
    reproduced: float | None

    @property
    def matches(self) -> bool:
        """Exactly equal (CPU runs are deterministic), or undefined on both sides."""
        return self.stored == self.reproduced


@dataclass(frozen=True)
class Reproduction:
    stored: dict[str, Any]
    rerun: dict[str, Any]
    metrics: list[MetricCheck]
    same_data: bool | None  # None when the stored run predates data fingerprints
    same_weights: bool | None  # None when the stored run folder has no weights any more
    version_changes: dict[str, tuple[str, str]]

    @property
    def matches(self) -> bool:
        """Every metric identical, and neither the data nor the weights known to differ."""
        return (
            bool(self.metrics)
            and all(check.matches for check in self.metrics)
            and self.same_data is not False
            and self.same_weights is not False
        )


def reproduce(
    run_id: str,
    home: Path,
    device: str | None = None,
    keep: Path | None = None,
    notify: Callable[[str], None] = lambda message: None,
) -> Reproduction:
    """Re-run ``run_id`` with its recorded model, dataset, seed, settings and thread count.

    The re-run reads data from ``home`` but records into a scratch folder (``keep``, or a
    temporary one that is removed), so it never adds a duplicate row to the leaderboard.
    """
    from .planning import plan_run
    from .runner import Context, Run

    stored = Store(layout.database_path(home)).find(run_id)
    if stored["status"] != "ok":
        raise ZooError(f"run {stored['run_id']} {stored['status']}; there are no metrics to reproduce")
    _check_referenced_data(stored, home)  # before the re-run: a run that cannot be loaded is refused
    scratch = keep or Path(tempfile.mkdtemp(prefix="zoo-reproduce-"))
    try:
        # Float sums split across threads round differently: use the run's own thread count.
        context = Context.create(
            home=home,
            results=scratch,
            device=device or stored["device"],
            threads=stored["threads"] or None,
            notify=notify,
        )
        assert context.registry is not None
        settings = {**stored["hparams"], **stored.get("trainer", {})}
        plan = plan_run(context.registry, stored["model"], stored["dataset"], settings)
        result = Run(plan, stored["seed"], context).execute()
        [rerun] = Store(layout.database_path(scratch)).rows()
        same_weights = _same_weights(stored, {**rerun, "run_dir": result.run_dir}, home)
    finally:
        if keep is None:
            shutil.rmtree(scratch, ignore_errors=True)
    before = stored["metrics"]
    after = rerun["metrics"]  # as stored: undefined scores are left out on both sides
    checks = [MetricCheck(n, before.get(n), after.get(n)) for n in sorted(set(before) | set(after))]
    changes = {k: (stored[k], rerun[k]) for k in VERSIONS if stored[k] and stored[k] != rerun[k]}
    fingerprint = stored["dataset_fingerprint"]
    same_data = fingerprint == rerun["dataset_fingerprint"] if fingerprint else None
    return Reproduction(stored, rerun, checks, same_data, same_weights, changes)


def _check_referenced_data(stored: dict[str, Any], home: Path) -> None:
    """Refuse, in one line, a run whose state refers to training data that has changed since."""
    from .checkpoints import DataSource, read_data_reference
    from .records import reloaded_data

    reference = read_data_reference(Path(stored["run_dir"])) if stored["run_dir"] else None
    if reference is not None:
        reloaded_data(stored["run_id"], DataSource(reference["dataset"], reference["fingerprint"]), home)


def _same_weights(stored: dict[str, Any], rerun: dict[str, Any], home: Path) -> bool | None:
    import torch

    from .checkpoints import load_weights, read_data_reference
    from .records import load_run_state

    stored_dir, rerun_dir = Path(stored["run_dir"]), Path(rerun["run_dir"])
    if not (stored_dir / layout.WEIGHTS).exists():
        return None
    if read_data_reference(stored_dir) == read_data_reference(rerun_dir):
        # Both hold the same data the same way (or none): their weights files say it all.
        before, after = load_weights(stored_dir / layout.WEIGHTS), load_weights(rerun_dir / layout.WEIGHTS)
    else:  # one keeps a copy of the data, the other a reference to it
        before, after = load_run_state(stored, home), load_run_state(rerun, home)
    return before.keys() == after.keys() and all(torch.equal(before[k], after[k]) for k in before)
