"""A sweep from its plan to the store: what is left to run, where it runs, and each run's record.

The client is the only process that writes the store. It keeps the sweep's plan, leaves out
the runs whose identity already has an ``ok`` row (unless told to run them again), hands the
rest to an executor, and records each run as it comes back: folder first, under its INCOMPLETE
marker, then the row, then the marker goes. An interrupt waits for the run being recorded, so a
sweep stopped at any point leaves whole rows only, and the same command finishes the rest.
"""

from __future__ import annotations

import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from .errors import ZooError
from .executors import Dask, InProcess, Outcome, Refused, Task
from .grid import PlannedRun, SweepPlan
from .observers import Observers
from .plugins import describe
from .runner import Context, Run, new_run_id, record
from .runs import RunResult

Say = Callable[[str], None]
# Told each run that ended: its result (ok, failed, or refused: not recorded) and its plan.
Report = Callable[[RunResult, PlannedRun], None]

# More local workers than this is a typo, not a machine.
MAX_WORKERS = 1024


@dataclass
class Tally:
    """What a sweep did: its runs by how they ended, and whether it was interrupted."""

    sweep_id: str
    planned: int
    recorded_before: int = 0
    ok: int = 0
    failed: int = 0
    refused: int = 0
    interrupted: bool = False
    refusals: dict[str, str] = field(default_factory=dict)  # "model on dataset" -> why, said once

    @property
    def exit_code(self) -> int:
        return 130 if self.interrupted else 1 if self.failed else 0

    @property
    def remaining(self) -> int:
        return self.planned - self.recorded_before - self.ok - self.failed


def pending(plan: SweepPlan, done: set[str], rerun: bool = False) -> list[PlannedRun]:
    """The runs of ``plan`` with no ``ok`` row for their identity in ``done`` (every run with ``rerun``)."""
    return list(plan.runs) if rerun else [run for run in plan.runs if not done & set(run.keys)]


def check_workers(workers: int, scheduler: str | None) -> None:
    """Refuse a worker count out of range, or a count given with a cluster (whose workers are its own)."""
    if not 1 <= workers <= MAX_WORKERS:
        raise ZooError(f"--workers must be between 1 and {MAX_WORKERS}, got {workers}")
    if scheduler and workers != 1:
        raise ZooError("give --workers or --scheduler, not both: a cluster's workers are its own")


def execute(
    plan: SweepPlan,
    home: Path,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    device: str = "auto",
    rerun: bool = False,
    threads: int | None = None,
    progress: bool = True,
    report: Report,
    say: Say,
    warn: Say | None = None,
) -> Tally:
    """Run ``plan`` from the zoo home ``home``: here (one worker), on a LocalCluster, or on a cluster.

    What `zoo sweep` and ``zoo_core.sweep()`` both do once the plan is checked; see :func:`run_sweep`.
    """
    check_workers(workers, scheduler)
    # The client resolves the device only for runs on this machine; a cluster's workers do their own.
    context = Context.create(home=home, device="auto" if scheduler else device, notify=warn or say)
    executor = InProcess() if workers == 1 and not scheduler else Dask(workers, scheduler)
    if not scheduler and workers > 1:
        say(f"starting {workers} local Dask workers")
    return run_sweep(
        plan,
        context,
        executor,
        device=device if scheduler else context.device,
        rerun=rerun,
        threads=threads,
        local_data=not scheduler,
        progress=progress,
        report=report,
        say=say,
        warn=warn,
    )


