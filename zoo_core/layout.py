"""Where the zoo keeps things: the home folder, and the files of one run's folder.

::

    <home>/results.sqlite       the results database (store.py)
    <home>/data/                dataset files (or $ZOO_DATA)
    <home>/runs/<run id>/       one folder per run: config.json, metrics.json, weights.pt,
                                transform.json (fitted preprocessing), plots, error.txt for
                                a failed run, and INCOMPLETE until the run's row is recorded;
                                data-reference.json when the model's state is its training
                                data, kept by reference
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from . import environment
from .errors import ZooError

DATABASE = "results.sqlite"
# In a run folder: present until the run's row is recorded, so a killed run is easy to tell apart.
INCOMPLETE = "INCOMPLETE"
CONFIG = "config.json"
METRICS = "metrics.json"
WEIGHTS = "weights.pt"
# What the dataset's transform fitted on the training split, when it fitted anything.
TRANSFORM = "transform.json"
ERROR = "error.txt"
# Which state tensors are the run's training data, and of which dataset (checkpoints.save_state).
DATA_REFERENCE = "data-reference.json"


def zoo_home(override: str | os.PathLike[str] | None = None) -> Path:
    """``--home``, else ``ZOO_HOME``, else the per-user data folder."""
    if override:
        return checked_home(Path(override).expanduser())
    from_environment = environment.home()
    if from_environment is not None:
        return checked_home(from_environment)
    from platformdirs import user_data_dir

    return checked_home(Path(user_data_dir("zoo", appauthor=False)))


def checked_home(home: Path) -> Path:
    """``home``, once it is known to be a path the results database can keep.

    Run folders are stored as text, so a home whose name is not UTF-8 (bytes that the command
    line turned into surrogate escapes) is refused here, before anything is written.
    """
    text = str(home)
    if "\0" in text:
        raise ZooError(f"the zoo home {text!r} has a NUL character in it")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ZooError(
            f"the zoo home {text!r} is not valid UTF-8; the results database keeps paths as text, "
            "so give a home whose name is UTF-8"
        ) from None
    return home


def data_dir(home: Path) -> Path:
    """Dataset files: ``ZOO_DATA`` if set, else ``<home>/data``."""
    return environment.data() or home / "data"


def runs_dir(home: Path) -> Path:
    return home / "runs"


def database_path(home: Path) -> Path:
    return home / DATABASE


def run_folders(home: Path, prefix: str = "") -> list[Path]:
    """The run folders whose name starts with ``prefix``, matched literally (never as a pattern)."""
    try:
        entries = list(os.scandir(runs_dir(home)))
    except OSError:  # no runs folder yet, or one this user cannot list
        return []
    return sorted(
        Path(e.path) for e in entries if e.name.startswith(prefix) and e.is_dir(follow_symlinks=False)
    )


def incomplete_runs(home: Path, prefix: str = "") -> list[Path]:
    """Run folders (starting with ``prefix``) still marked INCOMPLETE: interrupted, killed or running."""
    return [folder for folder in run_folders(home, prefix) if (folder / INCOMPLETE).exists()]


def folder_bytes(folder: Path) -> int:
    """The bytes of the files under ``folder`` (links not followed), without its INCOMPLETE marker."""
    total = 0
    for root, _folders, files in os.walk(folder):
        for name in files:
            if name == INCOMPLETE and root == str(folder):
                continue
            with contextlib.suppress(OSError):  # removed while we counted
                total += os.lstat(os.path.join(root, name)).st_size
    return total
