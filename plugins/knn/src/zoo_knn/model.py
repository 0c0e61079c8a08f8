"""K-nearest neighbours in torch: chunked distances, top-k neighbours, majority vote."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from zoo_core import DatasetSpec, ZooError

METRICS = ("euclidean", "manhattan", "minkowski")


def check_hyperparameters(model: str, *, k: int, metric: str, p: float) -> None:
    """Reject settings no KNN can use, as one-line user errors."""
    if metric not in METRICS:
        raise ZooError(f"{model}: unknown metric {metric!r}; choose one of {', '.join(METRICS)}")
    if k < 1 or p <= 0:
        raise ZooError(f"{model}: k must be >= 1 and p > 0 (got k={k}, p={p})")


class KNNClassifier:
    """Predict the majority label of the ``k`` nearest training points.

    Tie rules:

    - distance ties at the k-th place keep the training points with the lowest index. This is
      scikit-learn's choice when the tied points are the first it meets; with many ties its
      choice depends on its heap order, which its documentation leaves unspecified;
    - vote ties go to the smallest label, as in scikit-learn (``argmax`` returns the first maximum).

    Queries are processed ``chunk_size`` at a time, so memory stays at chunk x train points.
    """

    def __init__(self, num_classes: int, *, k: int, metric: str, p: float, chunk_size: int) -> None:
        check_hyperparameters("knn", k=k, metric=metric, p=p)
        if chunk_size < 1:
            raise ZooError(f"knn: chunk_size must be >= 1 (got {chunk_size})")
        self.num_classes = num_classes
        self.k = k
        self.metric = metric
        # cdist is used for manhattan (p=1) and minkowski; euclidean has its own matrix product.
        self.p = 1.0 if metric == "manhattan" else p
        self.chunk_size = chunk_size
        # The training set is the whole state; empty until fit (the runner reads it before).
        self.x = torch.empty(0, 0)
        self.y = torch.empty(0, dtype=torch.int64)

    def fit(self, x: torch.Tensor, y: torch.Tensor) -> None:
        """Remember the training set; KNN has nothing else to learn."""
        if self.k > len(x):
            raise ZooError(f"knn: k={self.k} is larger than the {len(x)} training points")
        self.x = x.flatten(1)
        self.y = y
        self.x_sq = self.x.pow(2).sum(1)

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Labels of the queries ``x``, on their device."""
        queries = x.flatten(1).to(self.x.dtype)
        # Every chunk's euclidean distances go to one buffer: allocating a fresh chunk x train
        # matrix per chunk costs more in page faults than the matrix product itself (on CPU).
        buffer = None
        if self.metric == "euclidean":
            buffer = queries.new_empty(min(self.chunk_size, len(queries)), len(self.x))
        labels = [
            self._vote(self._neighbours(self._distances(chunk, buffer)))
            for chunk in queries.split(self.chunk_size)
        ]
        return torch.cat(labels)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"x": self.x, "y": self.y}

    def _distances(self, queries: torch.Tensor, buffer: torch.Tensor | None) -> torch.Tensor:
        if buffer is not None:
            # -2 q.x + ||x||^2 in one matrix product. ||q||^2 and the square root are the same
            # or monotone for every training point of a query, so they cannot change its ranking.
            return torch.addmm(self.x_sq, queries, self.x.T, alpha=-2.0, out=buffer[: len(queries)])
        return torch.cdist(queries, self.x, p=self.p)

    def _neighbours(self, distances: torch.Tensor) -> torch.Tensor:
        # One spare neighbour shows whether the k-th place is tied. topk chooses arbitrarily among
        # equal distances, so those rows (rare) are redone with a stable sort, where the lowest
        # training indices win. (With k equal to the training size every row is redone, harmlessly.)
        best, index = distances.topk(min(self.k + 1, distances.shape[1]), dim=1, largest=False)
        tied = best[:, -1] == best[:, self.k - 1]
        index = index[:, : self.k]
        if tied.any():
            index[tied] = distances[tied].sort(dim=1, stable=True).indices[:, : self.k]
        return index

    def _vote(self, index: torch.Tensor) -> torch.Tensor:
        votes = F.one_hot(self.y[index], self.num_classes).sum(1)
        return votes.argmax(1)


def build_knn(dataset: DatasetSpec, *, k: int, metric: str, p: float, chunk_size: int) -> KNNClassifier:
    """The zoo's factory: size the vote by the dataset's classes."""
    return KNNClassifier(len(dataset.classes), k=k, metric=metric, p=p, chunk_size=chunk_size)
