"""The core's own contributions, registered through the same hooks plugins use."""

from __future__ import annotations

from .hookspecs import hookimpl
from .specs import MetricSpec, ModelSpec


@hookimpl
def zoo_metrics() -> list[MetricSpec]:
    return [
        MetricSpec(
            "accuracy",
            "classification",
            "zoo_core.metrics:accuracy",
            True,
            "fraction of test samples classified correctly",
        ),
        MetricSpec("f1", "classification", "zoo_core.metrics:f1", True, "macro-averaged F1 score"),
        MetricSpec("mse", "forecasting", "zoo_core.metrics:mse", False, "mean squared error"),
        MetricSpec("rmse", "forecasting", "zoo_core.metrics:rmse", False, "root mean squared error"),
        MetricSpec("mae", "forecasting", "zoo_core.metrics:mae", False, "mean absolute error"),
    ]


@hookimpl
def zoo_models() -> list[ModelSpec]:
    return [
        ModelSpec(
            "majority-class",
            "classification",
            "zoo_core.baselines:MajorityClass",
            "predicts the most frequent training label",
            "naive baseline",
            gradient=False,
            baseline=True,
        ),
        ModelSpec(
            "last-value",
            "forecasting",
            "zoo_core.baselines:LastValue",
            "forecasts that the next value equals the last one in the window",
            "naive (persistence) baseline",
            input_shape=(None, None),
            gradient=False,
            baseline=True,
        ),
    ]
