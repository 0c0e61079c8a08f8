"""Argument types: one check per kind of command-line input, shared by every command.

argparse calls them while parsing, so a bad value is one line and exit code 2 before any
handler runs. Numbers are checked in :mod:`zoo_core.hparams` and files and folders, which
need the file system, in :mod:`zoo_core.paths`; these catch what a string alone shows.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from ..names import MAX_LENGTH


def name(value: str) -> str:
    """A model, dataset or plugin name: non-empty text no registered name could be longer than."""
    if not value.strip():
        raise argparse.ArgumentTypeError("a name cannot be empty")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise argparse.ArgumentTypeError(f"{value!r} is not valid UTF-8") from None
    if len(value) > MAX_LENGTH:
        raise argparse.ArgumentTypeError(
            f"{value[:20]!r}… is {len(value)} characters long; names have at most {MAX_LENGTH}"
        )
    return value


def path(value: str) -> Path:
    """A file or folder: non-empty UTF-8 text (``Path("")`` would quietly mean "here")."""
    from ..paths import problem

    why = problem(value)
    if why:
        raise argparse.ArgumentTypeError(why)
    return Path(value)


def file(value: str) -> Path:
    """A file to write: a path that does not end with a separator (``board/`` names a folder)."""
    if value.endswith(("/", os.sep)):
        raise argparse.ArgumentTypeError(
            f"{value!r} ends with {value[-1]!r}, so it names a folder; give a file name"
        )
    return path(value)
