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
    """Every model that fits ``dataset_name``, or every non-baseline model on its default dataset."""
    batch = Batch()
    if dataset_name is not None:
        dataset = registry.dataset(dataset_name).spec
        pairs = [(e, dataset_name) for e in registry.models.values()]
    else:
        pairs = [(e, None) for e in registry.models.values() if not e.spec.baseline]
    for entry, dataset in pairs:
        if dataset is not None:
            reason = incompatibility(entry.spec, registry.dataset(dataset).spec)
            if reason:
                batch.skipped.append((entry.spec.name, reason))
                continue
        elif not entry.spec.default_dataset:
            batch.skipped.append((entry.spec.name, "it has no default dataset; run it with --dataset"))
            continue
        try:
            plan = plan_run(registry, entry.spec.name, dataset, trainer_overrides_for(entry.spec, overrides))
        except ZooError as exc:
            batch.skipped.append((entry.spec.name, str(exc)))
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
