"""What the plugin's tests share: a tiny gradient-trained model to run, and MLflow read back.

The tests run real zoo runs in this process, with the installed plugin loaded from its entry
point (``ZOO_PLUGINS=mlflow``) and a tiny model registered for the test, so they need no lesson
plugin and train in a second or two.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from zoo_core import DatasetSpec, ModelSpec, RunResult, hookimpl


def build_mlp(dataset: DatasetSpec, hidden: int) -> Any:
    import torch

    return torch.nn.Sequential(torch.nn.Linear(2, hidden), torch.nn.ReLU(), torch.nn.Linear(hidden, 2))


def load_points(data_dir: Path) -> Any:
    import numpy as np

    from zoo_core.data import from_numpy

    rng = np.random.RandomState(0)
    y = np.arange(100) % 2
    x = rng.normal(size=(100, 2)) + np.where(y[:, None] == 1, 2.0, -2.0)
    return from_numpy(x[:80], y[:80], x[80:], y[80:], task="classification")


class Tiny:
    """A plugin with one small model and its data; ``on_epoch(epoch)`` runs after each epoch."""

    def __init__(self, on_epoch: Callable[[int], None] | None = None) -> None:
        self.on_epoch = on_epoch

    @hookimpl
    def zoo_models(self) -> list[ModelSpec]:
        return [
            ModelSpec(
                name="tiny-mlp",
                task="classification",
                factory=build_mlp,
                summary="two-layer perceptron",
                reference="zoo-mlflow tests",
                defaults={"hidden": 4},
                trainer={"epochs": 3, "lr": 0.05},
                default_dataset="tiny-points",
                input_shape=(2,),
            )
        ]

    @hookimpl
    def zoo_datasets(self) -> list[DatasetSpec]:
        return [
            DatasetSpec(
                name="tiny-points",
                task="classification",
                loader=load_points,
                description="two clouds of points",
                source="generated",
                license="CC0",
                input_shape=(2,),
                train_size=80,
                test_size=20,
                classes=("left", "right"),
            )
        ]

    @hookimpl
    def zoo_epoch_finished(self, config: Any, epoch: int, loss: float, validation: Any) -> None:
        if self.on_epoch is not None:
            self.on_epoch(epoch)


@dataclass
class Zoo:
    """Runs of the tiny model in this process, with what they said on the way."""

    home: Path
    messages: list[str] = field(default_factory=list)

    def run(self, on_epoch: Callable[[int], None] | None = None, **overrides: Any) -> RunResult:
        from zoo_core.runner import run
        from zoo_core.testing import registered

        with registered(Tiny(on_epoch)):
            return run("tiny-mlp", seed=0, overrides=overrides, home=self.home, notify=self.messages.append)

    def warnings(self) -> list[str]:
        return [line for line in self.messages if line.startswith("warning:")]


@pytest.fixture
def zoo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Zoo]:
    """The tiny model's runs in a fresh zoo home, with only this plugin loaded from its entry point."""
    for name in ("MLFLOW_TRACKING_URI", "ZOO_MLFLOW_EXPERIMENT", "ZOO_MLFLOW_TIMEOUT", "ZOO_MLFLOW_RETRIES"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ZOO_PLUGINS", "mlflow")
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.setenv("MLFLOW_DISABLE_TELEMETRY", "true")
    monkeypatch.chdir(tmp_path)  # a stray ./mlruns would show up here
    home = tmp_path / "home"
    home.mkdir()
    yield Zoo(home)


@dataclass(frozen=True)
class Logged:
    """One MLflow run read back through ``MlflowClient``, as a user of MLflow sees it."""

    client: Any
    run: Any

    @property
    def params(self) -> dict[str, str]:
        return dict(self.run.data.params)

    @property
    def metrics(self) -> dict[str, float]:
        return dict(self.run.data.metrics)

    @property
    def tags(self) -> dict[str, str]:
        return dict(self.run.data.tags)

    @property
    def status(self) -> str:
        return str(self.run.info.status)

    def steps(self, key: str) -> list[tuple[int, float]]:
        return [(m.step, m.value) for m in self.client.get_metric_history(self.run.info.run_id, key)]

    def artifacts(self) -> list[str]:
        return sorted(a.path for a in self.client.list_artifacts(self.run.info.run_id))


def logged(uri: str, run_id: str, experiment: str = "zoo") -> Logged:
    """The one MLflow run of the zoo run ``run_id`` at ``uri``."""
    from mlflow import MlflowClient

    client = MlflowClient(tracking_uri=uri)
    found = client.get_experiment_by_name(experiment)
    assert found is not None, f"no experiment {experiment!r} at {uri}"
    runs = client.search_runs([found.experiment_id], filter_string=f"tags.`zoo.run_id` = '{run_id}'")
    assert len(runs) == 1, f"{len(runs)} MLflow runs for zoo run {run_id}"
    return Logged(client, runs[0])


@pytest.fixture
def read_back() -> Callable[..., Logged]:
    """``read_back(uri, run_id)``: the MLflow run the plugin logged for a zoo run."""
    return logged


@pytest.fixture
def port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
