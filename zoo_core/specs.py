"""What plugins contribute: frozen records describing models, datasets and metrics.

Callables may be given as objects or as ``"package.module:attribute"`` strings. Strings
are imported only when used, so a plugin's ``__init__`` can describe a torch model
without importing torch.

Every record checks itself: :meth:`problems` lists what is wrong with its fields (names,
task, required text, settings that do not exist). The registry calls it for every record a
plugin returns and refuses, with one line each, those that have problems, so every user gets
these checks, not only authors who run the conformance kit.
"""

from __future__ import annotations

import importlib
import math
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Union

from .names import KEBAB, METRIC_NAME, name_problem
from .recipe import TRAINER_DEFAULTS

Ref = Union[str, Callable[..., Any]]

TASKS = ("classification", "forecasting", "clustering")
# The leaderboard's own columns: a metric with one of these names would hide or replace it.
RESERVED_METRIC_NAMES = ("dataset", "model", "runs", "seeds", "settings", "task")


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


@dataclass(frozen=True, kw_only=True)
class ModelSpec:
    """A model a plugin offers.

    ``factory(dataset, **defaults)`` returns a ``torch.nn.Module`` when ``gradient`` is true
    (the core's trainer trains it) or an :class:`zoo_core.Estimator` otherwise.

    Two namespaces are kept apart:

    - ``defaults``: the model's own hyperparameters, passed to ``factory``. An estimator may
      call one ``epochs`` or ``lr``: it is the estimator's own.
    - ``trainer``: for gradient-trained models only, the core trainer's settings this model
      changes from the core's recipe (``epochs``, ``batch_size``, ``lr``, ``weight_decay``,
      ``optimizer``, ``schedule``). They never reach ``factory``.

    ``choices`` and ``bounds`` may name keys of either; ``dataset_defaults`` overrides either
    on one dataset.
    """

    name: str
    task: str
    factory: Ref
    summary: str
    reference: str
    defaults: Mapping[str, Any] = field(default_factory=dict)
    trainer: Mapping[str, Any] = field(default_factory=dict)
    # Allowed values of string settings, checked before a run starts.
    choices: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # Inclusive (low, high) limits of numeric settings, None for no limit; checked likewise.
    bounds: Mapping[str, tuple[float | None, float | None]] = field(default_factory=dict)
    # Settings that apply on one dataset only, e.g. more epochs where an epoch is a handful of steps.
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

    def setting_names(self) -> set[str]:
        """Every name ``--set`` may give this model: its own, plus the trainer's if it trains."""
        own = set(self.defaults) if isinstance(self.defaults, Mapping) else set()
        return own | set(TRAINER_DEFAULTS) if self.gradient else own

    def problems(self) -> list[str]:
        """What is wrong with this record's fields; empty when nothing is."""
        problems = _common_problems(self, ("summary", "reference"))
        problems += _ref_problems(self.factory, "factory")
        for flag in ("gradient", "baseline"):
            if not isinstance(getattr(self, flag), bool):
                problems.append(f"{flag} must be True or False, got {getattr(self, flag)!r}")
        problems += _settings_problems("defaults", self.defaults)
        problems += _settings_problems("trainer", self.trainer)
        if problems:
            return problems  # the checks below read these fields
        if self.gradient:
            mixed = sorted(set(self.defaults) & set(TRAINER_DEFAULTS))
            if mixed:
                problems.append(
                    f"defaults name trainer settings ({', '.join(mixed)}); give them in trainer= instead"
                )
            unknown = sorted(set(self.trainer) - set(TRAINER_DEFAULTS))
            if unknown:
                problems.append(
                    f"trainer names {', '.join(unknown)}, which the trainer does not have "
                    f"(it has {', '.join(TRAINER_DEFAULTS)})"
                )
            if self.task == "clustering":
                problems.append("a clustering model has no loss to train on: declare gradient=False")
        elif self.trainer:
            problems.append("trainer= is for gradient-trained models; an estimator's settings go in defaults")
        known = self.setting_names()
        problems += _keyed_problems("choices", self.choices, known, _choice_problem)
        problems += _keyed_problems("bounds", self.bounds, known, _bound_problem)
        if not isinstance(self.dataset_defaults, Mapping):
            problems.append(f"dataset_defaults must be a mapping, got {type(self.dataset_defaults).__name__}")
        else:
            for dataset, values in self.dataset_defaults.items():
                problems += _optional_name_problems(f"dataset_defaults key {dataset!r}", dataset)
                problems += _settings_problems(f"dataset_defaults[{dataset!r}]", values)
                if isinstance(values, Mapping):
                    for key in sorted(set(values) - known):
                        problems.append(f"dataset_defaults[{dataset!r}] sets {key!r}, which has no default")
        problems += _optional_name_problems("default_dataset", self.default_dataset)
        problems += _optional_name_problems("fallback_dataset", self.fallback_dataset)
        if self.fallback_dataset and not self.default_dataset:
            problems.append("a fallback dataset without a default dataset is never used")
        shape = self.input_shape
        if shape is not None and not (
            isinstance(shape, tuple) and shape and all(d is None or (_is_int(d) and d > 0) for d in shape)
        ):
            problems.append(f"input_shape {shape!r} must be None or a tuple of positive ints or None")
        return problems


