"""K-nearest neighbours in torch: chunked distances, top-k neighbours, majority vote."""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F

from zoo_core import DatasetSpec, ZooError

# The training points are scanned in blocks of this many. The k nearest points of a query lie
# in the k blocks holding its k smallest block minima, so topk runs on the block minima and on
# those few blocks only, instead of on every distance: on CPU that is most of predict's time.
BLOCK = 128


@contextmanager
def thread_map() -> Iterator[tuple[int, Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]]]:
    """The number of threads torch may use, and a ``map`` that runs each task on one of them.

    torch parallelises every op on its own, and the threads wait for each other at the end of
    each; when another process takes a core, every op waits for the thread it displaced. Here
    each task's ops run on one thread, and the threads meet only when the map returns.
    """
    threads = torch.get_num_threads()
    if threads == 1:
        yield 1, lambda task, items: [task(item) for item in items]
        return
    try:
        with ThreadPoolExecutor(threads, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            yield threads, lambda task, items: list(pool.map(task, items))
    finally:
        torch.set_num_threads(threads)  # a worker's set_num_threads(1) set the default for new threads


class KNNClassifier:
    """Predict the majority label of the ``k`` nearest training points.

    Tie rules:

    - distance ties at the k-th place keep the training points with the lowest index. This is
      scikit-learn's choice when the tied points are the first it meets; with many ties its
      choice depends on its heap order, which its documentation leaves unspecified;
    - vote ties go to the smallest label, as in scikit-learn (``argmax`` returns the first maximum).

    Queries are processed ``chunk_size`` at a time, so memory stays at chunk x train points:
    with T threads (torch's number), each thread takes ``chunk_size / T`` queries at a time.
    """

    def __init__(self, num_classes: int, *, k: int, metric: str, p: float, chunk_size: int) -> None:
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
        if self.metric != "euclidean":
            # Padding rows at infinity are infinitely far from any query, so cdist fills the
            # padding columns itself, with no copy into a padded buffer.
            self.rows = torch.cat([self.x, self.x.new_full((self.padded - points, dims), math.inf)])
        else:
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
        if not len(queries):
            return self.y.new_empty(0)
        # Each thread writes its distances to one buffer of its own: allocating a fresh
        # chunk x train matrix per chunk costs more in page faults than the matrix product
        # itself (on CPU). Its padding columns stay infinite.
        buffers = threading.local()

        def labels(chunk: torch.Tensor) -> torch.Tensor:
            if self.metric != "euclidean":
                return self._vote(self._neighbours(self._cdist(chunk)))
            if not hasattr(buffers, "distances"):
                buffers.distances = chunk.new_full((size, self.padded), math.inf)
            return self._vote(self._neighbours(self._products(chunk, buffers.distances[: len(chunk)])))

        with thread_map() as (threads, run):
            size = max(1, min(self.chunk_size // threads, len(queries)))
            return torch.cat(run(labels, queries.split(size)))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"x": self.x, "y": self.y}

    def _products(self, queries: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """(queries, padded train points) ||x||^2 - 2 q.x, in ``out``: euclidean distances
        squared, minus the query's own ||q||^2, which ranks the points the same way."""
        ones = queries.new_ones(len(queries), 1)
        return torch.mm(torch.cat([queries, ones], dim=1), self.table, out=out)

    def _cdist(self, queries: torch.Tensor) -> torch.Tensor:
        """(queries, padded train points) minkowski distances, infinite to the padding rows;
        computed directly, never as ||x||^2 - 2q.x, which would be NaN for the padding."""
        return torch.cdist(queries, self.rows, p=self.p, compute_mode="donot_use_mm_for_euclid_dist")

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
