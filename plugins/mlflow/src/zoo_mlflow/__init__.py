"""Log every zoo run to MLflow: one MLflow run per zoo run, named after its run id.

Hook implementations only, on the zoo's public lifecycle hooks; MLflow is imported when the
first run starts, so `zoo list` does not pay for it. See README.md for what is logged, where,
and the settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from zoo_core import hookimpl

from .tracker import Tracker

if TYPE_CHECKING:
    from zoo_core import RunConfig, RunResult

# One per process: it remembers which MLflow run belongs to which zoo run between the hooks.
TRACKER = Tracker()


@hookimpl
def zoo_run_started(config: RunConfig) -> None:
    """Open the MLflow run: the run's identity as tags; model, dataset, seed and settings as params."""
    TRACKER.started(config)


@hookimpl
def zoo_epoch_finished(config: RunConfig, epoch: int, loss: float, validation: Mapping[str, float]) -> None:
    """Log the training loss as ``loss`` and each validation metric as ``val_<name>``, step ``epoch``."""
    TRACKER.epoch(config, epoch, loss, validation)


@hookimpl
def zoo_run_finished(config: RunConfig, result: RunResult) -> None:
    """Log the scores, outcome and provenance, upload the run folder, and end the MLflow run."""
    TRACKER.finished(config, result)
