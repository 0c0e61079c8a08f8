"""Loading a plan's data: the dataset's own checks, and the planned fallback when it is unavailable."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from .data import split_problems
from .errors import DataUnavailable, PluginError
from .planning import Plan
from .registry import Entry
from .specs import DatasetSpec

Notify = Callable[[str], None]


def load_data(plan: Plan, data_dir: Path, notify: Notify = lambda message: None) -> tuple[Plan, Any]:
    """``(plan, splits)``, or ``(plan.fallback, its splits)`` when the dataset is unavailable."""
    try:
        return plan, checked_load(plan.dataset, data_dir)
    except DataUnavailable as exc:
        if plan.fallback is None:
            raise
        notify(
            f"{plan.dataset.spec.name} is not available ({exc}); running {plan.model.spec.name} "
            f"on {plan.fallback.dataset.spec.name}"
        )
        return plan.fallback, checked_load(plan.fallback.dataset, data_dir)


def checked_load(dataset: Entry[DatasetSpec], data_dir: Path) -> Any:
    """Load a dataset and refuse it, naming its plugin, unless it is what its spec declares."""
    splits = dataset.spec.load(data_dir)
    problems = split_problems(dataset.spec, splits)
    if problems:
        raise PluginError(
            f"plugin {dataset.plugin!r} gave dataset {dataset.spec.name!r} that does not match its "
            f"spec: {'; '.join(problems)}"
        )
    return splits
