"""A tiny plugin the core tests install as a real distribution (see conftest.install_plugin).

It has everything a lesson plugin has, but trains in well under a second.
"""

from __future__ import annotations

from pathlib import Path

from zoo_core import DataCorrupt, DatasetSpec, DataUnavailable, ModelSpec, hookimpl


@hookimpl
def zoo_models():
    return [
        ModelSpec(
            name="toy-mlp",
            task="classification",
            factory="zoo_toy:build_mlp",
            summary="two-layer perceptron",
            reference="core tests",
            defaults={"hidden": 8, "activation": "relu"},
            trainer={"epochs": 3, "lr": 0.05},
            choices={"activation": ("relu", "tanh")},
            bounds={"hidden": (1, 1024)},
            default_dataset="toy-points",
            input_shape=(2,),
        ),
        ModelSpec(
            name="toy-net",
            task="forecasting",
            factory="zoo_toy:build_forecaster",
            summary="linear forecaster",
            reference="core tests",
            default_dataset="toy-wave",
            input_shape=(None, 1),
        ),
        ModelSpec(
            name="toy-fallback",
            task="classification",
            factory="zoo_toy:build_mlp",
            summary="falls back",
            reference="core tests",
            defaults={"hidden": 4},
            trainer={"epochs": 1},
            dataset_defaults={"toy-points": {"epochs": 2}},
            default_dataset="toy-file",
            fallback_dataset="toy-points",
            input_shape=(2,),
        ),
    ]


@hookimpl
def zoo_datasets():
    return [
        DatasetSpec(
            name="toy-points",
            task="classification",
            loader="zoo_toy:load_points",
            description="two separable clouds",
            source="generated",
            license="CC0",
            input_shape=(2,),
            train_size=160,
            test_size=40,
            classes=("left", "right"),
        ),
        DatasetSpec(
            name="toy-wave",
            task="forecasting",
            loader="zoo_toy:load_wave",
            description="a clean sine",
            source="generated",
            license="CC0",
            input_shape=(5, 1),
            train_size=65,
            test_size=25,
        ),
        DatasetSpec(
            name="toy-triples",
            task="classification",
            loader="zoo_toy:load_triples",
            description="points with three features",
            source="generated",
            license="CC0",
            input_shape=(3,),
            train_size=160,
            test_size=40,
            classes=("a", "b"),
        ),
        DatasetSpec(
            name="toy-file",
            task="classification",
            loader="zoo_toy:load_file",
            description="points read from toy.csv in the data folder",
            source="a file the user provides",
            license="CC0",
            input_shape=(2,),
            train_size=4,
            test_size=4,
            classes=("left", "right"),
            offline=False,
        ),
    ]


def build_mlp(dataset, hidden, activation="relu"):
    import torch

    act = torch.nn.ReLU() if activation == "relu" else torch.nn.Tanh()
    return torch.nn.Sequential(torch.nn.Linear(2, hidden), act, torch.nn.Linear(hidden, 2))


def build_forecaster(dataset):
    import torch

    return torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(dataset.input_shape[0], 1))


def load_points(data_dir: Path):
    import numpy as np

    from zoo_core.data import from_numpy

    rng = np.random.RandomState(0)
    y = np.arange(200) % 2
    x = rng.normal(size=(200, 2)) + np.where(y[:, None] == 1, 2.5, -2.5)
    return from_numpy(x[:160], y[:160], x[160:], y[160:], task="classification")


def load_triples(data_dir: Path):
    """The two clouds with a third, uninformative feature: data no 2-feature model fits."""
    import numpy as np

    from zoo_core.data import from_numpy

    splits = load_points(data_dir)
    extra = np.random.RandomState(1).normal(size=(200, 1))
    x = np.hstack([np.vstack([splits.train.x.numpy(), splits.test.x.numpy()]), extra])
    y = np.concatenate([splits.train.y.numpy(), splits.test.y.numpy()])
    return from_numpy(x[:160], y[:160], x[160:], y[160:], task="classification")


def load_wave(data_dir: Path):
    import numpy as np

    from zoo_core.data import window_series

    return window_series(np.sin(np.linspace(0, 20, 100)), window=5, test_points=30)


def load_file(data_dir: Path):
    import numpy as np

    from zoo_core.data import from_numpy

    path = data_dir / "toy.csv"
    if not path.exists():
        raise DataUnavailable(f"put toy.csv into {data_dir}")
    try:
        table = np.loadtxt(path, delimiter=",", ndmin=2)
        x, y = table[:, :2], table[:, 2].astype(int)
    except (ValueError, IndexError) as exc:
        raise DataCorrupt(f"{path} is not a CSV of x1,x2,label rows ({exc})") from None
    return from_numpy(x, y, x, y, task="classification")
