"""One MLflow run per zoo run, logged through ``MlflowClient``.

Every call to MLflow happens inside :func:`bounded`, which caps how long MLflow waits for a
server and how often it retries. The first call that fails for a run raises
:class:`TrackingFailed`: the core reports it once, naming this plugin and the hook, and records
it with the run as a warning. The run's later calls are skipped, so an outage costs one warning
line per run and never the run itself.

A sweep may train a run in one process (``zoo_run_started``, ``zoo_epoch_finished``) and record
it in another (``zoo_run_finished``); the recording side finds the MLflow run by its
``zoo.run_id`` tag, or opens one when the training side could not.
"""

from __future__ import annotations

import logging
import os
import re
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, TypeVar

from zoo_core import ZooError, find_run

from .settings import Settings, read

if TYPE_CHECKING:
    from zoo_core import RunConfig, RunResult

T = TypeVar("T")

# Ids that are safe to quote inside an MLflow search filter; zoo run ids and sweep ids are.
SAFE_ID = re.compile(r"^[A-Za-z0-9._-]+$")
MLFLOW_STATUS = {"ok": "FINISHED", "failed": "FAILED", "refused": "KILLED", "interrupted": "KILLED"}
# The row's columns that say where a run came from, logged as zoo.<column> tags.
PROVENANCE = (
    "zoo_version",
    "torch_version",
    "numpy_version",
    "python_version",
    "threads",
    "dataset_fingerprint",
    "git_commit",
    "core_git_commit",
)
# Per log_batch request MLflow takes at most 100 params and 1000 metrics; tag values up to 8000
# characters, so long errors are cut well before that.
MAX_PARAMS = 100
MAX_METRICS = 1000
MAX_TAG = 5000


class TrackingFailed(Exception):
    """MLflow did not take a run's data; the zoo run goes on, untracked from then on."""


@dataclass(frozen=True)
class Tracked:
    """A zoo run's MLflow run, and where it lives."""

    settings: Settings
    client: Any
    experiment_id: str
    mlflow_run_id: str