def run_sweep(
    plan: SweepPlan,
    context: Context,
    executor: Any,
    *,
    device: str = "auto",
    rerun: bool = False,
    threads: int | None = None,
    local_data: bool = True,
    progress: bool = True,
    report: Report,
    say: Say,
    warn: Say | None = None,
) -> Tally:
    """Run what ``plan`` still needs on ``executor`` (see executors.py), recording each run here.

    ``threads`` caps each run's threads below its worker's share. With ``local_data`` the
    workers read data from the client's zoo home (they share its machine); without it, each
    reads its own. A failed run is recorded and counted; a refused one (its data missing) is
    said once per model and dataset and left unrecorded, so the next sweep tries it again.
    ``say`` is told how the sweep goes; ``warn`` (default: ``say``) what it left out and each
    run's warnings.
    """
    warn = warn or say
    store = context.store
    store.check()  # a database that cannot take the rows fails the sweep before anything runs
    todo = pending(plan, store.done_keys(key for run in plan.runs for key in run.keys), rerun)
    tally = Tally(plan.sweep_id, len(plan.runs), recorded_before=len(plan.runs) - len(todo))
    for what, why in plan.skipped:
        warn(f"skipped {what}: {why}")
    store.add_sweep(plan.sweep_id, plan.to_json())
    if not todo:
        say(f"{plan.sweep_id}: all {len(plan.runs)} runs are recorded already (--rerun runs them again)")
        return tally
    try:
        with executor:
            already = f", {tally.recorded_before} recorded already" if tally.recorded_before else ""
            say(f"{plan.sweep_id}: {len(todo)} of {len(plan.runs)} runs to go{already}, on {executor.label}")
            cap = threads if executor.threads is None else min(threads or executor.threads, executor.threads)
            tasks = {}
            for run in todo:
                task = _task(run, context, device, cap, local_data)
                tasks[task.run_id] = (task, run)
            with _progress_bar(len(todo), progress) as bar:
                for task, outcome in executor.run([task for task, _ in tasks.values()]):
                    run = tasks[task.run_id][1]
                    result = _record(run, task, outcome, context, plan.sweep_id, warn)
                    _count(tally, run, result, warn)
                    bar.set_postfix_str(f"ok {tally.ok}, failed {tally.failed}", refresh=False)
                    bar.update()
                    report(result, run)
    except KeyboardInterrupt:
        tally.interrupted = True
    return tally


def _task(run: PlannedRun, context: Context, device: str, threads: int | None, local_data: bool) -> Task:
    return Task(
        run_id=new_run_id(run.model, run.plan.dataset.spec.name, run.seed),
        model=run.model,
        dataset=run.dataset,
        overrides=dict(run.overrides),
        seed=run.seed,
        keys=run.keys,
        device=device,
        threads=threads,
        results=str(context.results),
        home=str(context.home) if local_data else None,
    )


def _record(
    run: PlannedRun, task: Task, outcome: Outcome | BaseException, context: Context, sweep_id: str, say: Say
) -> RunResult:
    """Record one run that came back; a run whose worker died (or crashed outside training) as failed."""
    if isinstance(outcome, Refused):
        dataset = run.plan.dataset.spec.name
        return RunResult(
            run_id=task.run_id, model=run.model, dataset=dataset, status="refused", error=outcome.reason
        )
    if isinstance(outcome, BaseException):
        outcome = Run(run.plan, run.seed, context, run_id=task.run_id).failed(_lost(outcome))
    if outcome.row is not None:
        outcome = replace(outcome, row=replace(outcome.row, sweep_id=sweep_id))
    with _holding_interrupts():
        return record(outcome, context.store, Observers(context.plugins, say))


def _lost(exc: BaseException) -> str:
    """Why a run came back as an exception instead of a record."""
    if type(exc).__name__ == "KilledWorker":  # Dask's: the run's worker died, and so did its retries
        tries = getattr(exc, "allowed_failures", 0) + 1
        return f"its worker died while running it, {tries} times on different workers (KilledWorker)"
    return describe(exc)


def _count(tally: Tally, run: PlannedRun, result: RunResult, say: Say) -> None:
    if result.status == "ok":
        tally.ok += 1
    elif result.status == "failed":
        tally.failed += 1
    else:
        tally.refused += 1
        if run.plan.name not in tally.refusals:  # its other settings and seeds are refused alike
            tally.refusals[run.plan.name] = result.error
            say(f"skipped {run.plan.name}: {result.error}")
    for line in result.warnings:
        say(f"warning: {run.label}: {line}")


@contextmanager
def _progress_bar(total: int, enabled: bool) -> Iterator[Any]:
    """One bar for the whole sweep on stderr: runs done, ok and failed, and the time left."""
    from tqdm import tqdm

    with tqdm(
        total=total, unit="run", desc="sweep", disable=None if enabled else True, file=sys.stderr
    ) as bar:
        yield bar


def echo(line: str) -> None:
    """Print a line to stdout without breaking the progress bar."""
    from tqdm import tqdm

    tqdm.write(line, file=sys.stdout)
    sys.stdout.flush()


@contextmanager
def _holding_interrupts() -> Iterator[None]:
    """Delay Ctrl-C until the block is done, so a run is recorded whole or not at all."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: caught.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    if caught:
        raise KeyboardInterrupt
