"""The lesson's data: scikit-learn's bundled breast-cancer set, split and scaled as the lesson does."""

from __future__ import annotations

from pathlib import Path

from zoo_core.data import Splits, from_numpy, standardize


def load_breast_cancer(data_dir: Path) -> Splits:
    """70/30 split with the lesson's ``random_state=42``, scaled with training statistics only.

    The data ships inside scikit-learn, so ``data_dir`` is not used.
    """
    from sklearn import datasets
    from sklearn.model_selection import train_test_split

    bunch = datasets.load_breast_cancer()
    x_train, x_test, y_train, y_test = train_test_split(
        bunch.data, bunch.target, test_size=0.3, random_state=42
    )
    x_train, x_test = standardize(x_train, x_test)
    return from_numpy(x_train, y_train, x_test, y_test, task="classification")