class Tracker:
    """The MLflow runs of the zoo runs this process is training or recording."""

    def __init__(self) -> None:
        # zoo run id -> its MLflow run, or None once a call for it failed (reported already).
        self._runs: dict[str, Tracked | None] = {}
        self._clients: dict[str, Any] = {}

    def started(self, config: RunConfig) -> None:
        self._runs[config.run_id] = None  # until the MLflow run exists, the run's other hooks skip it
        settings = read(config.home)
        self._runs[config.run_id] = self._attempt(config, settings, lambda: self._open(config, settings))

    def epoch(self, config: RunConfig, epoch: int, loss: float, validation: Mapping[str, float]) -> None:
        tracked = self._runs.get(config.run_id)
        if tracked is None:
            return
        stamp = _now()
        metrics = [_metric("loss", loss, stamp, epoch)]
        metrics += [_metric(f"val_{name}", value, stamp, epoch) for name, value in sorted(validation.items())]
        self._attempt(
            config, tracked.settings, lambda: tracked.client.log_batch(tracked.mlflow_run_id, metrics=metrics)
        )

    def finished(self, config: RunConfig, result: RunResult) -> None:
        try:
            if config.run_id in self._runs:
                tracked = self._runs[config.run_id]
                if tracked is not None:  # else its failure was reported when it happened
                    self._attempt(config, tracked.settings, lambda: self._close(tracked, config, result))
                return
            # Started in another process (a sweep's worker): find its MLflow run, or open one here.
            settings = read(config.home)

            def find_and_close() -> None:
                found = self._started_elsewhere(config, settings) or self._open(config, settings)
                self._close(found, config, result)

            self._attempt(config, settings, find_and_close)
        finally:
            self._runs.pop(config.run_id, None)  # a long sweep must not keep every run it saw

    def _attempt(self, config: RunConfig, settings: Settings, call: Callable[[], T]) -> T:
        """``call()`` with MLflow's waits bounded; a failure marks the run untracked and is raised once."""
        try:
            with bounded(settings):
                return call()
        except Exception as exc:
            self._runs[config.run_id] = None
            raise TrackingFailed(
                f"MLflow at {settings.shown_uri} did not take run {config.run_id} "
                f"({reason(exc, settings.timeout)}); the run is recorded, untracked in MLflow"
            ) from exc

    def _client(self, settings: Settings) -> Any:
        if settings.tracking_uri not in self._clients:
            from mlflow import MlflowClient

            if settings.artifact_root is not None:  # the local default store, in the zoo home
                settings.artifact_root.parent.mkdir(parents=True, exist_ok=True)
            with _quiet("mlflow.store.db.utils"), _creating(settings.tracking_uri):
                client = MlflowClient(tracking_uri=settings.tracking_uri)
                client.search_experiments(max_results=1)  # a new SQLite store makes its tables here
            self._clients[settings.tracking_uri] = client
        return self._clients[settings.tracking_uri]

    def _experiment(self, client: Any, settings: Settings) -> str:
        from mlflow.exceptions import MlflowException

        found = client.get_experiment_by_name(settings.experiment)
        if found is None:
            location = settings.artifact_root.as_uri() if settings.artifact_root else None
            try:
                return str(client.create_experiment(settings.experiment, artifact_location=location))
            except MlflowException:
                found = client.get_experiment_by_name(settings.experiment)  # another zoo made it first
                if found is None:
                    raise
        if found.lifecycle_stage != "active":
            raise ZooError(
                f"experiment {settings.experiment!r} is deleted in MLflow; restore it, or set "
                "ZOO_MLFLOW_EXPERIMENT to another name"
            )
        return str(found.experiment_id)

    def _open(self, config: RunConfig, settings: Settings) -> Tracked:
        client = self._client(settings)
        experiment_id = self._experiment(client, settings)
        tags = {
            "zoo.run_id": config.run_id,
            "zoo.model": config.model,
            "zoo.dataset": config.dataset,
            "zoo.task": config.task,
            "zoo.plugin": config.plugin,
            "zoo.plugin_version": config.plugin_version,
            "zoo.device": config.device,
        }
        run = client.create_run(experiment_id, run_name=config.run_id, tags=tags)
        tracked = Tracked(settings, client, experiment_id, run.info.run_id)
        from mlflow.entities import Param

        params = [Param(key, str(value)) for key, value in sorted(params_of(config).items())]
        for start in range(0, len(params), MAX_PARAMS):
            client.log_batch(tracked.mlflow_run_id, params=params[start : start + MAX_PARAMS])
        return tracked

    def _started_elsewhere(self, config: RunConfig, settings: Settings) -> Tracked | None:
        if not SAFE_ID.match(config.run_id):
            return None
        client = self._client(settings)
        experiment_id = self._experiment(client, settings)
        found = client.search_runs(
            [experiment_id], filter_string=f"tags.`zoo.run_id` = '{config.run_id}'", max_results=1
        )
        return Tracked(settings, client, experiment_id, found[0].info.run_id) if found else None

    def _close(self, tracked: Tracked, config: RunConfig, result: RunResult) -> None:
        from mlflow.entities import RunTag

        client, run_id = tracked.client, tracked.mlflow_run_id
        row = recorded_row(config, result)
        tags = finish_tags(result, row)
        sweep = str(row.get("sweep_id") or getattr(config, "sweep_id", "") or "")
        if sweep and SAFE_ID.match(sweep):
            tags["zoo.sweep_id"] = sweep
            tags["mlflow.parentRunId"] = self._sweep_parent(tracked, sweep)
        stamp = _now()
        metrics = [_metric(name, value, stamp, 0) for name, value in sorted(result.metrics.items())]
        metrics += [_metric("duration_s", result.duration_s, stamp, 0)]
        if result.num_params:
            metrics += [_metric("num_params", result.num_params, stamp, 0)]
        client.log_batch(
            run_id,
            metrics=metrics[:MAX_METRICS],
            tags=[RunTag(key, value) for key, value in sorted(tags.items())],
        )
        folder = config.run_dir
        if tracked.settings.artifacts and folder.is_dir() and any(folder.iterdir()):
            client.log_artifacts(run_id, str(folder))
        client.set_terminated(run_id, MLFLOW_STATUS.get(result.status, "FAILED"))

    def _sweep_parent(self, tracked: Tracked, sweep: str) -> str:
        """The MLflow run that groups a sweep's runs, opened by the first of them to finish."""
        client = tracked.client
        found = client.search_runs(
            [tracked.experiment_id], filter_string=f"tags.`zoo.sweep_parent` = '{sweep}'", max_results=1
        )
        if found:
            parent = found[0].info.run_id
        else:
            tags = {"zoo.sweep_parent": sweep, "zoo.sweep_id": sweep}
            opened = client.create_run(tracked.experiment_id, run_name=f"sweep-{sweep}", tags=tags)
            parent = opened.info.run_id
        client.set_terminated(parent, "FINISHED")  # its end time: when its latest run finished
        return str(parent)