@dataclass(frozen=True, kw_only=True)
class DatasetSpec:
    """A dataset a plugin offers. ``loader(data_dir)`` returns :class:`zoo_core.data.Splits`.

    ``transform(sample, **state)`` turns one raw sample (an image of any size, a row of
    features) into one model input, as torchvision's ``weights.transforms()`` does; the loader
    runs the same code, so training and prediction cannot drift. A transform fitted on the
    training split (standardisation) takes what it fitted as keyword arguments: the loader
    returns them in ``Splits.transform_state`` and every run stores them. ``raw(data_dir)``
    gives ``(train, test)`` raw samples in the loader's order, so the conformance kit can check
    that the transform of each gives what the loader returns; both or neither are declared.
    """

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
    transform: Ref | None = None
    raw: Ref | None = None

    def load(self, data_dir: Any) -> Any:
        return resolve(self.loader)(data_dir)

    def problems(self) -> list[str]:
        """What is wrong with this record's fields; empty when nothing is."""
        problems = _common_problems(self, ("description", "source", "license"))
        problems += _ref_problems(self.loader, "loader")
        for label in ("transform", "raw"):
            if getattr(self, label) is not None:
                problems += _ref_problems(getattr(self, label), label)
        if (self.transform is None) != (self.raw is None):
            given, missing = ("transform", "raw") if self.raw is None else ("raw", "transform")
            problems.append(
                f"{given} is given without {missing}: the kit checks a transform on the raw samples, "
                "so declare both or neither"
            )
        shape = self.input_shape
        if not (isinstance(shape, tuple) and shape and all(_is_int(d) and d > 0 for d in shape)):
            problems.append(f"input_shape {shape!r} must be a tuple of positive ints, one per sample axis")
        for label in ("train_size", "test_size"):
            value = getattr(self, label)
            if not _is_int(value) or value <= 0:
                problems.append(f"{label} {value!r} must be a positive int")
        if not isinstance(self.offline, bool):
            problems.append(f"offline must be True or False, got {self.offline!r}")
        classes = self.classes
        if not isinstance(classes, tuple) or not all(isinstance(c, str) and c for c in classes):
            problems.append(f"classes {classes!r} must be a tuple of non-empty strings")
        elif self.task == "forecasting" and classes:
            problems.append("a forecasting dataset has values, not classes")
        elif self.task in ("classification", "clustering"):
            if not classes:
                problems.append(f"a {self.task} dataset must name its classes (true labels)")
            elif len(set(classes)) != len(classes):
                problems.append(f"classes repeat: {classes}")
        if self.primary_metric is not None and name_problem(self.primary_metric, METRIC_NAME) is not None:
            problems.append(f"primary_metric {self.primary_metric!r} is not a metric name")
        return problems


