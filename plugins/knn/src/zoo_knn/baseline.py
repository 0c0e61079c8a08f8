"""scikit-learn's KNeighborsClassifier behind the zoo's Estimator protocol, as a reference."""

from __future__ import annotations

import torch
from sklearn.neighbors import KNeighborsClassifier

from zoo_core import DatasetSpec


class SklearnKNN:
    """Fit and predict with scikit-learn on CPU NumPy copies; predictions go back to the input's device."""

    def __init__(self, *, k: int, metric: str, p: float) -> None:
        self.classifier = KNeighborsClassifier(n_neighbors=k, metric=metric, p=p)
        # What is saved as weights: the training set, empty until fit (the runner reads it before).
        self.x = torch.empty(0, 0)
        self.y = torch.empty(0, dtype=torch.int64)

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

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Fit on the training set a saved ``state_dict`` holds (for a loaded run)."""
        self.fit(state["x"], state["y"])


def build_sklearn_knn(dataset: DatasetSpec, *, k: int, metric: str, p: float) -> SklearnKNN:
    """The zoo's factory; scikit-learn learns the classes from the labels it is given."""
    return SklearnKNN(k=k, metric=metric, p=p)
