"""Records of one run: what was asked (RunConfig) and what came out (RunResult).

Both are really frozen: their mappings are read-only views (``MappingProxyType``), so an
observer plugin that tries to change a setting or a score gets a ``TypeError``, and what
the store records is what the run used.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field, fields
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

# Outcomes of a run. Only "ok" and "failed" runs are recorded; "refused" (bad input found after
# the run started) and "interrupted" ones reach zoo_run_finished but leave no row.
STATUSES = ("ok", "failed", "refused", "interrupted")


def run_key(model: str, dataset: str, settings: Mapping[str, Any], seed: int) -> str:
    """A run's identity: a hash of its model, dataset, resolved settings and seed.

    Two runs with the same key are the same experiment, so a sweep that finds an ``ok`` row with
    this key does not run it again. Threads and device are left out: they change how fast a run
    goes, not what it asks.
    """
    identity = {"model": model, "dataset": dataset, "settings": dict(settings), "seed": seed}
    text = json.dumps(identity, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def _frozen(mapping: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(mapping))


class _Record:
    """Read-only mappings in frozen dataclasses, and pickling that survives them (for workers)."""

    MAPPINGS: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in self.MAPPINGS:
            object.__setattr__(self, name, _frozen(getattr(self, name)))

    def plain(self) -> dict[str, Any]:
        """The fields as plain values: dicts for mappings, so they pickle and serialise."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}  # type: ignore[arg-type]
        for name in self.MAPPINGS:
            values[name] = dict(values[name])
        return values

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (type(self), self.plain()))


def _rebuild(cls: type, values: dict[str, Any]) -> Any:
    return cls(**values)


@dataclass(frozen=True, kw_only=True)
class RunConfig(_Record):
    """A fully resolved run, fixed before any data is loaded.

    ``hparams`` are the model's own hyperparameters (what its factory receives); ``trainer``
    the core trainer's settings, empty for models that are not trained by gradient descent.
    """

    MAPPINGS = ("hparams", "trainer")

    run_id: str
    model: str
    dataset: str
    task: str
    seed: int
    device: str
    threads: int
    hparams: Mapping[str, Any]
    trainer: Mapping[str, Any] = field(default_factory=dict)
    run_dir: Path
    plugin: str
    plugin_version: str

    @property
    def settings(self) -> dict[str, Any]:
        """Every resolved setting in one flat mapping: the model's and the trainer's."""
        return {**self.hparams, **self.trainer}

    @property
    def key(self) -> str:
        """The run's identity (:func:`run_key`)."""
        return run_key(self.model, self.dataset, self.settings, self.seed)

    def to_json(self) -> dict[str, Any]:
        data = self.plain()
        data["run_dir"] = str(self.run_dir)
        return data

    @property
    def home(self) -> Path:
        """The zoo home the run is recorded in: its folder is ``<home>/runs/<run_id>``.

        For observers that keep files of their own next to the results, and to read the run's
        row back with :func:`zoo_core.find_run` once it is recorded.
        """
        return Path(self.run_dir).parent.parent


@dataclass(frozen=True, kw_only=True)
class RunResult(_Record):
    """The outcome of one run, as stored in the results database.

    ``warnings`` lists what went wrong around the run without failing it: a metric that
    raised (and is therefore missing), an observer plugin that raised. ``num_params`` counts
    the numbers the model learned; training data an estimator keeps is not among them.
    """

    MAPPINGS = ("metrics",)

    run_id: str
    model: str
    dataset: str
    status: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    duration_s: float = 0.0
    num_params: int = 0
    error: str = ""
    run_dir: str = ""
    warnings: tuple[str, ...] = ()
    # An estimator whose state is its training data (KNN) keeps those points, not parameters:
    # how many, and whether the run folder refers to the dataset instead of storing a copy.
    fitted_points: int = 0
    data_reference: bool = False
    folder_bytes: int = 0  # the run folder's size once the run ended

    def to_json(self) -> dict[str, Any]:
        data = self.plain()
        data["metrics"] = finite_or_none(self.metrics)
        data["warnings"] = list(self.warnings)
        return data


def finite_or_none(metrics: Mapping[str, float]) -> dict[str, float | None]:
    """JSON has no NaN or infinity: an undefined score becomes null."""
    return {name: value if math.isfinite(value) else None for name, value in metrics.items()}


@runtime_checkable
class Estimator(Protocol):
    """A model that fits itself (KNN, K-Means, baselines) instead of using the trainer.

    Tensors arrive already on the run's device. ``fit`` may return a per-iteration loss
    history, which the run folder plots as its loss curve; an optional ``history_name``
    attribute says what it measures (K-Means: ``"inertia"``; default ``"loss"``). ``predict``
    returns labels for classification and clustering, values for forecasting. ``state_dict`` is what the run
    folder saves as the trained weights; ``load_state_dict(state)`` (not required to run, but
    checked by the conformance kit) puts it back, so that a recorded run can be loaded and
    predict (``zoo_core.load_run``, `zoo predict`).
    """

    def fit(self, x: Any, y: Any) -> Sequence[float] | None: ...

    def predict(self, x: Any) -> Any: ...

    def state_dict(self) -> dict[str, Any]: ...
