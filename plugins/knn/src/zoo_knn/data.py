"""The lesson's data: scikit-learn's bundled breast-cancer set, split and scaled as the lesson does."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from zoo_core.data import Splits, from_numpy
from zoo_core.transforms import fit_standardization, standardize

if TYPE_CHECKING:
    import numpy as np


def raw_breast_cancer(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The lesson's 70/30 split (``random_state=42``) of the raw features: train rows, test rows."""
    x_train, x_test, _, _ = _lesson_split()
    return x_train, x_test


def load_breast_cancer(data_dir: Path) -> Splits:
    """70/30 split with the lesson's ``random_state=42``, scaled with training statistics only.

    The statistics are the dataset's transform state (``zoo_core.transforms.standardize``), so a
    run stores them and scales new rows alike. The data ships inside scikit-learn, so
    ``data_dir`` is not used.
    """
    x_train, x_test, y_train, y_test = _lesson_split()
    state = fit_standardization(x_train)
    splits = from_numpy(
        standardize(x_train, **state), y_train, standardize(x_test, **state), y_test, task="classification"
    )
    return replace(splits, transform_state=state)


def _lesson_split() -> list[np.ndarray]:
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    bunch = datasets.load_breast_cancer()
    return train_test_split(bunch.data, bunch.target, test_size=0.3, random_state=42)
