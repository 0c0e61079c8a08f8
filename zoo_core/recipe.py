"""The core trainer's settings: their defaults, allowed values and limits.

These are the names a gradient-trained model's ``ModelSpec.trainer`` may set and ``--set`` may
change. They never reach a model's factory, and a model's own hyperparameters never use them.
"""

from __future__ import annotations

from typing import Any, Mapping

TRAINER_DEFAULTS: dict[str, Any] = {
    "epochs": 5,
    "batch_size": 64,
    "lr": 1e-3,
    "weight_decay": 0.0,
    "optimizer": "adam",
    # "onecycle" warms the learning rate up to ``lr`` and anneals it to near zero over the run.
    "schedule": "constant",
    # The share of the training set held out (seeded) to score the model on after each epoch; 0: none.
    "val_fraction": 0.1,
    # Stop once the validation score has not improved for this many epochs, keeping the best
    # epoch's weights; 0: run every epoch.
    "patience": 0,
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
    "val_fraction": (0.0, None),  # and below 1 (BELOW_ONE): something must be left to train on
    "patience": (0, 100_000),
}
POSITIVE = ("epochs", "batch_size", "lr")
BELOW_ONE = ("val_fraction",)

# Settings added after runs were recorded without them, and what those runs did instead: a stored
# run whose trainer lacks one trained with this value (on its whole training set, every epoch).
ADDED_LATER: dict[str, Any] = {"val_fraction": 0.0, "patience": 0}


def recorded_trainer(trainer: Mapping[str, Any]) -> dict[str, Any]:
    """A stored run's trainer settings as it ran, the settings added since it was recorded included."""
    return {**ADDED_LATER, **trainer} if trainer else {}