def params_of(config: RunConfig) -> dict[str, Any]:
    """Model, dataset, seed and every resolved setting; a setting named like one of the first three
    is kept under ``hparams.<name>`` or ``trainer.<name>`` instead of replacing it."""
    params: dict[str, Any] = {"model": config.model, "dataset": config.dataset, "seed": config.seed}
    for space, values in (("hparams", config.hparams), ("trainer", config.trainer)):
        for key, value in values.items():
            params[f"{space}.{key}" if key in params else key] = value
    return params


def recorded_row(config: RunConfig, result: RunResult) -> dict[str, Any]:
    """The run's row in the results store ({} when it has none: a refused or interrupted run)."""
    if result.status not in ("ok", "failed"):
        return {}
    try:
        return find_run(config.home, config.run_id)
    except ZooError:
        return {}


def finish_tags(result: RunResult, row: Mapping[str, Any]) -> dict[str, str]:
    """The outcome and provenance of a run, as MLflow tags."""
    tags = {"zoo.status": result.status}
    for column in PROVENANCE:
        if row.get(column) not in (None, "", 0):
            tags[f"zoo.{column}"] = str(row[column])
    if row.get("git_commit"):
        tags["mlflow.source.git.commit"] = str(row["git_commit"])
    if result.error:
        tags["zoo.error"] = result.error[:MAX_TAG]
    if result.warnings:
        tags["zoo.warnings"] = "\n".join(result.warnings)[:MAX_TAG]
    return tags


@contextmanager
def bounded(settings: Settings) -> Iterator[None]:
    """MLflow's HTTP waits capped by the plugin's settings, unless the user set MLflow's own.

    The variables are set only for the duration of the block, so MLflow used elsewhere in the same
    process (a notebook) keeps its defaults.
    """
    wanted = {
        "MLFLOW_HTTP_REQUEST_TIMEOUT": str(settings.timeout),
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": str(settings.retries),
        # A 429 or 503 answer with "Retry-After: 3600" would otherwise hold the run for an hour.
        "MLFLOW_HTTP_RESPECT_RETRY_AFTER_HEADER": "false",
        # MLflow prints "View run ... at" on stdout when a run ends; stdout is `zoo run --json`'s.
        "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT": "true",
    }
    added = {name: value for name, value in wanted.items() if name not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for name in added:
            os.environ.pop(name, None)


def reason(exc: BaseException, timeout: int) -> str:
    """Why a call to MLflow failed, in a few words rather than MLflow's paragraph."""
    import requests

    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, requests.exceptions.Timeout) or (
            isinstance(seen, requests.exceptions.ConnectionError) and "timed out" in str(seen)
        ):
            return f"no answer within {timeout} s"
        if isinstance(seen, requests.exceptions.ConnectionError):
            return "cannot connect"
        seen = seen.__cause__ or seen.__context__
    lines = str(exc).strip().splitlines()
    text = f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__
    return text if len(text) <= 200 else text[:199] + "…"


@contextmanager
def _creating(tracking_uri: str) -> Iterator[None]:
    """One process at a time sets up a SQLite store: a sweep's workers and its client start
    together, and MLflow's migrations of a new file collide ("table ... already exists")."""
    if not tracking_uri.startswith("sqlite:///"):
        yield
        return
    from filelock import FileLock

    with FileLock(tracking_uri.removeprefix("sqlite:///") + ".lock", timeout=300):
        yield


@contextmanager
def _quiet(logger: str) -> Iterator[None]:
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)


def _metric(key: str, value: float, stamp: int, step: int) -> Any:
    from mlflow.entities import Metric

    return Metric(key, float(value), stamp, step)


def _now() -> int:
    return int(time.time() * 1000)
