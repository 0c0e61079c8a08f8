"""Name -> spec for every model, dataset and metric, with the errors a lookup can raise.

Building the registry asks every plugin for its specs, one plugin at a time, and checks each
spec as it enters. A plugin can only hurt itself:

- a hook that raises (even ``SystemExit``) marks its plugin broken, and that plugin keeps
  none of its specs;
- a spec with problems (:meth:`ModelSpec.problems` and friends, or defaults the core's own
  validation refuses) is refused with one warning line; the plugin's other specs load;
- a name registered twice is a clash. zoo-core's own names win over a plugin's; between two
  plugins the name is withdrawn from both. Either way one warning line names both
  distributions.

With ``ZOO_STRICT_PLUGINS=1`` each of these is an error instead, wherever the registry is
used; `zoo plugins` still shows them all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Generic, TypeVar

from . import environment
from .errors import PluginError, UnknownName, ZooError
from .names import suggest
from .plugins import CORE_PLUGIN, LoadedPlugins, describe, load_plugins
from .specs import AnySpec, DatasetSpec, MetricSpec, ModelSpec

Spec = TypeVar("Spec", ModelSpec, DatasetSpec, MetricSpec)

# The metric that ranks a dataset's leaderboard when the dataset does not name one.
DEFAULT_PRIMARY_METRIC = {"classification": "accuracy", "forecasting": "mse"}

HOOK_TABLES = (
    ("zoo_models", "models", ModelSpec),
    ("zoo_datasets", "datasets", DatasetSpec),
    ("zoo_metrics", "metrics", MetricSpec),
)


@dataclass(frozen=True)
class Entry(Generic[Spec]):
    spec: Spec
    plugin: str  # entry-point name, or "zoo-core"


@dataclass
class Registry:
    models: dict[str, Entry[ModelSpec]] = field(default_factory=dict)
    datasets: dict[str, Entry[DatasetSpec]] = field(default_factory=dict)
    metrics: dict[str, Entry[MetricSpec]] = field(default_factory=dict)
    # One line per refused spec or clash, for the command to print, and the same lines by plugin.
    warnings: list[str] = field(default_factory=list)
    refusals: dict[str, list[str]] = field(default_factory=dict)

    def model(self, name: str) -> Entry[ModelSpec]:
        return self._lookup("model", self.models, name)

    def dataset(self, name: str) -> Entry[DatasetSpec]:
        return self._lookup("dataset", self.datasets, name)

    def metric(self, name: str) -> Entry[MetricSpec]:
        return self._lookup("metric", self.metrics, name)

    def _lookup(self, kind: str, table: dict[str, Entry], name: str) -> Entry:
        if name not in table:
            raise UnknownName(f"unknown {kind} {name!r}{suggest(name, table)}{_filtered_note()}")
        return table[name]

    def lookup_any(self, name: str) -> Entry[AnySpec]:
        for table in (self.models, self.datasets, self.metrics):
            if name in table:
                return table[name]
        everything = [*self.models, *self.datasets, *self.metrics]
        raise UnknownName(
            f"no model, dataset or metric is called {name!r}{suggest(name, everything)}{_filtered_note()}"
        )

    def metrics_for(self, task: str) -> list[Entry[MetricSpec]]:
        return [e for _, e in sorted(self.metrics.items()) if e.spec.task == task]

    def datasets_for(self, task: str) -> list[DatasetSpec]:
        return [e.spec for _, e in sorted(self.datasets.items()) if e.spec.task == task]

    def primary_metric(self, dataset: str, task: str) -> MetricSpec | None:
        """The metric that ranks ``dataset``: its own choice if installed, else its task's default."""
        installed = self.datasets.get(dataset)
        name = (installed.spec.primary_metric if installed else None) or DEFAULT_PRIMARY_METRIC.get(task)
        entry = self.metrics.get(name or "")
        return entry.spec if entry else None


def _filtered_note() -> str:
    selected = environment.selected_plugins()
    if selected is None:
        return ""
    shown = ",".join(sorted(selected))
    return f" (ZOO_PLUGINS={shown!r} is set, so only those plugins are loaded)"


