"""The plugin manager: entry points loaded lazily, once per process, each on its own.

One plugin failing to import (or implementing a misspelled hook) is recorded as broken
instead of breaking the command, unless ``ZOO_STRICT_PLUGINS=1``. ``ZOO_PLUGINS=a,b``
loads only the named entry points (empty: none), so a broken plugin can be switched off.
``ZOO_TRACE=1`` prints every hook call to stderr.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import cache
from importlib.metadata import entry_points

import pluggy

from . import hookspecs
from .errors import PluginError

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

    @property
    def status(self) -> str:
        return "broken" if self.error else "ok"


@dataclass
class LoadedPlugins:
    manager: pluggy.PluginManager
    infos: dict[str, PluginInfo] = field(default_factory=dict)

    @property
    def broken(self) -> list[PluginInfo]:
        return [info for info in self.infos.values() if info.error]


def _selected_names() -> set[str] | None:
    value = os.environ.get("ZOO_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def _strict() -> bool:
    return os.environ.get("ZOO_STRICT_PLUGINS", "") not in ("", "0")


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".splitlines()[0]


def _hook_names(pm: pluggy.PluginManager, plugin: object) -> tuple[str, ...]:
    return tuple(sorted(caller.name for caller in pm.get_hookcallers(plugin) or ()))


@cache
def load_plugins() -> LoadedPlugins:
    """Build the plugin manager once per process."""
    from . import __version__, builtins

    pm = pluggy.PluginManager(hookspecs.PROJECT)
    pm.add_hookspecs(hookspecs)
    if os.environ.get("ZOO_TRACE", "") not in ("", "0"):
        pm.trace.root.setwriter(sys.stderr.write)
        pm.enable_tracing()

    loaded = LoadedPlugins(pm)
    pm.register(builtins, name=CORE_PLUGIN)
    loaded.infos[CORE_PLUGIN] = PluginInfo(CORE_PLUGIN, CORE_PLUGIN, __version__, _hook_names(pm, builtins))

    selected = _selected_names()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda ep: ep.name):
        if selected is not None and ep.name not in selected:
            continue
        dist = ep.dist.name if ep.dist else "?"
        version = ep.dist.version if ep.dist else "?"
        try:
            plugin = ep.load()
            pm.register(plugin, name=ep.name)
        except Exception as exc:  # a plugin's bug must not take the command down
            _record_broken(loaded, PluginInfo(ep.name, dist, version, error=_describe(exc)))
            continue
        try:
            pm.check_pending()  # earlier plugins passed, so a failure names this one
        except pluggy.PluginValidationError as exc:
            pm.unregister(plugin)
            _record_broken(loaded, PluginInfo(ep.name, dist, version, error=_describe(exc)))
            continue
        loaded.infos[ep.name] = PluginInfo(ep.name, dist, version, _hook_names(pm, plugin))
    return loaded


def _record_broken(loaded: LoadedPlugins, info: PluginInfo) -> None:
    if _strict():
        raise PluginError(
            f"plugin {info.name!r} ({info.distribution} {info.version}) is broken: {info.error}"
        )
    loaded.infos[info.name] = info


def mark_broken(name: str, exc: BaseException) -> None:
    """Record that a loaded plugin failed inside one of its hooks."""
    loaded = load_plugins()
    info = loaded.infos[name]
    plugin = loaded.manager.get_plugin(name)
    if plugin is not None:
        loaded.manager.unregister(plugin)
    _record_broken(loaded, PluginInfo(info.name, info.distribution, info.version, info.hooks, _describe(exc)))


def reset() -> None:
    """Forget the loaded plugins and the registry built from them (tests use this)."""
    from . import registry

    load_plugins.cache_clear()
    registry.get_registry.cache_clear()
