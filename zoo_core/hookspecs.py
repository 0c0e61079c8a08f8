"""The hooks of the ``zoo`` project, in lifecycle order.

Every hook follows one docstring template: a summary line, ``:param:`` for each
argument, ``:return:`` saying what the result means, and a "Use in plugins" paragraph
saying when the hook fires and what not to do inside it. ``tests/test_hookspecs.py``
fails when a hook breaks the template or has no test.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping

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

    :return: The :class:`zoo_core.ModelSpec` records this plugin offers. Each is checked
        (:meth:`zoo_core.ModelSpec.problems`) and one with problems is refused with a
        warning while the others load. A name that two plugins register is withdrawn from
        both, with a warning naming both distributions (``ZOO_STRICT_PLUGINS=1``: an error).

    Use in plugins:
        Called once per process, the first time any command needs the registry. Return
        specs only: do not import torch or build models here, so ``zoo list`` stays fast;
        point ``factory`` at a ``"module:function"`` string instead.
    """


@hookspec
def zoo_datasets() -> Iterable[DatasetSpec]:
    """Contribute datasets to the zoo.

    :return: The :class:`zoo_core.DatasetSpec` records this plugin offers, checked and
        de-duplicated like :func:`zoo_models`. Any model of the same task may run on them.

    Use in plugins:
        Called once per process, like :func:`zoo_models`. Do not read or download data
        here; the ``loader`` runs only when a run needs the data.
    """


@hookspec
def zoo_metrics() -> Iterable[MetricSpec]:
    """Contribute metrics (evaluators) to the zoo.

    :return: The :class:`zoo_core.MetricSpec` records this plugin offers, checked and
        de-duplicated like :func:`zoo_models`; every run is scored with every metric of its
        task. A metric that raises on a run is recorded as failed for that run (a warning
        names it and its plugin) and the run keeps its other metrics and its weights.

    Use in plugins:
        Called once per process, like :func:`zoo_models`. Register only metrics that are
        not already generic: the core provides accuracy, F1, MSE, RMSE and MAE.
    """


@hookspec
def zoo_run_started(config: RunConfig) -> None:
    """Observe a run that is about to train.

    :param config: The resolved run: model, dataset (after any fallback), seed, device,
        threads, the model's hyperparameters and the trainer's settings, and the run folder
        that will hold its files. It is read-only.
    :return: Nothing; return values are ignored.

    Use in plugins:
        Fires once per run, after all input has been validated and the data loaded,
        just before the model is built, in the process that trains the run: `zoo run`
        itself, or the Dask worker of a `zoo sweep` (another process, perhaps another
        machine). Use it to open a log or an experiment tracker. :func:`zoo_run_finished`
        follows for the same run whatever happens in between (in a sweep, in its client),
        unless the sweep's client itself is interrupted. An exception here does not fail
        the run: it is reported once per run, naming your plugin and this hook, and
        recorded with the run as a warning.
    """


@hookspec
def zoo_epoch_finished(config: RunConfig, epoch: int, loss: float, validation: Mapping[str, float]) -> None:
    """Observe the end of one training epoch of a gradient-trained model.

    :param config: The run being trained.
    :param epoch: The epoch that just finished, counting from 1.
    :param loss: The mean training loss over that epoch.
    :param validation: The dataset's primary metric on the run's validation split (its
        ``val_fraction`` of the training set) after this epoch, e.g. ``{"accuracy": 0.87}``;
        empty when the run holds out no validation data (``val_fraction=0``).
    :return: Nothing; return values are ignored.

    Use in plugins:
        Fires inside the training loop, in the process that trains the run (a sweep's
        worker), so keep it cheap: append to a file or a list, do not evaluate the model
        here. Estimators (KNN, K-Means) have no epochs and never fire it. An exception
        here is reported once per run and the run goes on.
    """


@hookspec
def zoo_run_finished(config: RunConfig, result: RunResult) -> None:
    """Observe a run that has ended, successfully or not.

    :param config: The run that ended.
    :param result: Its outcome. ``status`` is ``"ok"`` or ``"failed"`` for a recorded run
        (its row is already in the store), ``"refused"`` for bad input found after the run
        started, or ``"interrupted"``; those two leave no row. ``metrics``, ``duration_s``,
        ``error`` and ``warnings`` say the rest. It is read-only.
    :return: Nothing; return values are ignored.

    Use in plugins:
        Fires once per run that fired :func:`zoo_run_started`, after the run folder and
        the results row are written, in the process that records the run: `zoo run`
        itself, or the client of a `zoo sweep`, never its workers, which do not write the
        store. A sweep's run whose worker died is recorded as failed by the client and
        fires it there too; runs still training when a sweep's client is interrupted are
        not recorded and do not fire it. This is the place for loggers and notifications;
        for a recorded run, ``zoo_core.find_run(config.home, config.run_id)`` reads its row
        back (provenance: versions, data fingerprint, git commits; its sweep). An exception
        here is reported once per run, naming your plugin and this hook; it never undoes or
        changes the recorded run.
    """
