"""The observer hooks of one run, called so that an observer's failure never costs a result.

Each plugin's implementation is called on its own. One that raises is reported once per run,
naming the plugin and the hook, and the failure is kept as a warning of the run; the other
observers still hear about the run, and the run goes on.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

from .plugins import LoadedPlugins, describe

Notify = Callable[[str], None]
OBSERVER_HOOKS = ("zoo_run_started", "zoo_epoch_finished", "zoo_run_finished")


class Observers:
    """The observer hooks for one run. ``Observers(None)`` observes nothing (the kit's tiny runs)."""

    def __init__(self, loaded: LoadedPlugins | None, notify: Notify = lambda message: None) -> None:
        self.loaded = loaded
        self.notify = notify
        self.warnings: list[str] = []
        self._failed: set[tuple[str, str]] = set()
        self._callers: dict[tuple[str, str], Any] = {}

    def started(self, config: Any) -> None:
        self._call("zoo_run_started", config=config)

    def epoch(self, config: Any, epoch: int, loss: float, validation: Mapping[str, float]) -> None:
        self._call("zoo_epoch_finished", config=config, epoch=epoch, loss=loss, validation=validation)

    def finished(self, config: Any, result: Any) -> None:
        self._call("zoo_run_finished", config=config, result=result)

    def _call(self, hook: str, **kwargs: Any) -> None:
        if self.loaded is None:
            return
        for plugin in self.loaded.implementers(hook):
            if (plugin, hook) in self._failed:
                continue  # reported once; a logger that failed at epoch 1 is not asked again
            try:
                self._caller(hook, plugin)(**kwargs)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # an observer's outage, even sys.exit(), never costs a result
                self._failed.add((plugin, hook))
                info = self.loaded.infos[plugin]
                line = (
                    f"plugin {plugin!r} ({info.distribution} {info.version}) failed in {hook}: "
                    f"{describe(exc)}"
                )
                self.warnings.append(line)
                self.notify(f"warning: {line}; the run goes on")

    def _caller(self, hook: str, plugin: str) -> Any:
        key = (hook, plugin)
        if key not in self._callers:
            assert self.loaded is not None
            self._callers[key] = self.loaded.caller(hook, plugin)
        return self._callers[key]
