"""The core's own contributions, registered through the same hooks plugins use."""

from __future__ import annotations

from .hookspecs import hookimpl
from .specs import MetricSpec, ModelSpec


def _metric(name: str, task: str, higher_is_better: bool, summary: str) -> MetricSpec:
    fn = f"zoo_core.metrics:{name}"
    return MetricSpec(name=name, task=task, fn=fn, higher_is_better=higher_is_better, summary=summary)


@hookimpl
def zoo_metrics() -> list[MetricSpec]:
    return [
        _metric("accuracy", "classification", True, "fraction of test samples classified correctly"),
        _metric("f1", "classification", True, "macro-averaged F1 score"),
        _metric("mse", "forecasting", False, "mean squared error"),
        _metric("rmse", "forecasting", False, "root mean squared error"),
        _metric("mae", "forecasting", False, "mean absolute error"),
    ]


@hookimpl
def zoo_models() -> list[ModelSpec]:
    return [
        ModelSpec(
            name="majority-class",
            task="classification",
            factory="zoo_core.baselines:MajorityClass",
            summary="predicts the most frequent training label",
            reference="naive baseline",
            gradient=False,
            baseline=True,
        ),
        ModelSpec(
            name="last-value",
            task="forecasting",
            factory="zoo_core.baselines:LastValue",
            summary="forecasts that the next value equals the last one in the window",
            reference="naive (persistence) baseline",
            input_shape=(None, None),
            gradient=False,
            baseline=True,
        ),
    ]
