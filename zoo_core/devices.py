"""Choosing the device a run uses."""

from __future__ import annotations

from .errors import ZooError

DEVICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(name: str) -> str:
    """``auto`` picks CUDA, then MPS, then CPU; an explicit device must be present."""
    import torch

    available = {
        "cuda": torch.cuda.is_available(),
        "mps": hasattr(torch.backends, "mps") and torch.backends.mps.is_available(),
        "cpu": True,
    }
    if name == "auto":
        return next(device for device in ("cuda", "mps", "cpu") if available[device])
    if name not in available:
        raise ZooError(f"unknown device {name!r}; choose one of {', '.join(DEVICES)}")
    if not available[name]:
        raise ZooError(f"device {name!r} is not available on this machine; use --device auto or cpu")
    return name
