"""A small, well-formed plugin for the conformance kit's tests; they break it one way at a time."""

from __future__ import annotations

from zoo_core import DatasetSpec, MetricSpec, ModelSpec, hookimpl


@hookimpl
def zoo_models():
    return [
        ModelSpec(
            name="sample-mlp",
            task="classification",
            factory="zoo_sample:build_mlp",
            summary="a two-layer perceptron",
            reference="kit tests",
            defaults={"hidden": 8, "activation": "relu"},
            choices={"activation": ("relu", "tanh")},
            default_dataset="sample-points",
            input_shape=(2,),
        ),
        ModelSpec(
            name="sample-centroid",
            task="classification",
            factory="zoo_sample:NearestCentroid",
            summary="the class whose training mean is nearest",
            reference="kit tests",
            default_dataset="sample-points",
            gradient=False,
        ),
    ]


@hookimpl
def zoo_datasets():
    return [
        DatasetSpec(
            name="sample-points",
            task="classification",
            loader="zoo_sample:load_points",
            description="two noisy clouds of 2-D points",
            source="generated",
            license="CC0",
            input_shape=(2,),
            train_size=96,
            test_size=32,
            classes=("left", "right"),
        )
    ]


@hookimpl
def zoo_metrics():
    return [
        MetricSpec(
            name="sample-error-rate",
            task="classification",
            fn="zoo_sample:error_rate",
            higher_is_better=False,
            summary="fraction of test samples classified wrongly",
        )
    ]


def build_mlp(dataset, hidden, activation):
    import torch

    act = torch.nn.ReLU() if activation == "relu" else torch.nn.Tanh()
    return torch.nn.Sequential(torch.nn.Linear(2, hidden), act, torch.nn.Linear(hidden, 2))


class NearestCentroid:
    def __init__(self, dataset):
        self.centroids = None

    def fit(self, x, y):
        import torch

        self.centroids = torch.stack([x[y == label].mean(dim=0) for label in range(2)])

    def predict(self, x):
        import torch

        return torch.cdist(x, self.centroids).argmin(dim=1)

    def state_dict(self):
        return {"centroids": self.centroids}

    def load_state_dict(self, state):
        self.centroids = state["centroids"]


def load_points(data_dir):
    import numpy as np

    from zoo_core.data import from_numpy

    rng = np.random.RandomState(0)
    y = np.arange(128) % 2
    x = rng.normal(size=(128, 2)) + np.where(y[:, None] == 1, 2.0, -2.0)
    return from_numpy(x[:96], y[:96], x[96:], y[96:], task="classification")


def error_rate(targets, predictions):
    return float((targets != predictions).mean())
