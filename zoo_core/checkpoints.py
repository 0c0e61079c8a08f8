"""Saving and loading a run's weights: plain tensors only, never arbitrary pickled objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import ZooError


def save_weights(state: dict[str, Any], path: Path) -> None:
    import torch

    torch.save(state, path)


def load_weights(path: Path) -> dict[str, Any]:
    """Load a state dict to the CPU; a file that would need to run code to load is refused.

    ``weights_only=True`` restricts unpickling to tensors and plain containers, so a crafted
    ``weights.pt`` cannot execute anything when `zoo reproduce` or a user loads it.
    """
    import pickle

    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise ZooError(f"weights file {path} is missing") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, ValueError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ZooError(f"refusing to load {path}: not a plain weights file ({first_line})") from None
