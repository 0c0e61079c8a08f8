"""Saving and loading a run's weights: plain tensors only, never arbitrary pickled objects."""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path
from typing import Any

from .errors import ZooError


def save_weights(state: dict[str, Any], path: Path) -> None:
    """Write ``state`` to ``path``; a full disk raises the OSError that says so.

    The file is serialised in memory first: torch's own file writer reports a full disk as a
    RuntimeError from C++, which could not be told apart from a bug.
    """
    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    try:
        path.write_bytes(buffer.getbuffer())
    except OSError:
        path.unlink(missing_ok=True)  # half a weights file is worse than none
        raise


def load_weights(path: Path) -> dict[str, Any]:
    """Load a state dict (tensors by name) to the CPU; anything else at ``path`` is refused.

    ``weights_only=True`` restricts unpickling to tensors and plain containers, so a crafted
    ``weights.pt`` cannot execute anything when `zoo reproduce` or a user loads it. Only a
    regular file is opened, and without following links or blocking: a folder, a FIFO (which
    would wait forever for a writer), a device or a symbolic link in its place is refused.
    """
    import torch

    try:
        kind = _kind(os.lstat(path).st_mode)
    except FileNotFoundError:
        raise ZooError(f"weights file {path} is missing") from None
    except OSError as exc:
        raise ZooError(f"cannot read weights file {path}: {exc.strerror}") from None
    if kind != "file":
        raise ZooError(f"refusing to load {path}: it is {kind}, not a weights file")
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError as exc:  # replaced since the check above (a link now: ELOOP), or unreadable
        raise ZooError(f"cannot read weights file {path}: {exc.strerror}") from None
    with os.fdopen(descriptor, "rb") as file:
        kind = _kind(os.fstat(descriptor).st_mode)
        if kind != "file":
            raise ZooError(f"refusing to load {path}: it is {kind}, not a weights file")
        try:
            state = torch.load(file, map_location="cpu", weights_only=True)
        except OSError as exc:
            raise ZooError(f"cannot read weights file {path}: {exc.strerror or exc}") from None
        except Exception as exc:  # whatever a damaged or crafted file makes the unpickler raise
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise ZooError(f"refusing to load {path}: not a plain weights file ({first_line})") from None
    problem = _state_problem(state)
    if problem:
        raise ZooError(f"refusing to load {path}: it holds {problem}, not a state dict of tensors")
    return state


def _kind(mode: int) -> str:
    """What a file of ``mode`` is, in words ("file" for a regular file)."""
    for test, kind in (
        (stat.S_ISREG, "file"),
        (stat.S_ISLNK, "a symbolic link"),
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "a device"


def _state_problem(state: Any) -> str | None:
    """What makes ``state`` something other than tensors by name, or None."""
    import torch

    if not isinstance(state, dict):
        return f"a {type(state).__name__}"
    for name, value in state.items():
        if not isinstance(name, str):
            return f"a key {name!r} that is not a name"
        if not isinstance(value, torch.Tensor):
            return f"{name!r} = a {type(value).__name__}"
    return None