@dataclass(frozen=True, kw_only=True)
class MetricSpec:
    """A metric: ``fn(targets, predictions)`` on NumPy arrays, returning a float.

    With ``needs_inputs`` the runner also passes ``inputs=`` (the test inputs, flattened
    per sample), for metrics such as silhouette that look at the data itself.
    """

    name: str
    task: str
    fn: Ref
    higher_is_better: bool
    summary: str
    needs_inputs: bool = False

    def compute(self, targets: Any, predictions: Any, inputs: Any = None) -> float:
        fn = resolve(self.fn)
        if self.needs_inputs:
            return float(fn(targets, predictions, inputs=inputs))
        return float(fn(targets, predictions))

    def problems(self) -> list[str]:
        """What is wrong with this record's fields; empty when nothing is."""
        problems = _common_problems(self, ("summary",), METRIC_NAME, "error_rate")
        if self.name in RESERVED_METRIC_NAMES:
            problems.append(f"name {self.name!r} is a column of the leaderboard; choose another")
        problems += _ref_problems(self.fn, "fn")
        for flag in ("higher_is_better", "needs_inputs"):
            if not isinstance(getattr(self, flag), bool):
                problems.append(f"{flag} must be True or False, got {getattr(self, flag)!r}")
        return problems


AnySpec = Union[ModelSpec, DatasetSpec, MetricSpec]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _common_problems(
    spec: Any, text_fields: tuple[str, ...], pattern: Any = KEBAB, example: str = "my-net"
) -> list[str]:
    """The name's syntax, the task, and the descriptive fields that must not be empty."""
    problems = []
    problem = name_problem(spec.name, pattern, example)
    if problem:
        problems.append(problem)
    if spec.task not in TASKS:
        problems.append(f"task {spec.task!r} is not one of {', '.join(TASKS)}")
    for label in text_fields:
        value = getattr(spec, label)
        if not isinstance(value, str) or not value.strip():
            problems.append(f"{label} must be a non-empty string, got {value!r}")
    return problems


def _ref_problems(ref: Any, label: str) -> list[str]:
    if callable(ref):
        return []
    if isinstance(ref, str):
        module, sep, attribute = ref.partition(":")
        if sep and module.strip() and attribute.strip() and " " not in ref:
            return []
    return [f"{label} {ref!r} must be a callable or a 'package.module:attribute' string"]


def _settings_problems(label: str, values: Any) -> list[str]:
    """Settings are a mapping of names to plain, finite values that a command line can give."""
    if not isinstance(values, Mapping):
        return [f"{label} must be a mapping of names to values, got {type(values).__name__}"]
    problems = []
    for key, value in values.items():
        if not isinstance(key, str) or not key.isidentifier():
            problems.append(f"{label} key {key!r} must be a Python identifier")
        elif not isinstance(value, (bool, int, float, str)):
            problems.append(f"{label} {key}={value!r} is not a bool, int, float or str")
        elif isinstance(value, float) and not math.isfinite(value):
            problems.append(f"{label} {key}={value!r} is not finite")
    return problems


def _keyed_problems(label: str, table: Any, known: set[str], check: Callable[[Any], str | None]) -> list[str]:
    if not isinstance(table, Mapping):
        return [f"{label} must be a mapping, got {type(table).__name__}"]
    problems = []
    for key, value in table.items():
        if key not in known:
            problems.append(f"{label} name {key!r}, which has no default")
            continue
        problem = check(value)
        if problem:
            problems.append(f"{label}[{key!r}] {problem}")
    return problems


def _choice_problem(allowed: Any) -> str | None:
    if isinstance(allowed, tuple) and allowed and all(isinstance(a, str) for a in allowed):
        return None
    return f"must be a non-empty tuple of strings, got {allowed!r}"


def _bound_problem(limits: Any) -> str | None:
    def number(value: Any) -> bool:
        return value is None or (
            isinstance(value, (int, float)) and not isinstance(value, bool) and value == value
        )

    if isinstance(limits, tuple) and len(limits) == 2 and all(number(v) for v in limits):
        low, high = limits
        if low is None or high is None or low <= high:
            return None
    return f"must be (low, high) with numbers or None, low <= high; got {limits!r}"


def _optional_name_problems(label: str, name: Any) -> list[str]:
    if name is None:
        return []
    problem = name_problem(name)
    return [f"{label}: {problem}"] if problem else []
