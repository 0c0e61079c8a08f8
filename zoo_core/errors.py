"""Errors a user can cause. The CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class ZooError(Exception):
    """Bad input or environment: shown as one line, never as a traceback."""


class UnknownName(ZooError):
    """A model, dataset, metric or plugin name that nothing registered."""


class DataUnavailable(ZooError):
    """A dataset's files are missing and could not be downloaded."""


class DataCorrupt(ZooError):
    """A dataset's files exist but cannot be read."""


class PluginError(ZooError):
    """A plugin is broken or collides with another one."""


class Diverged(FloatingPointError):
    """Training produced a NaN or infinite loss. Not bad input: the run is recorded as failed."""
