"""The hooks of the ``zoo`` project, in lifecycle order.

Every hook follows one docstring template: a summary line, ``:param:`` for each
argument, ``:return:`` saying what the result means, and a "Use in plugins" paragraph
saying when the hook fires and what not to do inside it. ``tests/test_hookspecs.py``
fails when a hook breaks the template or has no test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable

import pluggy

if TYPE_CHECKING:
    from .runs import RunConfig, RunResult
    from .specs import DatasetSpec, MetricSpec, ModelSpec

PROJECT = "zoo"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def zoo_models() -> Iterable[ModelSpec]:
    """Contribute models to the zoo.

    :return: The :class:`zoo_core.ModelSpec` records this plugin offers; names must be
        unique across all plugins.

    Use in plugins:
        Called once per process, the first time any command needs the registry. Return
        specs only: do not import torch or build models here, so ``zoo list`` stays fast;
        point ``factory`` at a ``"module:function"`` string instead.
    """


@hookspec
def zoo_datasets() -> Iterable[DatasetSpec]:
    """Contribute datasets to the zoo.

    :return: The :class:`zoo_core.DatasetSpec` records this plugin offers; names must be
        unique across all plugins. Any model of the same task may run on them.

    Use in plugins:
        Called once per process, like :func:`zoo_models`. Do not read or download data
        here; the ``loader`` runs only when a run needs the data.
    """


@hookspec
def zoo_metrics() -> Iterable[MetricSpec]:
    """Contribute metrics (evaluators) to the zoo.

    :return: The :class:`zoo_core.MetricSpec` records this plugin offers; every run is
        scored with every metric of its task.

    Use in plugins:
        Called once per process, like :func:`zoo_models`. Register only metrics that are
        not already generic: the core provides accuracy, F1, MSE, RMSE and MAE.
    """


@hookspec
def zoo_run_started(config: RunConfig) -> None:
    """Observe a run that is about to train.

    :param config: The resolved run: model, dataset (after any fallback), seed, device,
        hyperparameters and the run folder that will hold its files.
    :return: Nothing; return values are ignored.

    Use in plugins:
        Fires once per run, after all input has been validated and the data loaded,
        just before the model is built. Use it to open a log or an experiment tracker.
        Do not change the config (it is frozen) and do not raise: an exception here
        fails the run.
    """


@hookspec
def zoo_epoch_finished(config: RunConfig, epoch: int, loss: float) -> None:
    """Observe the end of one training epoch of a gradient-trained model.

    :param config: The run being trained.
    :param epoch: The epoch that just finished, counting from 1.
    :param loss: The mean training loss over that epoch.
    :return: Nothing; return values are ignored.

    Use in plugins:
        Fires inside the training loop, so keep it cheap: append to a file or a list,
        do not evaluate the model here. Estimators (KNN, K-Means) have no epochs and
        never fire it.
    """


@hookspec
def zoo_run_finished(config: RunConfig, result: RunResult) -> None:
    """Observe a run that has ended, successfully or not.

    :param config: The run that ended.
    :param result: Its outcome: ``status`` is ``"ok"`` or ``"failed"``; ``metrics``,
        ``duration_s`` and ``error`` say the rest. The row is already in the store.
    :return: Nothing; return values are ignored.

    Use in plugins:
        Fires once per run, after the run folder and the results row are written. This
        is the place for loggers and notifications. An exception here is reported but
        does not undo the recorded run.
    """
