"""zoo_core: a plugin-based model zoo for PyTorch lessons.

The public surface is small: the pluggy markers, the spec records plugins return, the
data-split type, the run records hooks receive, a recorded run's row (``find_run``), and the
errors a user can cause.
"""

from __future__ import annotations

from .data import Split, Splits
from .errors import DataCorrupt, DataUnavailable, PluginError, UnknownName, ZooError
from .hookspecs import hookimpl, hookspec
from .records import find_run
from .runs import Estimator, RunConfig, RunResult
from .specs import DatasetSpec, MetricSpec, ModelSpec
from .version import __version__

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
    "find_run",
    "hookimpl",
    "hookspec",
]
