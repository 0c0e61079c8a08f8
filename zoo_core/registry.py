"""Name -> spec for every model, dataset and metric, with the errors a lookup can raise."""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from functools import cache
from typing import Generic, Iterable, TypeVar, Union

from .errors import PluginError, UnknownName
from .plugins import load_plugins, mark_broken
from .specs import TASKS, DatasetSpec, MetricSpec, ModelSpec

Spec = TypeVar("Spec", ModelSpec, DatasetSpec, MetricSpec)
AnySpec = Union[ModelSpec, DatasetSpec, MetricSpec]

# The metric that ranks a dataset's leaderboard when the dataset does not name one.
DEFAULT_PRIMARY_METRIC = {"classification": "accuracy", "forecasting": "mse"}


@dataclass(frozen=True)
class Entry(Generic[Spec]):
    spec: Spec
    plugin: str  # entry-point name, or "zoo-core"


def suggest(name: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, list(choices), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


class Registry:
    def __init__(self) -> None:
        self.models: dict[str, Entry[ModelSpec]] = {}
        self.datasets: dict[str, Entry[DatasetSpec]] = {}
        self.metrics: dict[str, Entry[MetricSpec]] = {}

    def add(self, kind: str, entry: Entry) -> None:
        table = getattr(self, kind)
        name = entry.spec.name
        if name in table:
            infos = load_plugins().infos
            first, second = infos[table[name].plugin], infos[entry.plugin]
            raise PluginError(
                f"{kind[:-1]} {name!r} is registered by both {first.distribution} {first.version} "
                f"and {second.distribution} {second.version}; uninstall one or choose with ZOO_PLUGINS"
            )
        table[name] = entry

    def model(self, name: str) -> Entry[ModelSpec]:
        return self._lookup("model", self.models, name)

    def dataset(self, name: str) -> Entry[DatasetSpec]:
        return self._lookup("dataset", self.datasets, name)

    def _lookup(self, kind: str, table: dict[str, Entry], name: str) -> Entry:
        if name not in table:
            raise UnknownName(f"unknown {kind} {name!r}{suggest(name, table)}")
        return table[name]

    def lookup_any(self, name: str) -> Entry[AnySpec]:
        for table in (self.models, self.datasets, self.metrics):
            if name in table:
                return table[name]
        everything = [*self.models, *self.datasets, *self.metrics]
        raise UnknownName(f"no model, dataset or metric is called {name!r}{suggest(name, everything)}")

    def metrics_for(self, task: str) -> list[MetricSpec]:
        return [e.spec for _, e in sorted(self.metrics.items()) if e.spec.task == task]

    def datasets_for(self, task: str) -> list[DatasetSpec]:
        return [e.spec for _, e in sorted(self.datasets.items()) if e.spec.task == task]

    def primary_metric(self, dataset: str, task: str) -> MetricSpec | None:
        """The metric that ranks ``dataset``: its own choice if installed, else its task's default."""
        installed = self.datasets.get(dataset)
        name = (installed.spec.primary_metric if installed else None) or DEFAULT_PRIMARY_METRIC.get(task)
        entry = self.metrics.get(name or "")
        return entry.spec if entry else None


HOOK_TABLES = (
    ("zoo_models", "models", ModelSpec),
    ("zoo_datasets", "datasets", DatasetSpec),
    ("zoo_metrics", "metrics", MetricSpec),
)


@cache
def get_registry() -> Registry:
    """Ask every plugin for its specs, attributing each to the plugin that returned it."""
    loaded = load_plugins()
    registry = Registry()
    for hook_name, kind, spec_type in HOOK_TABLES:
        hook = getattr(loaded.manager.hook, hook_name)
        owners = sorted(impl.plugin_name for impl in hook.get_hookimpls())
        for owner in owners:
            # Calling one plugin at a time through pluggy keeps tracing and tells who returned what.
            others = [loaded.manager.get_plugin(name) for name in owners if name != owner]
            try:
                specs = [
                    spec
                    for result in loaded.manager.subset_hook_caller(hook_name, others)()
                    for spec in result
                ]
                for spec in specs:
                    if not isinstance(spec, spec_type):
                        raise TypeError(
                            f"{hook_name} returned {type(spec).__name__}, not {spec_type.__name__}"
                        )
                    if spec.task not in TASKS:
                        raise ValueError(
                            f"{spec.name!r} has unknown task {spec.task!r}; known: {', '.join(TASKS)}"
                        )
            except PluginError:
                raise
            except Exception as exc:  # a plugin's bug is isolated like an import error
                mark_broken(owner, exc)
                continue
            for spec in specs:
                registry.add(kind, Entry(spec, owner))
    # A plugin that broke in a later hook keeps none of what it registered earlier.
    broken = {info.name for info in loaded.broken}
    for _, kind, _ in HOOK_TABLES:
        table = getattr(registry, kind)
        setattr(registry, kind, {n: e for n, e in sorted(table.items()) if e.plugin not in broken})
    return registry
