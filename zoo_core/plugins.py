"""The plugin manager: entry points loaded lazily, once per process, each on its own.

One plugin failing to import (even with ``sys.exit()``), or implementing a misspelled hook
(caught with pluggy's ``check_pending``), is recorded as broken instead of breaking the
command; with ``ZOO_STRICT_PLUGINS=1``, using the registry is then an error. A ``zoo_*``
function that lacks ``@hookimpl`` never runs; it is reported as a warning. ``ZOO_PLUGINS=a,b``
loads only the named entry points (empty: none), so a broken plugin can be switched off.
``ZOO_TRACE=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import inspect
import sys
from dataclasses import dataclass, field, replace
from functools import cache
from importlib.metadata import entry_points
from typing import Any

import pluggy

from . import environment, hookspecs

ENTRY_POINT_GROUP = "zoo"
CORE_PLUGIN = "zoo-core"


@dataclass(frozen=True)
class PluginInfo:
    """What `zoo plugins` shows about one plugin."""

    name: str
    distribution: str
    version: str
    hooks: tuple[str, ...] = ()
    error: str = ""
    warnings: tuple[str, ...] = ()

    @property
    def status(self) -> str:
        return "broken" if self.error else "warning" if self.warnings else "ok"


@dataclass(eq=False)
class LoadedPlugins:
    """The plugin manager and what is known about each plugin it tried to load."""

    manager: pluggy.PluginManager
    infos: dict[str, PluginInfo] = field(default_factory=dict)

    @property
    def broken(self) -> list[PluginInfo]:
        return [info for info in self.infos.values() if info.error]

    def mark_broken(self, name: str, exc: BaseException) -> None:
        """Record that a loaded plugin failed inside one of its hooks, and stop calling it."""
        plugin = self.manager.get_plugin(name)
        if plugin is not None:
            self.manager.unregister(plugin)
        self._record(replace(self.infos[name], error=describe(exc)))

    def warn(self, name: str, message: str) -> None:
        """Attach a warning to a plugin that otherwise works."""
        info = self.infos[name]
        self.infos[name] = replace(info, warnings=(*info.warnings, message))

    def caller(self, hook_name: str, plugin_name: str) -> Any:
        """A caller for one plugin's implementation of ``hook_name`` only (tracing still applies)."""
        others = [
            impl.plugin
            for impl in getattr(self.manager.hook, hook_name).get_hookimpls()
            if impl.plugin_name != plugin_name
        ]
        return self.manager.subset_hook_caller(hook_name, others)

    def implementers(self, hook_name: str) -> list[str]:
        """The plugins implementing ``hook_name``, sorted by name (never by load order)."""
        return sorted(impl.plugin_name for impl in getattr(self.manager.hook, hook_name).get_hookimpls())

    def _record(self, info: PluginInfo) -> None:
        self.infos[info.name] = info


def describe(exc: BaseException) -> str:
    """One line saying what an exception was."""
    text = f"{type(exc).__name__}: {exc}".splitlines()
    return text[0] if text else type(exc).__name__


def _hook_names(pm: pluggy.PluginManager, plugin: object) -> tuple[str, ...]:
    return tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))


def unmarked_hooks(pm: pluggy.PluginManager, plugin: object) -> list[str]:
    """``zoo_*`` functions of ``plugin`` that lack ``@hookimpl``, so pluggy never calls them."""
    return [
        f"{attr} looks like a hook but lacks @zoo_core.hookimpl, so it never runs"
        for attr in sorted(dir(plugin))
        if attr.startswith("zoo_")
        and inspect.isroutine(getattr(plugin, attr, None))
        and pm.parse_hookimpl_opts(plugin, attr) is None
    ]


@cache
def load_plugins() -> LoadedPlugins:
    """Build the plugin manager once per process."""
    from . import builtins
    from .version import __version__

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if environment.trace():
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()

    loaded = LoadedPlugins(pm)
    pm.register(builtins, name=CORE_PLUGIN)
    loaded.infos[CORE_PLUGIN] = PluginInfo(CORE_PLUGIN, CORE_PLUGIN, __version__, _hook_names(pm, builtins))

    selected = environment.selected_plugins()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        if selected is not None and ep.name not in selected:
            continue
        info = PluginInfo(ep.name, ep.dist.name if ep.dist else "?", ep.dist.version if ep.dist else "?")
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a plugin's bug, even sys.exit(), must not take the command down
            loaded._record(replace(info, error=describe(exc)))
            continue
        try:
            pm.check_pending()  # earlier plugins passed, so a failure names this one
        except pluggy.PluginValidationError as exc:
            pm.unregister(plugin)
            loaded._record(replace(info, error=describe(exc)))
            continue
        loaded.infos[ep.name] = replace(
            info, hooks=_hook_names(pm, plugin), warnings=tuple(unmarked_hooks(pm, plugin))
        )
    return loaded


def reset() -> None:
    """Forget the loaded plugins, and with them the registry built from them."""
    load_plugins.cache_clear()
