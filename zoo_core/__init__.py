"""zoo_core: a plugin-based model zoo for PyTorch lessons.

Two small public surfaces, both listed in ``__all__``:

- for notebooks and scripts, the zoo as a library: ``list_models``, ``create_model``,
  ``load_dataset``, ``run``, ``sweep``, ``load_run``, ``runs``, ``leaderboard`` and friends (see
  docs/python-api.md);
- for plugin authors: the pluggy markers, the spec records plugins return, the data-split
  type, the run records hooks receive, a recorded run's row (``find_run``), and the errors
  a user can cause.

Importing it loads neither torch nor pandas; the functions load them when they need them.
"""

from __future__ import annotations

# The modules named like two functions below are imported first: a submodule imported for the
# first time would otherwise replace the function of the same name on this package.
from . import leaderboard as _leaderboard_module  # noqa: F401
from . import runs as _runs_module  # noqa: F401
from .api import (
    create_model,
    info,
    leaderboard,
    list_datasets,
    list_metrics,
    list_models,
    load_dataset,
    run,
    runs,
    sweep,
)
from .data import Split, Splits
from .errors import DataCorrupt, DataUnavailable, PluginError, UnknownName, ZooError
from .hookspecs import hookimpl, hookspec
from .records import find_run
from .runs import Estimator, RunConfig, RunResult
from .specs import DatasetSpec, MetricSpec, ModelSpec
from .trained import Prediction, TrainedModel, load_run
from .version import __version__

__all__ = [
    "DataCorrupt",
    "DataUnavailable",
    "DatasetSpec",
    "Estimator",
    "MetricSpec",
    "ModelSpec",
    "PluginError",
    "Prediction",
    "RunConfig",
    "RunResult",
    "Split",
    "Splits",
    "TrainedModel",
    "UnknownName",
    "ZooError",
    "__version__",
    "create_model",
    "find_run",
    "hookimpl",
    "hookspec",
    "info",
    "leaderboard",
    "list_datasets",
    "list_metrics",
    "list_models",
    "load_dataset",
    "load_run",
    "run",
    "runs",
    "sweep",
]
