"""K-nearest neighbours in torch: chunked distances, top-k neighbours, majority vote."""

from __future__ import annotations

import math

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


# The training points are scanned in blocks of this many. The k nearest points of a query lie
# in the k blocks holding its k smallest block minima, so topk runs on the block minima and on
# those few blocks only, instead of on every distance: on CPU that is most of predict's time.
BLOCK = 128


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
        points, dims = self.x.shape
        self.padded = -(-points // BLOCK) * BLOCK
        if self.metric == "euclidean":
            # Rows [-2x, ||x||^2] against queries [q, 1] give ||x||^2 - 2 q.x in one matrix
            # product, with no second pass to add the norms. ||q||^2 and the square root are the
            # same or monotone for every training point of a query, so they cannot change its
            # ranking. Padding rows have an infinite norm: they are never near anything.
            table = self.x.new_zeros(self.padded, dims + 1)
            table[:points, :dims] = self.x * -2
            table[:points, dims] = self.x.pow(2).sum(1)
            table[points:, dims] = math.inf
            self.table = table.T.contiguous()

    def predict(self, x: torch.Tensor) -> torch.Tensor:
        """Labels of the queries ``x``, on their device."""
        queries = x.flatten(1).to(self.x.dtype)
        # Every chunk's distances go to one buffer: allocating a fresh chunk x train matrix per
        # chunk costs more in page faults than the matrix product itself (on CPU). Its padding
        # columns stay infinite.
        buffer = queries.new_full((min(self.chunk_size, len(queries)), self.padded), math.inf)
        labels = [
            self._vote(self._neighbours(self._distances(chunk, buffer[: len(chunk)])))
            for chunk in queries.split(self.chunk_size)
        ]
        return torch.cat(labels)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"x": self.x, "y": self.y}

    def _distances(self, queries: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """(queries, padded train points) distances, or a monotone function of them, in ``out``."""
        if self.metric == "euclidean":
            ones = queries.new_ones(len(queries), 1)
            return torch.mm(torch.cat([queries, ones], dim=1), self.table, out=out)
        out[:, : len(self.x)] = torch.cdist(queries, self.x, p=self.p)
        return out

    def _neighbours(self, distances: torch.Tensor) -> torch.Tensor:
        # One spare neighbour shows whether the k-th place is tied. topk chooses arbitrarily among
        # equal distances, so those rows (rare) are redone with a stable sort, where the lowest
        # training indices win. (With k equal to the training size every row is redone, harmlessly.)
        keep = min(self.k + 1, len(self.x))
        blocks = distances.view(len(distances), -1, BLOCK)
        chosen = blocks.amin(dim=2).topk(min(keep, blocks.shape[1]), dim=1, largest=False).indices
        candidates = blocks.gather(1, chosen.unsqueeze(2).expand(-1, -1, BLOCK)).flatten(1)
        best, at = candidates.topk(keep, dim=1, largest=False)
        index = chosen.gather(1, at // BLOCK) * BLOCK + at % BLOCK
        tied = best[:, -1] == best[:, self.k - 1]
        index = index[:, : self.k]
        if tied.any():
            index[tied] = distances[tied].sort(dim=1, stable=True).indices[:, : self.k]
        return index

    def _vote(self, index: torch.Tensor) -> torch.Tensor:
        votes = F.one_hot(self.y[index], self.num_classes).sum(1)
        return votes.argmax(1)

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        """Fit on the training set a saved ``state_dict`` holds (for a loaded run)."""
        self.fit(state["x"], state["y"])


def build_knn(dataset: DatasetSpec, *, k: int, metric: str, p: float, chunk_size: int) -> KNNClassifier:
    """The zoo's factory: size the vote by the dataset's classes."""
    return KNNClassifier(len(dataset.classes), k=k, metric=metric, p=p, chunk_size=chunk_size)
