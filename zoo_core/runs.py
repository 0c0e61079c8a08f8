"""Records of one run: what was asked (RunConfig) and what came out (RunResult)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable


@dataclass(frozen=True)
class RunConfig:
    """A fully resolved run, fixed before any data is loaded."""

    run_id: str
    model: str
    dataset: str
    task: str
    seed: int
    device: str
    hparams: Mapping[str, Any]
    run_dir: Path
    plugin: str
    plugin_version: str

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["hparams"] = dict(self.hparams)
        data["run_dir"] = str(self.run_dir)
        return data


@dataclass(frozen=True)
class RunResult:
    """The outcome of one run, as stored in the results database."""

    run_id: str
    model: str
    dataset: str
    status: str  # "ok" or "failed"
    metrics: Mapping[str, float] = field(default_factory=dict)
    duration_s: float = 0.0
    num_params: int = 0
    error: str = ""
    run_dir: str = ""

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["metrics"] = finite_or_none(self.metrics)
        return data


def finite_or_none(metrics: Mapping[str, float]) -> dict[str, float | None]:
    """JSON has no NaN: an undefined score becomes null."""
    return {name: None if value != value else value for name, value in metrics.items()}


@runtime_checkable
class Estimator(Protocol):
    """A model that fits itself (KNN, K-Means, baselines) instead of using the trainer.

    Tensors arrive already on the run's device. ``fit`` may return a per-iteration loss
    history, which the run folder plots as its loss curve. ``predict`` returns labels for
    classification and clustering, values for forecasting. ``state_dict`` is what the run
    folder saves as the trained weights.
    """

    def fit(self, x: Any, y: Any) -> Sequence[float] | None: ...

    def predict(self, x: Any) -> Any: ...

    def state_dict(self) -> dict[str, Any]: ...
