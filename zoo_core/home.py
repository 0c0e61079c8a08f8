"""Where the zoo keeps its results, run folders and data."""

from __future__ import annotations

import os
from pathlib import Path


def zoo_home(override: str | os.PathLike[str] | None = None) -> Path:
    """``--home``, else ``ZOO_HOME``, else the per-user data folder."""
    if override:
        return Path(override).expanduser()
    if os.environ.get("ZOO_HOME"):
        return Path(os.environ["ZOO_HOME"]).expanduser()
    from platformdirs import user_data_dir

    return Path(user_data_dir("zoo", appauthor=False))


def data_dir(home: Path) -> Path:
    """Dataset files: ``ZOO_DATA`` if set, else ``<home>/data``."""
    return Path(os.environ["ZOO_DATA"]).expanduser() if os.environ.get("ZOO_DATA") else home / "data"


def runs_dir(home: Path) -> Path:
    return home / "runs"


def database_path(home: Path) -> Path:
    return home / "results.sqlite"
