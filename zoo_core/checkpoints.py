"""Saving and loading a run's weights: plain tensors only, never arbitrary pickled objects.

A state tensor that is the run's training data is kept as a reference to the dataset instead
(:func:`save_state`), and read back from the dataset when the run is loaded (:func:`load_state`).
"""

from __future__ import annotations

import io
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from .errors import ZooError
from .layout import DATA_REFERENCE, WEIGHTS

if TYPE_CHECKING:
    from .data import Split


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


# An estimator whose state is its training data (KNN) keeps a reference to the data instead of a
# copy: its run folder stays small, and loading the run reads the dataset again. These are the
# ways a state tensor can be that data, each from the training split.
VIEWS: dict[str, Callable[[Split], Any]] = {
    "train.x": lambda split: split.x,
    "train.x flattened": lambda split: split.x.flatten(1),  # rows of features, as KNN keeps them
    "train.y": lambda split: split.y,
}


@dataclass(frozen=True)
class DataSource:
    """The data a run trained on: its dataset's name and fingerprint (``provenance.fingerprint``)."""

    dataset: str
    fingerprint: str


@dataclass(frozen=True)
class SavedState:
    """What :func:`save_state` wrote: the state entries that are the training data, and how."""

    data_keys: tuple[str, ...]
    points: int  # the training points those entries hold; 0 when the state holds none
    referenced: bool  # kept as a reference (data-reference.json), not stored in weights.pt


def training_data_keys(state: Mapping[str, Any], train: Split) -> dict[str, str]:
    """The entries of ``state`` that hold exactly the training data, each with its view (VIEWS)."""
    import torch

    found = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            continue
        for view, make in VIEWS.items():
            data = make(train)
            if (
                value.shape == data.shape
                and value.dtype == data.dtype
                and torch.equal(value.detach().cpu(), data.cpu())
            ):
                found[key] = view
                break
    return found


def save_state(
    state: Mapping[str, Any], folder: Path, train: Split, source: DataSource, store_data: bool = False
) -> SavedState:
    """Save a trained model's ``state`` in ``folder``, its training data by reference.

    Entries that are the training data (``train``, from ``source``) are left out of the weights
    file and named in ``data-reference.json``, unless ``store_data`` asks for the copy.
    """
    views = training_data_keys(state, train)
    referenced = bool(views) and not store_data
    if referenced:
        tensors = {
            key: {"view": view, "shape": list(state[key].shape), "dtype": _dtype(state[key])}
            for key, view in sorted(views.items())
        }
        reference = {"dataset": source.dataset, "fingerprint": source.fingerprint, "tensors": tensors}
        (folder / DATA_REFERENCE).write_text(json.dumps(reference, indent=2) + "\n")
    kept = {key: value for key, value in state.items() if not (referenced and key in views)}
    save_weights(kept, folder / WEIGHTS)
    return SavedState(tuple(sorted(views)), len(train) if views else 0, referenced)


def load_state(folder: Path, training: Callable[[DataSource], Split]) -> dict[str, Any]:
    """The state saved in ``folder``, with any training data it refers to read back in.

    ``training(source)`` gives the training split of the referenced dataset; it is called only
    when there is a reference, and refuses (ZooError) when the data is not what the run used.
    """
    state = load_weights(folder / WEIGHTS)
    reference = read_data_reference(folder)
    if reference is None:
        return state
    train = training(DataSource(reference["dataset"], reference["fingerprint"]))
    for key, entry in reference["tensors"].items():
        tensor = VIEWS[entry["view"]](train)
        if list(tensor.shape) != entry["shape"] or _dtype(tensor) != entry["dtype"]:
            raise ZooError(
                f"{folder / DATA_REFERENCE} says {key!r} is {entry['view']} shaped {entry['shape']} "
                f"({entry['dtype']}), but the data gives {list(tensor.shape)} ({_dtype(tensor)})"
            )
        state[key] = tensor
    return state


def read_data_reference(folder: Path) -> dict[str, Any] | None:
    """``folder``'s data reference (dataset, fingerprint, tensors), or None when it has none."""
    path = folder / DATA_REFERENCE
    try:
        reference = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ZooError(f"cannot read {path}: {exc}") from None
    tensors = reference.get("tensors") if isinstance(reference, dict) else None
    if (
        not isinstance(tensors, dict)
        or not all(isinstance(reference.get(k), str) for k in ("dataset", "fingerprint"))
        or not all(
            isinstance(entry, dict)
            and entry.get("view") in VIEWS
            and isinstance(entry.get("shape"), list)
            and isinstance(entry.get("dtype"), str)
            for entry in tensors.values()
        )
    ):
        raise ZooError(f"{path} is not a data reference the zoo wrote")
    return reference


def _dtype(tensor: Any) -> str:
    return str(tensor.dtype).removeprefix("torch.")
