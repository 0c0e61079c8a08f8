"""zoo_core: a plugin-based model zoo for PyTorch lessons.

The public surface is small: the pluggy markers, the spec records plugins return, the
data-split type, the run records hooks receive, and the errors a user can cause.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from .data import Split, Splits
from .errors import DataCorrupt, DataUnavailable, PluginError, UnknownName, ZooError
from .hookspecs import hookimpl, hookspec
from .runs import Estimator, RunConfig, RunResult
from .specs import DatasetSpec, MetricSpec, ModelSpec

try:
    __version__ = version("zoo-core")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"

__all__ = [
    "DataCorrupt",
    "DataUnavailable",
    "DatasetSpec",
    "Estimator",
    "MetricSpec",
    "ModelSpec",
    "PluginError",
    "RunConfig",
    "RunResult",
    "Split",
    "Splits",
    "UnknownName",
    "ZooError",
    "__version__",
    "hookimpl",
    "hookspec",
]
