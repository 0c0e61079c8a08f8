"""The conformance kit: behavioural checks of one installed plugin, for its author's tests.

The kit checks a plugin the way scikit-learn's ``check_estimator`` checks an estimator:
``check_plugin("name")`` runs every check and raises on failures, and the pytest plugin
(``zoo_core.pytest_plugin``) runs the same checks as one test item each. A check raises
:class:`CheckFailed` for a problem it found, :class:`CheckSkipped` when it cannot run here
(data not available offline, a dataset from a plugin that is not installed), and lets the
plugin's own exceptions through with their tracebacks.

What a spec's fields must look like (names, task, texts, settings) is checked by the specs
themselves when the registry is built, for every user; here the ``registration`` check
reports what the registry refused. The other checks are behavioural: the entry point
imports, the hooks validate, factories and loaders resolve, a tiny seeded fit gives
well-shaped and reproducible predictions, a model rebuilt from its saved state predicts the
same, the data matches its spec (and a dataset's transform of its raw samples matches what its
loader returns), metrics rank perfect predictions above wrong ones. The kit's tiny runs fire
no plugin's hooks.
"""

from __future__ import annotations

import math
import os
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

# A tiny fit: a few evenly spaced samples of each split, one epoch in small batches.
TINY_TRAIN, TINY_TEST, TINY_BATCH = 32, 16, 16
SEED = 0


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

    Plugin-wide checks come first, then four per model, two per dataset (three when it
    declares a transform) and two per metric the plugin registers. Raises
    :class:`zoo_core.UnknownName` when no such plugin is installed.
    """
    from importlib.metadata import entry_points

    from .errors import UnknownName
    from .names import suggest
    from .plugins import ENTRY_POINT_GROUP

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
            Check(f"model-reload[{model}]", lambda m=model: kit.check_model_reload(m)),
        ]
    for dataset in datasets:
        checks += [
            Check(f"dataset-spec[{dataset}]", lambda d=dataset: kit.check_dataset_spec(d)),
            Check(f"dataset-load[{dataset}]", lambda d=dataset: kit.check_dataset_load(d)),
        ]
        if kit.has_transform(dataset):
            checks.append(
                Check(f"dataset-transform[{dataset}]", lambda d=dataset: kit.check_dataset_transform(d))
            )
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
    from .names import suggest

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
        import pluggy

        from . import hookspecs
        from .plugins import unmarked_hooks

        plugin = self.entry_point.load()
        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        problems = []
        try:
            manager.register(plugin, name=self.name)
            manager.check_pending()
        except pluggy.PluginValidationError as exc:
            problems.append(str(exc))
        problems += unmarked_hooks(manager, plugin)
        _fail_on(problems)

    def check_registration(self) -> None:
        """The plugin loads, implements a hook, and the registry accepted every spec it returned."""
        from .plugins import load_plugins
        from .registry import get_registry

        try:
            loaded = load_plugins()
            registry = get_registry()  # a hook that raises marks the plugin broken
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
        _fail_on(registry.refusals.get(self.name, []))

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
        """The factory imports, and the default and fallback datasets exist (or are not typos) and fit."""
        spec = self._model(name)
        problems = _resolves(spec.factory, "factory")
        for label, dataset in (("default", spec.default_dataset), ("fallback", spec.fallback_dataset)):
            problems += self._dataset_problems(spec, label, dataset)
        _fail_on(problems)

    def _dataset_problems(self, spec: Any, label: str, dataset: str | None) -> list[str]:
        """A named dataset must fit the model; one that is not installed must not look like a typo."""
        from .names import suggest
        from .planning import incompatibility
        from .registry import get_registry

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

    def check_model_reload(self, name: str) -> None:
        """A fresh model given the tiny run's ``state_dict`` predicts what the trained one did,
        as a recorded run loaded back (``zoo_core.load_run``) must."""
        import numpy as np
        import torch

        from . import training
        from .fitting import build_model, seed_everything

        run = self._tiny_run(name)
        plan, splits = self._prepare(name)
        seed_everything(SEED + 1)  # a fresh network starts from other weights than the trained one
        model = build_model(plan)
        if not hasattr(model, "load_state_dict"):
            raise CheckFailed(
                f"{type(model).__name__} has no load_state_dict(state): a recorded run of {name} cannot be "
                "loaded back to predict; give it one that restores what state_dict() returns"
            )
        model.load_state_dict(
            {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in run.state.items()}
        )
        spec = plan.model.spec
        if spec.gradient:
            predictions = training.predict(model, splits.test.x, task=spec.task)
        else:
            with torch.no_grad():
                predictions = model.predict(splits.test.x)
        predictions = predictions.detach().cpu().numpy()
        if predictions.shape != run.predictions.shape or not np.array_equal(predictions, run.predictions):
            changed = (
                int((predictions != run.predictions).sum())
                if predictions.shape == run.predictions.shape
                else "all"
            )
            raise CheckFailed(
                f"a model rebuilt from its state_dict predicts differently ({changed} of {run.test_size} "
                "test predictions): load_state_dict must restore everything predict uses"
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
        from .layout import data_dir, zoo_home
        from .loading import load_data
        from .planning import plan_run
        from .registry import get_registry

        registry = get_registry()
        spec = registry.model(name).spec
        overrides = {"epochs": 1, "batch_size": TINY_BATCH} if spec.gradient else {}
        try:
            with _offline():
                plan = plan_run(registry, name, self._dataset_for(spec), overrides)
                plan, splits = load_data(plan, data_dir(zoo_home()))
        except ZooError as exc:
            raise CheckSkipped(f"cannot try {name} here: {exc}") from exc
        self.prepared[name] = plan, _tiny(splits)
        return self.prepared[name]

    def _dataset_for(self, spec: Any) -> str | None:
        """None (the model's default dataset) or, for a model without one, a dataset that fits."""
        from .planning import incompatibility
        from .registry import get_registry

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
        """Fit and predict exactly as the runner does, on a few samples, with seed ``SEED``.

        No hook fires: the kit's tiny runs are not runs any other plugin should hear about.
        """
        if name in self.runs and not fresh:
            return self.runs[name]
        import torch

        from .fitting import fit_model

        plan, splits = self._prepare(name)
        fitted = fit_model(plan, SEED, "cpu", splits.train, splits.test)
        state = {
            key: value.detach().clone() if isinstance(value, torch.Tensor) else value
            for key, value in fitted.model.state_dict().items()
        }
        losses = fitted.history.loss
        run = TinyRun(plan.dataset.spec.name, fitted.predictions, losses, state, len(splits.test))
        self.runs.setdefault(name, run)
        return run

    # -- datasets -----------------------------------------------------------------------------

    def check_dataset_spec(self, name: str) -> None:
        """The loader imports, and the primary metric is a registered metric of the same task."""
        from .registry import get_registry

        registry = get_registry()
        spec = registry.dataset(name).spec
        problems = _resolves(spec.loader, "loader")
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
        from .layout import data_dir, zoo_home

        spec = self._dataset(name)
        try:
            with _offline():
                splits = spec.load(data_dir(zoo_home()))
        except DataUnavailable as exc:
            if spec.offline:
                raise CheckFailed(f"declared offline=True but unavailable: {exc}") from exc
            raise CheckSkipped(f"{name} is not available here: {exc}") from exc
        _fail_on(split_problems(spec, splits, sizes=True))

    def has_transform(self, name: str) -> bool:
        from .registry import get_registry

        return get_registry().dataset(name).spec.transform is not None

    def check_dataset_transform(self, name: str) -> None:
        """The transform of each raw sample (a few, evenly spaced) is what the loader returns for it."""
        import torch

        from .errors import DataUnavailable, ZooError
        from .layout import data_dir, zoo_home
        from .specs import resolve
        from .transforms import bind

        spec = self._dataset(name)
        folder = data_dir(zoo_home())
        try:
            with _offline():
                splits = spec.load(folder)
                raw = resolve(spec.raw)(folder)
        except DataUnavailable as exc:
            raise CheckSkipped(f"{name} is not available here: {exc}") from exc
        try:
            transform = bind(spec, splits.transform_state)
        except ZooError as exc:
            raise CheckFailed(f"{exc}; the loader must return it in Splits(transform_state=...)") from exc
        if not (isinstance(raw, tuple) and len(raw) == 2):
            raise CheckFailed(f"raw() must return (train samples, test samples), got {type(raw).__name__}")
        problems = []
        for part, samples, split in (("train", raw[0], splits.train), ("test", raw[1], splits.test)):
            if len(samples) != len(split):
                problems.append(f"raw() gives {len(samples)} {part} samples but the loader {len(split)}")
                continue
            for row in torch.linspace(0, len(split) - 1, min(TINY_TEST, len(split))).round().long().tolist():
                got, expected = transform(samples[row]), split.x[row]
                if not isinstance(got, torch.Tensor) or tuple(got.shape) != tuple(expected.shape):
                    shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
                    problems.append(
                        f"the transform of {part} sample {row} is {shape}, not {tuple(expected.shape)}"
                    )
                    break
                difference = float((got.to(expected.dtype) - expected).abs().max())
                if not difference <= 1e-5:
                    problems.append(
                        f"the transform of raw {part} sample {row} differs from what the loader returns by "
                        f"{difference:.3g}: the loader and the transform must share their code"
                    )
                    break
        _fail_on(problems)

    # -- metrics ------------------------------------------------------------------------------

    def check_metric_spec(self, name: str) -> None:
        """The metric function imports."""
        from .registry import get_registry

        _fail_on(_resolves(get_registry().metrics[name].spec.fn, "fn"))

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
