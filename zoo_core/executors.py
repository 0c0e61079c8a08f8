"""Where a sweep's runs train: in this process, one after another, or on Dask workers.

Every executor runs one task function, :func:`train_task`: it trains a run into a scratch
folder and returns its :class:`~zoo_core.runner.Trained` record with the folder's files, for
the client to record. Workers never open the results database, so the zoo home needs no shared
filesystem. A worker process keeps torch and the plugins imported between runs (they stay in
its modules), trains one run at a time, and gives it its share of the machine's cores:

- ``--workers N`` starts a ``distributed.LocalCluster`` of N single-task worker processes, and
  each run gets ``cores // N`` torch and BLAS threads;
- ``--scheduler ADDRESS`` uses a running cluster's workers, and each run gets its worker's Dask
  thread count (``dask worker`` gives each of its processes ``cores // nworkers``);

never more than the cores the worker has.

A worker that dies mid-run has its run retried on another worker once (the scheduler's
``allowed-failures``); the client then gets an exception for it instead of a record.
"""

from __future__ import annotations

import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .errors import ZooError
from .runner import Trained

# How many times a LocalCluster retries a run whose worker died, before giving up on it.
RETRIES_AFTER_A_DEATH = 1
# Dask settings while a LocalCluster runs. One task per worker at a time, the rest queued at the
# scheduler: Dask counts a worker's death against every task the worker holds, so a run queued
# behind one that kills its worker would be given up too. And a worker being restarted after a
# death (it imports torch again: half a minute on a busy machine) is waited for, not given up.
LOCAL_CLUSTER_SETTINGS = {
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.deploy.lost-worker-timeout": "10 minutes",
}
# A LocalCluster's workers start with these at their budget, so a library loaded late (a plugin's
# scikit-learn) does not start one thread per core of the machine.
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")
# One run at a time per process: torch's thread count belongs to the whole process.
_ONE_RUN = threading.Lock()


@dataclass(frozen=True)
class Task:
    """One run as the client sends it: names and values only, planned again where it trains.

    ``threads`` is the run's thread count when the client chose it (in this process, on a
    LocalCluster, or ``--threads``); None gives it the worker's Dask thread count.
    ``results`` is the client's results folder, which names the run folder; ``home`` is the
    client's zoo home, whose data the run reads, or None for the worker's own (other machines).
    ``keys`` are the identities the client planned: a worker whose plugins resolve the run to
    another identity refuses it rather than record something the client did not ask for.
    """

    run_id: str
    model: str
    dataset: str | None
    overrides: Mapping[str, Any]
    seed: int
    keys: tuple[str, ...]
    device: str
    threads: int | None
    results: str
    home: str | None


@dataclass(frozen=True)
class Refused:
    """A run refused before it started (its data is missing, its worker plans it otherwise)."""

    run_id: str
    reason: str


Outcome = Trained | Refused


def train_task(task: Task) -> Outcome:
    """Train ``task``'s run here, into a scratch folder; return its record with the folder's files."""
    from .planning import plan_run
    from .runner import Context, Run
    from .threads import using_threads

    with _ONE_RUN:
        threads = run_threads(task.threads)
        try:
            context = Context.create(
                home=Path(task.home) if task.home else None,
                results=Path(task.results),
                device=task.device,
                threads=threads,
            )
            assert context.registry is not None
            plan = plan_run(context.registry, task.model, task.dataset, task.overrides)
            run = Run(plan, task.seed, context, run_id=task.run_id)
            config, splits, provenance = run.prepare()
        except ZooError as exc:
            return Refused(task.run_id, str(exc))
        if config.key not in task.keys:
            return Refused(
                task.run_id,
                f"this worker resolves {config.model} on {config.dataset} to other settings than the "
                "client planned; install the same plugin versions on the client and every worker",
            )
        scratch = tempfile.TemporaryDirectory(prefix="zoo-run-")
        with scratch, using_threads(threads), blas_threads(threads):
            folder = Path(scratch.name) / config.run_id
            return run.train(config, splits, provenance, folder).shipped(folder)


def run_threads(threads: int | None) -> int:
    """The threads a run gets here: ``threads`` when the client chose them, else this worker's
    Dask thread count (every core outside Dask); never more than this process's cores."""
    from .threads import available_cores

    cores = available_cores()
    return max(1, min(cores, threads or dask_threads() or cores))


