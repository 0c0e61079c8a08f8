"""`zoo reproduce`: run a stored run again from its record and compare, metric by metric."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from . import layout
from .errors import ZooError
from .recipe import recorded_trainer
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


# What became of the stored run's weights, compared with the re-run's.
WEIGHTS_VERDICTS = ("identical", "different", "missing", "not recorded")


class Terminated(KeyboardInterrupt):
    """SIGTERM (or SIGHUP) during a re-run. Raised like Ctrl-C, so the same clean-up runs (and no
    observer plugin can swallow it)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


@dataclass(frozen=True)
class Reproduction:
    stored: dict[str, Any]
    rerun: dict[str, Any]
    metrics: list[MetricCheck]
    same_data: bool | None  # None when the stored run predates data fingerprints
    weights: str  # one of WEIGHTS_VERDICTS: "missing" when the stored file is gone
    version_changes: dict[str, tuple[str, str]]

    @property
    def same_weights(self) -> bool | None:
        """True or False when both weights were compared; None when the stored ones are not there."""
        return {"identical": True, "different": False}.get(self.weights)

    @property
    def matches(self) -> bool:
        """Every metric identical, the data not known to differ, and the weights identical.

        Weights that are gone fail the check as surely as weights that differ: the stored run can
        no longer be shown to be what it claims. Only a run that never had a folder passes
        without them.
        """
        return (
            bool(self.metrics)
            and all(check.matches for check in self.metrics)
            and self.same_data is not False
            and self.weights in ("identical", "not recorded")
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
    temporary one that is removed, on Ctrl-C and SIGTERM too), so it never adds a duplicate
    row to the leaderboard: ``keep`` must be a new or empty folder outside ``home``.
    """
    from .disk import writing
    from .planning import plan_run
    from .records import find_run
    from .runner import Context, Run

    stored = find_run(home, run_id)
    if stored["status"] != "ok":
        raise ZooError(f"run {stored['run_id']} {stored['status']}; there are no metrics to reproduce")
    if keep is not None:
        check_keep(keep, home)
    weights = stored_weights(stored)  # read before the re-run: a file that is refused fails fast
    _check_referenced_data(stored, home)  # and a run whose training data changed since, too
    with terminated_as_interrupted():
        with writing("a scratch folder for the re-run"):
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
            # A run recorded before val_fraction and patience existed trained without them.
            settings = {**stored["hparams"], **recorded_trainer(stored.get("trainer") or {})}
            plan = plan_run(context.registry, stored["model"], stored["dataset"], settings)
            result = Run(plan, stored["seed"], context).execute()
            [rerun] = Store(layout.database_path(scratch)).rows()
            rerun_dir = Path(result.run_dir)
            verdict = weights if isinstance(weights, str) else _compare(weights, stored, rerun_dir, home)
        finally:
            if keep is None:
                shutil.rmtree(scratch, ignore_errors=True)
    before = stored["metrics"]
    after = rerun["metrics"]  # as stored: undefined scores are left out on both sides
    checks = [MetricCheck(n, before.get(n), after.get(n)) for n in sorted(set(before) | set(after))]
    changes = {k: (stored[k], rerun[k]) for k in VERSIONS if stored[k] and stored[k] != rerun[k]}
    fingerprint = stored["dataset_fingerprint"]
    same_data = fingerprint == rerun["dataset_fingerprint"] if fingerprint else None
    return Reproduction(stored, rerun, checks, same_data, verdict, changes)


def check_keep(keep: Path, home: Path) -> None:
    """Refuse a ``--keep`` folder that would put a second row of the run where it counts.

    Inside the zoo home, the kept re-run would join the leaderboard; in a folder that already
    holds a kept re-run, it would be a second row there and no longer the one to compare.
    """
    layout.checked_home(keep)
    try:
        target, root = keep.resolve(), home.resolve()
        inside = target == root or root in target.parents
        holds = target.is_dir() and any(target.iterdir())
        other = not target.is_dir() and target.exists()
    except (OSError, RuntimeError) as exc:  # a link loop, a folder this user may not list
        raise ZooError(f"--keep {keep} cannot be used: {exc}") from None
    if inside:
        raise ZooError(
            f"--keep {keep} is inside the zoo home {home}: the kept re-run would count on its "
            "leaderboard as a second run; give a folder outside it"
        )
    if holds:
        raise ZooError(
            f"--keep {keep} already holds files (an earlier kept re-run?); give a new or empty "
            "folder, so the re-run is the only run in it"
        )
    if other:
        raise ZooError(f"--keep {keep} is a file; give a new or empty folder")


def stored_weights(stored: dict[str, Any]) -> dict[str, Any] | str:
    """The stored run's weights, or why there are none: "missing" or "not recorded"."""
    from .checkpoints import load_weights

    if not stored["run_dir"]:
        return "not recorded"  # rows from before run folders existed
    path = Path(stored["run_dir"]) / layout.WEIGHTS
    if not os.path.lexists(path):
        return "missing"
    return load_weights(path)


@contextmanager
def terminated_as_interrupted() -> Iterator[None]:
    """Inside the block, SIGTERM and SIGHUP raise :class:`Terminated`, so clean-up code runs as
    for Ctrl-C."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers; its caller owns the signals
        return

    def terminate(signum: int, frame: Any) -> None:
        raise Terminated(signum)

    stops = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    previous = {stop: signal.signal(stop, terminate) for stop in stops}
    try:
        yield
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)


def _check_referenced_data(stored: dict[str, Any], home: Path) -> None:
    """Refuse, in one line, a run whose state refers to training data that has changed since."""
    from .checkpoints import DataSource, read_data_reference
    from .records import reloaded_data

    reference = read_data_reference(Path(stored["run_dir"])) if stored["run_dir"] else None
    if reference is not None:
        reloaded_data(stored["run_id"], DataSource(reference["dataset"], reference["fingerprint"]), home)


def _compare(before: dict[str, Any], stored: dict[str, Any], rerun_dir: Path, home: Path) -> str:
    """Whether the re-run's weights are the stored ones, "identical" or "different"."""
    import torch

    from .checkpoints import load_weights, read_data_reference
    from .records import load_run_state

    after = load_weights(rerun_dir / layout.WEIGHTS)
    if read_data_reference(Path(stored["run_dir"])) != read_data_reference(rerun_dir):
        # One keeps a copy of its training data, the other a reference to it: compare whole states.
        before = load_run_state(stored, home)
        after = load_run_state({"run_id": stored["run_id"], "run_dir": str(rerun_dir)}, home)
    same = before.keys() == after.keys() and all(
        before[k].shape == after[k].shape
        and before[k].dtype == after[k].dtype
        and torch.equal(before[k], after[k])
        for k in before
    )
    return "identical" if same else "different"
