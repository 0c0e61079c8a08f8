"""The core trainer's settings: their defaults, allowed values and limits.

These are the names a gradient-trained model's ``ModelSpec.trainer`` may set and ``--set`` may
change. They never reach a model's factory, and a model's own hyperparameters never use them.
"""

from __future__ import annotations

from typing import Any

TRAINER_DEFAULTS: dict[str, Any] = {
    "epochs": 5,
    "batch_size": 64,
    "lr": 1e-3,
    "weight_decay": 0.0,
    "optimizer": "adam",
    # "onecycle" warms the learning rate up to ``lr`` and anneals it to near zero over the run.
    "schedule": "constant",
}
TRAINER_CHOICES: dict[str, tuple[str, ...]] = {
    "optimizer": ("adam", "adamw", "sgd"),
    "schedule": ("constant", "onecycle"),
}
# Inclusive limits. The lower limit of a count or a rate is zero, exclusive (POSITIVE), which an
# inclusive bound cannot say; the upper ones keep a typo such as lr=1e308 from reaching torch.
TRAINER_BOUNDS: dict[str, tuple[float | None, float | None]] = {
    "epochs": (None, 100_000),
    "batch_size": (None, 2**31 - 1),
    "lr": (None, 1e6),
    "weight_decay": (0.0, 1e6),
}
POSITIVE = ("epochs", "batch_size", "lr")