def get_registry(strict: bool | None = None) -> Registry:
    """The registry of the loaded plugins, built once per plugin manager.

    ``strict`` (default: ``ZOO_STRICT_PLUGINS``) makes a broken plugin, a refused spec or a
    clash a :class:`PluginError` instead of a warning.
    """
    loaded = load_plugins()
    registry = _build(loaded)
    if environment.strict_plugins() if strict is None else strict:
        problems = [
            f"plugin {i.name!r} ({i.distribution} {i.version}) is broken: {i.error}" for i in loaded.broken
        ] + registry.warnings
        if problems:
            raise PluginError(f"{problems[0]} (ZOO_STRICT_PLUGINS is set)")
    return registry


@lru_cache(maxsize=1)
def _build(loaded: LoadedPlugins) -> Registry:
    registry = Registry()
    offered: dict[str, dict[str, list[Entry]]] = {kind: {} for _, kind, _ in HOOK_TABLES}

    def report(line: str, plugins: tuple[str, ...], message: str | None = None) -> None:
        """One warning line for the command; the plugins' own status gets ``message`` (or the line)."""
        registry.warnings.append(line)
        for plugin in plugins:
            loaded.warn(plugin, message or line)
            registry.refusals.setdefault(plugin, []).append(message or line)

    def refuse(plugin: str, message: str) -> None:
        info = loaded.infos[plugin]
        report(f"plugin {plugin!r} ({info.distribution} {info.version}): {message}", (plugin,), message)

    for hook_name, kind, spec_type in HOOK_TABLES:
        for owner in loaded.implementers(hook_name):
            try:
                returned = [spec for result in loaded.caller(hook_name, owner)() for spec in result]
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # a plugin's bug is isolated like an import error
                loaded.mark_broken(owner, exc)
                continue
            for spec in returned:
                if not isinstance(spec, spec_type):
                    refuse(owner, f"{hook_name} returned {type(spec).__name__}, not {spec_type.__name__}")
                    continue
                problems = _problems(spec)
                if problems:
                    refuse(owner, f"{kind[:-1]} {spec.name!r} refused: {'; '.join(problems)}")
                    continue
                offered[kind].setdefault(spec.name, []).append(Entry(spec, owner))

    broken = {info.name for info in loaded.broken}  # a plugin broken in a later hook keeps nothing
    for _, kind, _ in HOOK_TABLES:
        table = getattr(registry, kind)
        for name, entries in sorted(offered[kind].items()):
            entries = [e for e in entries if e.plugin not in broken]
            if len(entries) == 1:
                table[name] = entries[0]
            elif entries:
                winner, line = _resolve_clash(loaded, kind[:-1], name, entries)
                report(line, tuple(e.plugin for e in entries))
                if winner is not None:
                    table[name] = winner
    return registry


def _problems(spec: AnySpec) -> list[str]:
    """The spec's own checks, then, for a model, whether the core accepts its defaults."""
    try:
        problems = spec.problems()
    except Exception as exc:  # fields so odd that checking them raised: that is the problem
        return [f"its fields cannot be checked ({describe(exc)})"]
    if problems or not isinstance(spec, ModelSpec):
        return problems
    from .hparams import resolve_settings

    for dataset in (None, *sorted(spec.dataset_defaults)):
        try:
            resolve_settings(spec, {}, dataset)
        except ZooError as exc:
            where = f" on {dataset}" if dataset else ""
            return [f"its defaults{where} are refused: {exc}"]
    return []


def _resolve_clash(
    loaded: LoadedPlugins, kind: str, name: str, entries: list[Entry]
) -> tuple[Entry | None, str]:
    """zoo-core keeps its own names; two plugins' clashing name is withdrawn from both.

    Returns the entry that stays, if any, and the one line that explains the clash.
    """
    owners = " and ".join(
        f"{loaded.infos[e.plugin].distribution} {loaded.infos[e.plugin].version}" for e in entries
    )
    core = next((e for e in entries if e.plugin == CORE_PLUGIN), None)
    if core is not None:
        return core, f"{kind} {name!r} is registered by both {owners}; zoo-core's own is kept"
    return None, (
        f"{kind} {name!r} is registered by both {owners}; withdrawn from both "
        "(uninstall one, or choose with ZOO_PLUGINS)"
    )
