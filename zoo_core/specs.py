"""What plugins contribute: frozen records describing models, datasets and metrics.

Callables may be given as objects or as ``"package.module:attribute"`` strings. Strings
are imported only when used, so a plugin's ``__init__`` can describe a torch model
without importing torch.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Union

Ref = Union[str, Callable[..., Any]]

TASKS = ("classification", "forecasting", "clustering")


def resolve(ref: Ref) -> Callable[..., Any]:
    """Turn a ``"module:attribute"`` reference into the object it names."""
    if callable(ref):
        return ref
    module_name, _, attribute = ref.partition(":")
    if not attribute:
        raise ValueError(f"reference {ref!r} must look like 'package.module:attribute'")
    obj: Any = importlib.import_module(module_name)
    for part in attribute.split("."):
        obj = getattr(obj, part)
    return obj


@dataclass(frozen=True)
class ModelSpec:
    """A model a plugin offers.

    ``factory(dataset, **hparams)`` returns a ``torch.nn.Module`` when ``gradient`` is true
    (the core trains it) or an :class:`zoo_core.Estimator` otherwise. ``hparams`` holds only
    the model's own hyperparameters; trainer settings (epochs, lr, ...) stay in the core.
    """

    name: str
    task: str
    factory: Ref
    summary: str
    reference: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    # Allowed values of string hyperparameters, checked before a run starts.
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Inclusive (low, high) limits of numeric hyperparameters, None for no limit; checked likewise.
    bounds: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    # Defaults that apply on one dataset only, e.g. more epochs where an epoch is a handful of steps.
    dataset_defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    default_dataset: str | None = None
    # Used when the default dataset is unavailable and the user did not ask for it.
    fallback_dataset: str | None = None
    # Per-sample input shape the model needs; None entries match any size, None matches all.
    input_shape: tuple[int | None, ...] | None = None
    gradient: bool = True
    # Baselines give every leaderboard a floor; `zoo run --all` runs them on every dataset it uses.
    baseline: bool = False

    def build(self, dataset: DatasetSpec, **hparams: Any) -> Any:
        return resolve(self.factory)(dataset, **hparams)


@dataclass(frozen=True)
class DatasetSpec:
    """A dataset a plugin offers. ``loader(data_dir)`` returns :class:`zoo_core.data.Splits`."""

    name: str
    task: str
    loader: Ref
    description: str
    source: str
    license: str
    input_shape: tuple[int, ...]
    train_size: int
    test_size: int
    classes: tuple[str, ...] = ()
    offline: bool = True
    # The metric that ranks the leaderboard for this dataset; None means the task's default.
    primary_metric: str | None = None

    def load(self, data_dir: Any) -> Any:
        return resolve(self.loader)(data_dir)


@dataclass(frozen=True)
class MetricSpec:
    """A metric: ``fn(targets, predictions)`` on NumPy arrays, returning a float.

    With ``needs_inputs`` the runner also passes ``inputs=`` (the test inputs, flattened
    per sample), for metrics such as silhouette that look at the data itself.
    """

    name: str
    task: str
    fn: Ref
    higher_is_better: bool
    summary: str = ""
    needs_inputs: bool = False

    def compute(self, targets: Any, predictions: Any, inputs: Any = None) -> float:
        fn = resolve(self.fn)
        if self.needs_inputs:
            return float(fn(targets, predictions, inputs=inputs))
        return float(fn(targets, predictions))
