"""The generic metrics the core registers for every plugin's models."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np


def accuracy(targets: np.ndarray, predictions: np.ndarray) -> float:
    return float((targets == predictions).mean())


def f1(targets: np.ndarray, predictions: np.ndarray) -> float:
    """Macro-averaged F1, as scikit-learn's ``f1_score(average="macro")`` computes it.

    Macro averaging weighs every class equally and means the same for two classes or ten. The
    classes are those seen in the targets or the predictions; a class with no true and no
    predicted sample would be 0/0, and counts as 0 (scikit-learn's ``zero_division`` default).
    NumPy alone, because importing ``sklearn.metrics`` costs about two seconds per process.
    """
    import numpy as np

    classes, index = np.unique(np.concatenate([targets, predictions]), return_inverse=True)
    true, predicted = index[: len(targets)], index[len(targets) :]
    hits = np.bincount(true[true == predicted], minlength=len(classes))
    support = np.bincount(true, minlength=len(classes))
    chosen = np.bincount(predicted, minlength=len(classes))
    denominator = support + chosen
    scores = np.divide(2 * hits, denominator, out=np.zeros(len(classes)), where=denominator > 0)
    return float(scores.mean())


def mse(targets: np.ndarray, predictions: np.ndarray) -> float:
    import numpy as np

    return float(np.mean((targets - predictions) ** 2))


def rmse(targets: np.ndarray, predictions: np.ndarray) -> float:
    return mse(targets, predictions) ** 0.5


def mae(targets: np.ndarray, predictions: np.ndarray) -> float:
    import numpy as np

    return float(np.mean(np.abs(targets - predictions)))
