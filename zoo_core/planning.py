"""Planning: which model on which dataset with which settings, checked before anything heavy runs.

A run is planned once. The plan carries everything the run owner needs, including the
fallback to use if the model's default dataset turns out to be unavailable, so nothing is
planned again later.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import ZooError
from .hparams import Settings, resolve_settings
from .names import suggest
from .recipe import TRAINER_DEFAULTS
from .registry import Entry, Registry
from .specs import DatasetSpec, ModelSpec


def incompatibility(model: ModelSpec, dataset: DatasetSpec) -> str | None:
    """Why ``model`` cannot run on ``dataset``, or None when it can."""
    if model.task != dataset.task:
        return f"{model.name} is a {model.task} model but {dataset.name} is a {dataset.task} dataset"
    wanted = model.input_shape
    if wanted is None:
        return None
    got = dataset.input_shape
    if len(wanted) != len(got) or any(w is not None and w != g for w, g in zip(wanted, got, strict=True)):
        shape = "×".join("*" if w is None else str(w) for w in wanted)
        return f"{model.name} needs inputs shaped {shape} but {dataset.name} gives {'×'.join(map(str, got))}"
    return None


@dataclass(frozen=True)
class Plan:
    """A validated request: which model on which dataset, with which settings.

    ``fallback`` is the plan to run instead when the dataset is unavailable: planned at the
    same time, and only when the user did not name the dataset.
    """

    model: Entry[ModelSpec]
    dataset: Entry[DatasetSpec]
    settings: Settings
    fallback: Plan | None = None

    @property
    def name(self) -> str:
        return f"{self.model.spec.name} on {self.dataset.spec.name}"


def plan_run(
    registry: Registry, model_name: str, dataset_name: str | None, overrides: Mapping[str, Any]
) -> Plan:
    """Check every user input before anything heavy happens."""
    model = registry.model(model_name)
    name = dataset_name or model.spec.default_dataset
    if name is None:
        choices = ", ".join(d.name for d in registry.datasets_for(model.spec.task)) or "none installed"
        raise ZooError(
            f"{model_name} has no default dataset; pass --dataset (for {model.spec.task}: {choices})"
        )
    if dataset_name is None and name not in registry.datasets:
        raise ZooError(
            f"{model_name}'s default dataset {name!r} is not installed; install the plugin "
            f"that provides it or pass --dataset"
        )
    fallback = None
    backup = model.spec.fallback_dataset
    if dataset_name is None and backup in registry.datasets:
        fallback = _plan(registry, model, backup, overrides)
    return _plan(registry, model, name, overrides, fallback)


def _plan(
    registry: Registry,
    model: Entry[ModelSpec],
    dataset_name: str,
    overrides: Mapping[str, Any],
    fallback: Plan | None = None,
) -> Plan:
    dataset = registry.dataset(dataset_name)
    reason = incompatibility(model.spec, dataset.spec)
    if reason:
        raise ZooError(reason)
    settings = resolve_settings(model.spec, overrides, dataset.spec.name)
    return Plan(model, dataset, settings, fallback)


def trainer_overrides_for(model: ModelSpec, overrides: Mapping[str, Any]) -> dict[str, Any]:
    """``overrides`` without the trainer's settings when ``model`` does not train by gradient descent.

    For a batch of models (``zoo run --all --epochs 1``): trainer settings apply to the models
    that train, and the others run with their own settings instead of being skipped.
    """
    if model.gradient:
        return dict(overrides)
    return {k: v for k, v in overrides.items() if k not in TRAINER_DEFAULTS or k in model.defaults}


@dataclass(frozen=True)
class Batch:
    """The plans of ``zoo run --all``, and the models left out with the reason why."""

    plans: list[Plan] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)


def plan_all(registry: Registry, dataset_name: str | None, overrides: Mapping[str, Any]) -> Batch:
    """Every model that fits ``dataset_name``, or every non-baseline model on its default dataset.

    A setting applies to the models that have it (the trainer's, to the models that train); a
    model without it is skipped, with the reason. A value that a model having the setting refuses
    (out of range, of the wrong type, not among its choices), or a setting no model has, is bad
    input for the whole batch, as it is for one model: a ZooError before anything runs.
    """
    if dataset_name is not None:
        registry.dataset(dataset_name)  # an unknown name is refused here, with a suggestion
        pairs = [(e, dataset_name) for e in registry.models.values()]
    else:
        pairs = [(e, None) for e in registry.models.values() if not e.spec.baseline]
    known = {name for entry, _ in pairs for name in entry.spec.setting_names()}
    for key in overrides:
        if key not in known:
            raise ZooError(f"no model has a setting {key!r}{suggest(key, known)}")
    batch = Batch()
    for entry, dataset in pairs:
        spec = entry.spec
        if dataset is not None:
            reason = incompatibility(spec, registry.dataset(dataset).spec)
            if reason:
                batch.skipped.append((spec.name, reason))
                continue
        elif not spec.default_dataset:
            batch.skipped.append((spec.name, "it has no default dataset; run it with --dataset"))
            continue
        own = trainer_overrides_for(spec, overrides)
        missing = sorted(set(own) - spec.setting_names())
        if missing:
            batch.skipped.append((spec.name, f"it has no setting {', '.join(map(repr, missing))}"))
            continue
        try:
            resolve_settings(spec, own, dataset or spec.default_dataset)
        except ZooError as exc:
            raise ZooError(f"{spec.name}: {exc}") from None
        try:
            plan = plan_run(registry, spec.name, dataset, own)
        except ZooError as exc:  # its dataset is not installed, or does not fit it
            batch.skipped.append((spec.name, str(exc)))
            continue
        batch.plans.append(plan)
    return batch


def plan_baselines(registry: Registry, datasets_used: list[str], overrides: Mapping[str, Any]) -> Batch:
    """Each baseline on each dataset already run that it fits, so every table has a floor.

    A baseline takes the settings it has and ignores the others: `--set hidden=4` is meant for
    the models that have a ``hidden``, and must not cost a table its floor.
    """
    batch = Batch()
    for entry in registry.models.values():
        if not entry.spec.baseline:
            continue
        own = {k: v for k, v in overrides.items() if k in entry.spec.setting_names()}
        for dataset in sorted(set(datasets_used)):
            if incompatibility(entry.spec, registry.dataset(dataset).spec) is not None:
                continue
            try:
                plan = plan_run(registry, entry.spec.name, dataset, own)
            except ZooError as exc:
                batch.skipped.append((entry.spec.name, str(exc)))
                continue
            batch.plans.append(plan)
    return batch
