"""The generic metrics the core registers for every plugin's models."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def accuracy(targets: np.ndarray, predictions: np.ndarray) -> float:
    return float((targets == predictions).mean())


def f1(targets: np.ndarray, predictions: np.ndarray) -> float:
    # Macro averaging weighs every class equally and means the same for two classes or ten.
    from sklearn.metrics import f1_score

    return float(f1_score(targets, predictions, average="macro"))


def mse(targets: np.ndarray, predictions: np.ndarray) -> float:
    import numpy as np

    return float(np.mean((targets - predictions) ** 2))


def rmse(targets: np.ndarray, predictions: np.ndarray) -> float:
    return mse(targets, predictions) ** 0.5


def mae(targets: np.ndarray, predictions: np.ndarray) -> float:
    import numpy as np

    return float(np.mean(np.abs(targets - predictions)))
