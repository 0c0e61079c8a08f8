"""Helpers for testing the zoo and its plugins, and the conformance kit plugin authors run.

The kit checks an installed plugin the way scikit-learn's ``check_estimator`` checks an
estimator: ``check_plugin("name")`` runs every check and raises on failures, and the pytest
plugin (``zoo_core.pytest_plugin``) runs the same checks as one test item each. A check
raises :class:`CheckFailed` for a problem it found, :class:`CheckSkipped` when it cannot
run here (data not available offline, a dataset from a plugin that is not installed),
and lets the plugin's own exceptions through with their tracebacks.
"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
METRIC_NAME = re.compile(r"^[a-z][a-z0-9]*([-_][a-z0-9]+)*$")
# A tiny fit: a few evenly spaced samples of each split, one epoch in small batches.
TINY_TRAIN, TINY_TEST, TINY_BATCH = 32, 16, 16
SEED = 0


def run_zoo(
    *args: str, home: Path, plugins: str | None = None, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real `zoo` command (``python -m zoo_core``) with ``ZOO_HOME=home``.

    ``plugins`` sets ``ZOO_PLUGINS`` so the test does not depend on what else is installed.
    With ``check``, a non-zero exit fails with the command's stderr in the message.
    """
    full_env = {**os.environ, "ZOO_HOME": str(home), **(env or {})}
    if plugins is not None:
        full_env["ZOO_PLUGINS"] = plugins
    result = subprocess.run(
        [sys.executable, "-m", "zoo_core", *args],
        capture_output=True,
        text=True,
        env=full_env,
        stdin=subprocess.DEVNULL,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"zoo {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
    return result


def run_json(
    *args: str, home: Path, plugins: str | None = None, env: dict[str, str] | None = None
) -> list[dict[str, Any]]:
    """Run ``zoo <args> --json`` and parse its JSON lines (one object per run)."""
    out = run_zoo(*args, "--json", home=home, plugins=plugins, env=env).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def dataset_spec(
    task: str, input_shape: tuple[int, ...], classes: tuple[str, ...] = (), name: str = "stand-in"
) -> Any:
    """A DatasetSpec with only the shape metadata, for testing a factory without loading data."""
    from .specs import DatasetSpec

    return DatasetSpec(
        name, task, "unused:unused", "test stand-in", "test", "none", input_shape, 1, 1, classes
    )


@contextmanager
def registered(plugin: object, name: str = "test-plugin") -> Iterator[None]:
    """Register ``plugin`` (a module or object with hook implementations) for one test.

    The registry is rebuilt with it, and again without it afterwards.
    """
    from .plugins import PluginInfo, load_plugins, reset

    reset()
    loaded = load_plugins()
    loaded.manager.register(plugin, name=name)
    loaded.infos[name] = PluginInfo(name, name, "0")
    try:
        yield
    finally:
        reset()


# The conformance kit ---------------------------------------------------------------------------


class CheckFailed(AssertionError):
    """A conformance check found a problem; the message says what and how to fix it."""


class CheckSkipped(Exception):
    """A conformance check cannot run here; the message says why."""


@dataclass(frozen=True)
class Check:
    """One conformance check: ``id`` such as ``"model-fit[knn]"``, ``run()`` raises on a problem."""

    id: str
    run: Callable[[], None]


@dataclass(frozen=True)
class Outcome:
    """What one check did: ``status`` is ``"passed"``, ``"failed"`` or ``"skipped"``."""

    id: str
    status: str
    message: str = ""


def plugin_checks(name: str) -> list[Check]:
    """Every conformance check for the installed plugin ``name`` (its entry-point name), in order.

    Plugin-wide checks come first, then three per model, two per dataset and two per metric
    the plugin registers. Raises :class:`zoo_core.UnknownName` when no such plugin is installed.
    """
    from importlib.metadata import entry_points

    from .errors import UnknownName
    from .plugins import ENTRY_POINT_GROUP
    from .registry import suggest

    installed = {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}
    if name not in installed:
        known = ", ".join(sorted(installed)) or "none"
        raise UnknownName(
            f"plugin {name!r} is not installed: no entry point {name!r} in group {ENTRY_POINT_GROUP!r}"
            f"{suggest(name, installed)} (installed: {known}); pip install your plugin first"
        )
    kit = _Kit(name, installed[name])
    checks = [
        Check("entry-point", kit.check_entry_point),
        Check("hooks", kit.check_hooks),
        Check("registration", kit.check_registration),
    ]
    models, datasets, metrics = kit.owned()
    for model in models:
        checks += [
            Check(f"model-spec[{model}]", lambda m=model: kit.check_model_spec(m)),
            Check(f"model-fit[{model}]", lambda m=model: kit.check_model_fit(m)),
            Check(f"model-determinism[{model}]", lambda m=model: kit.check_model_determinism(m)),
        ]
    for dataset in datasets:
        checks += [
            Check(f"dataset-spec[{dataset}]", lambda d=dataset: kit.check_dataset_spec(d)),
            Check(f"dataset-load[{dataset}]", lambda d=dataset: kit.check_dataset_load(d)),
        ]
    for metric in metrics:
        checks += [
            Check(f"metric-spec[{metric}]", lambda m=metric: kit.check_metric_spec(m)),
            Check(f"metric-scores[{metric}]", lambda m=metric: kit.check_metric_scores(m)),
        ]
    return checks


def run_checks(name: str) -> list[Outcome]:
    """Run every check for plugin ``name`` and say how each went, without raising."""
    outcomes = []
    for check in plugin_checks(name):
        try:
            check.run()
        except CheckSkipped as exc:
            outcomes.append(Outcome(check.id, "skipped", str(exc)))
        except CheckFailed as exc:
            outcomes.append(Outcome(check.id, "failed", str(exc)))
        except Exception as exc:  # the plugin's own code raised: say where
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            where = f" (at {frame.filename}:{frame.lineno})"
            outcomes.append(Outcome(check.id, "failed", f"{type(exc).__name__}: {exc}{where}"))
        else:
            outcomes.append(Outcome(check.id, "passed"))
    return outcomes


def check_plugin(name: str, expected_failures: Mapping[str, str] | None = None) -> list[Outcome]:
    """Assert that the installed plugin ``name`` passes every conformance check.

    ``expected_failures`` maps check ids to the reason they are known to fail; such a check
    that passes is reported too, as is an id that names no check. Returns the outcomes.
    """
    expected = dict(expected_failures or {})
    outcomes = run_checks(name)
    problems = unknown_expected_failures(expected, [o.id for o in outcomes])
    for outcome in outcomes:
        if outcome.status == "failed" and outcome.id not in expected:
            problems.append(f"{outcome.id}: {outcome.message}")
        elif outcome.status == "passed" and outcome.id in expected:
            problems.append(f"{outcome.id} passed but is an expected failure ({expected[outcome.id]})")
    if problems:
        raise AssertionError(f"plugin {name!r} fails the conformance kit:\n" + "\n".join(problems))
    return outcomes


def unknown_expected_failures(expected: Mapping[str, str], ids: list[str]) -> list[str]:
    """One message per expected-failure id that names no check."""
    from .registry import suggest

    return [
        f"expected failure {key!r} names no check{suggest(key, ids)} (checks: {', '.join(ids)})"
        for key in sorted(set(expected) - set(ids))
    ]


@contextmanager
def _offline() -> Iterator[None]:
    """Loaders run offline unless the environment says otherwise: a test suite must not download."""
    if "ZOO_OFFLINE" in os.environ:
        yield
        return
    os.environ["ZOO_OFFLINE"] = "1"
    try:
        yield
    finally:
        os.environ.pop("ZOO_OFFLINE", None)


def _fail_on(problems: list[str]) -> None:
    if problems:
        raise CheckFailed("; ".join(problems))


def _resolves(ref: Any, what: str) -> list[str]:
    from .specs import resolve

    try:
        resolve(ref)
    except Exception as exc:
        return [f"{what} {ref!r} does not resolve ({type(exc).__name__}: {exc})"]
    return []


def _missing(spec: Any, fields: tuple[str, ...]) -> list[str]:
    return [f"{name} is empty" for name in fields if not str(getattr(spec, name) or "").strip()]


@dataclass(frozen=True)
class TinyRun:
    """The outcome of one tiny fit and predict."""

    dataset: str
    predictions: Any
    history: list[float]
    state: Mapping[str, Any]
    test_size: int


@dataclass
class _Kit:
    """The checks for one plugin; tiny runs and their data are cached across checks."""

    name: str
    entry_point: Any
    runs: dict[str, TinyRun] = field(default_factory=dict)
    prepared: dict[str, tuple[Any, Any]] = field(default_factory=dict)

    # -- the plugin as a whole ----------------------------------------------------------------

    def check_entry_point(self) -> None:
        try:
            self.entry_point.load()
        except Exception as exc:
            raise CheckFailed(
                f"entry point {self.name} = {self.entry_point.value} does not import: "
                f"{type(exc).__name__}: {exc}"
            ) from exc

    def check_hooks(self) -> None:
        """Every hook implementation against the specs, with pluggy's own validation."""
        import inspect

        import pluggy

        from . import hookspecs

        plugin = self.entry_point.load()
        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        problems = []
        try:
            manager.register(plugin, name=self.name)
            manager.check_pending()
        except pluggy.PluginValidationError as exc:
            problems.append(str(exc))
        for attr in sorted(dir(plugin)):
            value = getattr(plugin, attr)
            unmarked = manager.parse_hookimpl_opts(plugin, attr) is None
            if attr.startswith("zoo_") and inspect.isroutine(value) and unmarked:
                problems.append(f"{attr} looks like a hook but lacks @zoo_core.hookimpl, so it never runs")
        _fail_on(problems)

    def check_registration(self) -> None:
        from .plugins import load_plugins
        from .registry import get_registry

        try:
            loaded = load_plugins()
            get_registry()  # a hook that raises or returns the wrong records marks the plugin broken
        except Exception as exc:
            raise CheckFailed(f"building the registry failed: {exc}") from exc
        info = loaded.infos.get(self.name)
        if info is None:
            raise CheckFailed(
                f"plugin {self.name!r} is installed but ZOO_PLUGINS={os.environ.get('ZOO_PLUGINS')!r} "
                "leaves it out"
            )
        if info.error:
            raise CheckFailed(f"plugin {self.name!r} is broken: {info.error}")
        if not info.hooks:
            raise CheckFailed(f"plugin {self.name!r} implements no hook")

    def owned(self) -> tuple[list[str], list[str], list[str]]:
        """The names of the models, datasets and metrics the plugin registers (none if it is broken)."""
        from .registry import get_registry

        try:
            registry = get_registry()
        except Exception:  # the registration check reports it
            return [], [], []
        models, datasets, metrics = (
            [name for name, entry in table.items() if entry.plugin == self.name]
            for table in (registry.models, registry.datasets, registry.metrics)
        )
        return models, datasets, metrics

    # -- models -------------------------------------------------------------------------------

    def check_model_spec(self, name: str) -> None:
        from .errors import ZooError
        from .hparams import defaults_for, resolve_hparams
        from .registry import get_registry
        from .specs import TASKS

        registry = get_registry()
        spec = registry.model(name).spec
        problems = [] if KEBAB.match(name) else [f"name {name!r} is not lowercase kebab-case"]
        if spec.task not in TASKS:
            problems.append(f"task {spec.task!r} is not one of {', '.join(TASKS)}")
        problems += _missing(spec, ("summary", "reference"))
        problems += _resolves(spec.factory, "factory")
        if spec.gradient and spec.task == "clustering":
            problems.append("a clustering model has no loss to train on: declare gradient=False")
        settings = [("default", spec.defaults)] + [
            (f"default on {d}", values) for d, values in sorted(spec.dataset_defaults.items())
        ]
        for label, values in settings:
            for key, value in values.items():
                if not isinstance(value, (bool, int, float, str)):
                    problems.append(f"{label} {key}={value!r} is not a bool, int, float or str")
        defaults = defaults_for(spec)
        for key in sorted({*spec.choices, *spec.bounds} - set(defaults)):
            problems.append(f"choices or bounds name {key!r}, which has no default")
        try:  # the core's own validation: types, choices, bounds
            resolve_hparams(spec, {}, spec.default_dataset)
        except ZooError as exc:
            problems.append(f"its defaults are refused: {exc}")
        if spec.fallback_dataset and not spec.default_dataset:
            problems.append("a fallback dataset without a default dataset is never used")
        for label, dataset in (("default", spec.default_dataset), ("fallback", spec.fallback_dataset)):
            problems += self._dataset_problems(spec, label, dataset)
        _fail_on(problems)

    def _dataset_problems(self, spec: Any, label: str, dataset: str | None) -> list[str]:
        """A named dataset must fit the model; one that is not installed must not look like a typo."""
        from .registry import get_registry, suggest
        from .runner import incompatibility

        if dataset is None:
            return []
        registry = get_registry()
        entry = registry.datasets.get(dataset)
        if entry is None:
            # Not installed: another plugin may provide it (model-fit says so), unless it is a typo.
            hint = suggest(dataset, registry.datasets)
            return [f"{label} dataset {dataset!r} is not installed{hint}"] if hint else []
        reason = incompatibility(spec, entry.spec)
        return [f"{label} dataset does not fit: {reason}"] if reason else []

    def check_model_fit(self, name: str) -> None:
        run = self._tiny_run(name)
        problems = []
        predictions, n = run.predictions, run.test_size
        task = self._model(name).task
        if predictions.shape != (n,):
            problems.append(
                f"predict gave shape {tuple(predictions.shape)} for {n} samples of {run.dataset}; "
                f"expected ({n},): one {'value' if task == 'forecasting' else 'label'} per sample"
            )
        elif task == "forecasting":
            if predictions.dtype.kind != "f" or not bool((abs(predictions) < math.inf).all()):
                problems.append(f"forecasts must be finite floats, got {predictions.dtype} {predictions[:4]}")
        else:
            classes = self._dataset(run.dataset).classes
            if predictions.dtype.kind not in "iu":
                problems.append(f"labels must be integers, got {predictions.dtype}")
            elif classes and (predictions.min() < 0 or predictions.max() >= len(classes)):
                problems.append(
                    f"labels span {predictions.min()}..{predictions.max()}, outside the "
                    f"{len(classes)} classes of {run.dataset}"
                )
        if not all(math.isfinite(float(loss)) for loss in run.history):
            problems.append(f"the loss history is not finite: {run.history}")
        _fail_on(problems)

    def check_model_determinism(self, name: str) -> None:
        import numpy as np

        first = self._tiny_run(name)
        second = self._tiny_run(name, fresh=True)
        problems = []
        if not np.array_equal(first.predictions, second.predictions):
            changed = int((first.predictions != second.predictions).sum())
            problems.append(f"{changed} of {first.test_size} predictions differ")
        if set(first.state) != set(second.state):
            problems.append(f"the state_dict keys differ: {sorted(first.state)} vs {sorted(second.state)}")
        differing = [
            key
            for key in sorted(set(first.state) & set(second.state))
            if not _same(first.state[key], second.state[key])
        ]
        if differing:
            problems.append(f"the state_dict differs in {', '.join(differing)}")
        if problems:
            raise CheckFailed(
                f"two runs with seed {SEED} differ: {'; '.join(problems)}; draw randomness from torch's "
                "global generator, which the runner seeds, not from the clock or the OS"
            )

    def _model(self, name: str) -> Any:
        from .registry import get_registry

        return get_registry().model(name).spec

    def _dataset(self, name: str) -> Any:
        from .registry import get_registry

        return get_registry().dataset(name).spec

    def _prepare(self, name: str) -> tuple[Any, Any]:
        """The plan and the tiny splits for a model: its default dataset, else its fallback."""
        if name in self.prepared:
            return self.prepared[name]
        from .errors import ZooError
        from .home import data_dir, zoo_home
        from .registry import get_registry
        from .runner import load_data, plan_run

        registry = get_registry()
        spec = registry.model(name).spec
        overrides = {"epochs": 1, "batch_size": TINY_BATCH} if spec.gradient else {}
        try:
            with _offline():
                plan = plan_run(registry, name, self._dataset_for(spec), overrides)
                plan, splits = load_data(plan, registry, data_dir(zoo_home()), lambda message: None)
        except ZooError as exc:
            raise CheckSkipped(f"cannot try {name} here: {exc}") from exc
        self.prepared[name] = plan, _tiny(splits)
        return self.prepared[name]

    def _dataset_for(self, spec: Any) -> str | None:
        """None (the model's default dataset) or, for a model without one, a dataset that fits."""
        from .registry import get_registry
        from .runner import incompatibility

        if spec.default_dataset:
            return None
        datasets = get_registry().datasets
        fitting = sorted(
            (entry.plugin != self.name, name)
            for name, entry in datasets.items()
            if incompatibility(spec, entry.spec) is None
        )
        if not fitting:
            raise CheckSkipped(f"{spec.name} has no default dataset and no installed dataset fits it")
        return fitting[0][1]

    def _tiny_run(self, name: str, *, fresh: bool = False) -> TinyRun:
        """Fit and predict exactly as the runner does, on a few samples, with seed ``SEED``."""
        if name in self.runs and not fresh:
            return self.runs[name]
        import torch

        from .plugins import load_plugins
        from .runner import build_and_fit
        from .runs import RunConfig

        plan, splits = self._prepare(name)
        spec, dataset = plan.model.spec, plan.dataset.spec
        info = load_plugins().infos[plan.model.plugin]
        with tempfile.TemporaryDirectory(prefix="zoo-kit-") as tmp:
            config = RunConfig(
                f"kit-{name}", name, dataset.name, spec.task, SEED, "cpu", dict(plan.hparams),
                Path(tmp) / "run", info.name, info.version,
            )  # fmt: skip
            model, predictions, history = build_and_fit(plan, config, splits.train, splits.test, False)
        state = {
            key: value.detach().clone() if isinstance(value, torch.Tensor) else value
            for key, value in model.state_dict().items()
        }
        run = TinyRun(dataset.name, predictions, [float(loss) for loss in history], state, len(splits.test))
        self.runs.setdefault(name, run)
        return run

    # -- datasets -----------------------------------------------------------------------------

    def check_dataset_spec(self, name: str) -> None:
        from .registry import get_registry
        from .specs import TASKS

        registry = get_registry()
        spec = registry.dataset(name).spec
        problems = [] if KEBAB.match(name) else [f"name {name!r} is not lowercase kebab-case"]
        if spec.task not in TASKS:
            problems.append(f"task {spec.task!r} is not one of {', '.join(TASKS)}")
        problems += _missing(spec, ("description", "source", "license"))
        problems += _resolves(spec.loader, "loader")
        shape = tuple(spec.input_shape)
        if not shape or not all(isinstance(d, int) and d > 0 for d in shape):
            problems.append(f"input_shape {spec.input_shape!r} must be positive ints, one per sample axis")
        for label in ("train_size", "test_size"):
            value = getattr(spec, label)
            if not isinstance(value, int) or value <= 0:
                problems.append(f"{label} {value!r} must be a positive int")
        if spec.task == "forecasting" and spec.classes:
            problems.append("a forecasting dataset has values, not classes")
        elif spec.task != "forecasting":
            if not spec.classes:
                problems.append(f"a {spec.task} dataset must name its classes (true labels)")
            elif len(set(spec.classes)) != len(spec.classes):
                problems.append(f"classes repeat: {spec.classes}")
        if spec.primary_metric is not None or spec.task == "clustering":
            metric = registry.metrics.get(spec.primary_metric or "")
            if metric is None:
                problems.append(
                    f"primary_metric {spec.primary_metric!r} is not a registered metric"
                    + (" (clustering has no default one)" if spec.task == "clustering" else "")
                )
            elif metric.spec.task != spec.task:
                problems.append(f"primary_metric {spec.primary_metric!r} is a {metric.spec.task} metric")
        _fail_on(problems)

    def check_dataset_load(self, name: str) -> None:
        from .data import split_problems
        from .errors import DataUnavailable
        from .home import data_dir, zoo_home

        spec = self._dataset(name)
        try:
            with _offline():
                splits = spec.load(data_dir(zoo_home()))
        except DataUnavailable as exc:
            if spec.offline:
                raise CheckFailed(f"declared offline=True but unavailable: {exc}") from exc
            raise CheckSkipped(f"{name} is not available here: {exc}") from exc
        _fail_on(split_problems(spec, splits, sizes=True))

    # -- metrics ------------------------------------------------------------------------------

    def check_metric_spec(self, name: str) -> None:
        from .registry import get_registry
        from .specs import TASKS

        spec = get_registry().metrics[name].spec
        problems = [] if METRIC_NAME.match(name) else [f"name {name!r} is not lowercase (a-z, 0-9, - or _)"]
        if spec.task not in TASKS:
            problems.append(f"task {spec.task!r} is not one of {', '.join(TASKS)}")
        problems += _missing(spec, ("summary",))
        problems += _resolves(spec.fn, "fn")
        for flag in ("higher_is_better", "needs_inputs"):
            if not isinstance(getattr(spec, flag), bool):
                problems.append(f"{flag} must be True or False")
        _fail_on(problems)

    def check_metric_scores(self, name: str) -> None:
        import numpy as np

        from .registry import get_registry

        spec = get_registry().metrics[name].spec
        targets, perfect, wrong, inputs = _metric_case(spec.task)
        arrays = (targets, perfect, wrong, inputs)
        originals = [array.copy() for array in arrays]
        scores = {}
        for label, predictions in (("perfect", perfect), ("wrong", wrong)):
            value = spec.compute(targets, predictions, inputs=inputs)
            if not isinstance(value, float) or not math.isfinite(value):
                raise CheckFailed(f"{label} predictions score {value!r}, not a finite float")
            scores[label] = value
        problems = []
        if any(not np.array_equal(a, b) for a, b in zip(originals, arrays, strict=True)):
            problems.append("it changed its input arrays in place")
        better, worse = ("perfect", "wrong") if spec.higher_is_better else ("wrong", "perfect")
        if not scores[better] > scores[worse]:
            direction = "higher" if spec.higher_is_better else "lower"
            problems.append(
                f"perfect predictions score {scores['perfect']:.4g} and wrong ones {scores['wrong']:.4g}, "
                f"but higher_is_better={spec.higher_is_better} says perfect must score {direction}"
            )
        _fail_on(problems)


def _metric_case(task: str) -> tuple[Any, Any, Any, Any]:
    """Targets, perfect and clearly wrong predictions, and inputs, typed as the runner passes them.

    Labels come in three well-separated groups of points, and the wrong predictions mix the
    groups, so that label-free metrics (silhouette, inertia) can tell them apart too.
    """
    import numpy as np

    rng = np.random.RandomState(SEED)
    if task == "forecasting":
        targets = np.sin(np.linspace(0, 6, 24)).astype(np.float32)
        inputs = rng.normal(size=(24, 5)).astype(np.float32)
        return targets, targets.copy(), targets + np.float32(1.0), inputs
    targets = np.repeat(np.arange(3, dtype=np.int64), 8)
    centres = np.array([[0.0, 0.0], [8.0, 8.0], [0.0, 8.0]])
    inputs = (centres[targets] + rng.normal(scale=0.5, size=(24, 2))).astype(np.float32)
    return targets, targets.copy(), np.tile(np.arange(3, dtype=np.int64), 8), inputs


def _same(a: Any, b: Any) -> bool:
    import torch

    if isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor):
        return torch.equal(a, b)
    return bool(a == b)


def _tiny(splits: Any) -> Any:
    """A few evenly spaced samples of each split, so every class and stretch of time is seen."""
    import torch

    from .data import Split, Splits

    def take(split: Split, count: int) -> Split:
        rows = torch.linspace(0, len(split) - 1, min(count, len(split))).round().long()
        index = split.index[rows] if split.index is not None else None
        return Split(split.x[rows], split.y[rows], index)

    return Splits(take(splits.train, TINY_TRAIN), take(splits.test, TINY_TEST))
