"""scikit-learn's KNeighborsClassifier behind the zoo's Estimator protocol, as a reference."""

from __future__ import annotations

from typing import Any

import torch

from zoo_core import DatasetSpec, ZooError

from .model import METRICS


class SklearnKNN:
    """Fit and predict with scikit-learn on CPU NumPy copies; predictions go back to the input's device."""

    def __init__(self, *, k: int, metric: str, p: float) -> None:
        from sklearn.neighbors import KNeighborsClassifier

        if metric not in METRICS:
            raise ZooError(f"sklearn-knn: unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
        self.classifier: Any = KNeighborsClassifier(n_neighbors=k, metric=metric, p=p)

    def fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Fit the scikit-learn model; it has no loss history."""
        self.x = x.flatten(1)
        self.y = y
        self.classifier.fit(self.x.cpu().numpy(), y.cpu().numpy())

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Labels of the queries ``x``, on their device."""
        labels = self.classifier.predict(x.flatten(1).cpu().numpy())
        return torch.as_tensor(labels, device=x.device)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"x": self.x, "y": self.y}


def build_sklearn_knn(dataset: DatasetSpec, *, k: int, metric: str, p: float) -> SklearnKNN:
    """The zoo's factory; scikit-learn learns the classes from the labels it is given."""
    return SklearnKNN(k=k, metric=metric, p=p)