def dask_threads() -> int | None:
    """The thread count of the Dask worker running this task; None outside a worker."""
    if "distributed" not in sys.modules:
        return None
    from distributed import get_worker

    try:
        return int(get_worker().state.nthreads)
    except ValueError:  # not inside a worker's task
        return None


def blas_threads(count: int) -> Any:
    """Limit the BLAS and OpenMP pools loaded in this process to ``count`` threads inside the block."""
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=count)


class InProcess:
    """Runs the tasks here, one after another: ``--workers 1``, the default."""

    threads = None  # every core of this process

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        pass

    @property
    def label(self) -> str:
        return "this process"

    def run(self, tasks: list[Task]) -> Iterator[tuple[Task, Outcome | BaseException]]:
        for task in tasks:
            try:
                yield task, train_task(task)
            except KeyboardInterrupt:
                raise
            except Exception as exc:  # a crash outside the run's training (its data loader)
                yield task, exc


@dataclass
class Dask:
    """Runs the tasks on Dask workers: a LocalCluster of ``workers`` processes, or ``scheduler``'s.

    Connecting or starting happens on entering; leaving cancels what has not run and, for a
    LocalCluster, stops its processes.
    """

    workers: int = 2
    scheduler: str | None = None
    _client: Any = field(default=None, repr=False)
    _cluster: Any = field(default=None, repr=False)
    _settings: Any = field(default=None, repr=False)

    @property
    def threads(self) -> int | None:
        """Each run's threads: a LocalCluster's share of this machine; a cluster's workers choose."""
        from .threads import available_cores

        return None if self.scheduler else max(1, available_cores() // self.workers)

    @property
    def label(self) -> str:
        if self.scheduler:
            count = len(self._client.scheduler_info()["workers"]) if self._client else "?"
            return f"the Dask cluster at {self.scheduler} ({count} workers)"
        return f"{self.workers} local Dask worker processes"

    def __enter__(self) -> Dask:
        import logging

        import dask
        from distributed import Client, LocalCluster

        try:
            if self.scheduler:
                self._client = Client(self.scheduler, timeout="20s")
                self._client.wait_for_workers(1, timeout=120)
            else:
                threads = self.threads
                self._settings = dask.config.set(LOCAL_CLUSTER_SETTINGS)  # until the cluster stops
                self._cluster = LocalCluster(
                    n_workers=self.workers,
                    threads_per_worker=1,
                    processes=True,
                    host="127.0.0.1",
                    dashboard_address=None,
                    silence_logs=logging.ERROR,
                    scheduler_kwargs={"allowed_failures": RETRIES_AFTER_A_DEATH},
                    # Libraries a run loads late (scikit-learn's BLAS) start within the budget too.
                    env={name: str(threads) for name in THREAD_VARIABLES},
                )
                self._client = Client(self._cluster)
        except (OSError, TimeoutError) as exc:
            self.__exit__()
            where = f"the Dask scheduler at {self.scheduler}" if self.scheduler else "a local Dask cluster"
            raise ZooError(f"cannot use {where}: {exc}") from None
        return self

    def __exit__(self, *exc: object) -> None:
        if self._client is not None:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        if self._settings is not None:
            self._settings.__exit__(None, None, None)
        self._client = self._cluster = self._settings = None

    def run(self, tasks: list[Task]) -> Iterator[tuple[Task, Outcome | BaseException]]:
        from distributed import as_completed

        futures = {
            self._client.submit(train_task, task, key=f"zoo-run-{task.run_id}", pure=False): task
            for task in tasks
        }
        # Each result is fetched as soon as its run ends, and the future released: a result left on
        # its worker would be lost with it (and run again) if the worker's next run killed it.
        ended = as_completed(futures, with_results=True, raise_errors=False)
        try:
            for future, value in ended:
                task = futures.pop(future)
                if future.status != "finished":  # KilledWorker, or a crash outside the run's training
                    try:
                        value = future.exception()
                    except Exception as exc:  # cancelled
                        value = exc
                future.release()
                yield task, value
        finally:
            if futures:  # interrupted: what has not finished is not wanted any more
                self._client.cancel(list(futures), force=True)
