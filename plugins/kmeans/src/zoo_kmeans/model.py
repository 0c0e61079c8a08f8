"""K-Means in torch: greedy k-means++ seeding, then Lloyd iterations on whole tensors.

Distances come from matrix products over chunks of points ((K, chunk) matrices, never
(N, K, D)); centroid sums are updated only for the points that changed cluster. The only
Python loops run over iterations, chunks, the k seeds and the ``n_init`` restarts.
Everything stays on the input's device; random numbers come from a CPU generator seeded
once, so a seed draws the same initial points on every device.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, NamedTuple

import torch
from torch import Tensor

from zoo_core import ZooError

if TYPE_CHECKING:
    from zoo_core import DatasetSpec


def _scores(x: Tensor, centroids: Tensor) -> Tensor:
    """(K, N) ||c||² - 2 c·x from one matrix product: the squared distances minus ||x||².

    The (K, N) layout makes the reduction over clusters run along contiguous rows, which is
    several times faster on CPU than reducing a (N, K) matrix along its short rows.
    """
    return torch.addmm(centroids.pow(2).sum(dim=1, keepdim=True), centroids, x.T, alpha=-2)


def squared_distances(x: Tensor, centroids: Tensor, x_sq: Tensor | None = None) -> Tensor:
    """(N, K) squared Euclidean distances ||x||² - 2 x·cᵀ + ||c||², from one matrix product.

    ``x_sq`` (N,), the squared norms of ``x``, may be passed in when ``x`` is used many times.
    Rounding can push the expansion slightly below zero for points on a centroid, hence the
    clamp. The result is a transposed view of a contiguous (K, N) tensor.
    """
    if x_sq is None:
        x_sq = x.pow(2).sum(dim=1)
    return _scores(x, centroids).add_(x_sq).clamp_min_(0).T


def nearest_centroid(x: Tensor, centroids: Tensor) -> Tensor:
    """Index of the closest centroid for each row of ``x``."""
    # min, not argmin: on CPU, argmin over dim 0 of a (K, N) matrix is several times slower.
    return _scores(x, centroids).min(dim=0).indices


def kmeans_plus_plus(x: Tensor, k: int, generator: torch.Generator) -> Tensor:
    """Pick k initial centroids from the rows of ``x`` by greedy k-means++ (D² sampling).

    Each new centroid is drawn with probability proportional to the squared distance to the
    closest centroid so far; as in scikit-learn, 2 + ln(k) candidates are drawn and the one
    that lowers the total squared distance most is kept, which avoids unlucky draws.
    """
    n = x.shape[0]
    trials = 2 + int(math.log(k))
    x_sq = x.pow(2).sum(dim=1)
    first = int(torch.randint(n, (1,), generator=generator))
    centroids = x[first].unsqueeze(0)
    closest = squared_distances(x, centroids, x_sq).squeeze(1)
    for _ in range(1, k):
        cumulative = closest.cumsum(0)
        draws = torch.rand(trials, generator=generator, dtype=x.dtype).to(x.device) * cumulative[-1]
        # Rounding can put a draw past the last cumulative sum; it then belongs to the last point.
        candidates = torch.searchsorted(cumulative, draws).clamp_max_(n - 1)
        candidate_closest = torch.minimum(closest.unsqueeze(1), squared_distances(x, x[candidates], x_sq))
        best = candidate_closest.sum(dim=0).argmin()
        centroids = torch.cat([centroids, x[candidates[best]].unsqueeze(0)])
        closest = candidate_closest[:, best]
    return centroids


# Points per assignment step. A chunk's (K, chunk) scores are read three times right after the
# product writes them: on 200,000 x 16 points, k=16 (1 thread), chunks of 32,768 to 100,000
# points were equally fast and 1.3x faster than one pass over all points. Larger chunks mean
# fewer parallel regions, which a busy machine makes expensive.
CHUNK = 65536


class Assignment(NamedTuple):
    """Each point's nearest centroid, its score there (squared distance minus ||x||²), and
    the number of points per centroid."""

    scores: Tensor
    labels: Tensor
    counts: Tensor


def assign(x_aug_t: Tensor, centroids: Tensor) -> Assignment:
    """Assign every column of ``x_aug_t`` ((D+1, N): the points, then a row of ones) to its
    nearest centroid; ties go to the lowest centroid index, as with ``argmin``.

    On CPU, ``min(dim=0)`` with indices is over ten times slower than ``amin``, so the labels
    come from a one-hot mask instead: ``scores == amin`` marks each point's nearest centroid,
    and a matrix-vector product with 0..K-1 reads its index. A point tied between centroids
    has two marks; the counts (the mask's row sums) then add up to more than N, and the
    labels are recomputed exactly, which real data almost never needs.
    """
    k, n = centroids.shape[0], x_aug_t.shape[1]
    # [-2c, ||c||²] against [x, 1] gives ||c||² - 2c·x in one product, with no pass to add norms.
    c_aug = torch.cat([centroids * -2, centroids.pow(2).sum(dim=1, keepdim=True)], dim=1)
    index = torch.arange(k, dtype=x_aug_t.dtype, device=x_aug_t.device)
    scores, labels = x_aug_t.new_empty(n), x_aug_t.new_empty(n)
    # Per-chunk counts stay exact in the data's dtype (chunks are far below 2**24); their total
    # is kept in float64 so that it stays exact for any N.
    counts = torch.zeros(k, dtype=torch.float64, device=x_aug_t.device)
    chunk_scores = x_aug_t.new_empty(k, min(n, CHUNK))
    mask = torch.empty_like(chunk_scores)
    for start in range(0, n, CHUNK):
        part = slice(start, start + CHUNK)
        chunk = torch.mm(c_aug, x_aug_t[:, part], out=chunk_scores[:, : x_aug_t[:, part].shape[1]])
        best = torch.amin(chunk, dim=0, out=scores[part])
        marks = torch.eq(chunk, best, out=mask[:, : chunk.shape[1]])
        torch.mv(marks.T, index, out=labels[part])
        counts += marks.sum(dim=1)
    if counts.sum() != n:
        exact = nearest_centroid(x_aug_t[:-1].T, centroids)
        return Assignment(scores, exact, torch.bincount(exact, minlength=k).to(counts.dtype))
    return Assignment(scores, labels.long(), counts)


def move_sums(sums: Tensor, x: Tensor, labels: Tensor, previous: Tensor) -> Tensor:
    """Per-cluster sums of ``x`` after the points whose label changed from ``previous`` moved.

    Once the first iterations are over, few points change cluster, so updating the sums costs
    far less than summing all N points again. They are kept in float64, where the updates
    add no error worth counting to the first float32 sum.
    """
    moved = (labels != previous).nonzero().squeeze(1)
    rows = x[moved].to(sums.dtype)
    sums.index_put_((previous[moved],), -rows, accumulate=True)
    return sums.index_put_((labels[moved],), rows, accumulate=True)


class LloydResult(NamedTuple):
    """Where Lloyd iterations ended: centroids, the labels and inertia they give, the inertia
    of each iteration's assignment, and the number of iterations run."""

    centroids: Tensor
    labels: Tensor
    inertia: float
    history: list[float]
    n_iter: int


def lloyd(x: Tensor, centroids: Tensor, max_iter: int, tol: float) -> LloydResult:
    """Run Lloyd iterations from ``centroids`` until the centroids move less than ``tol``.

    ``tol`` is absolute here: the iterations stop once the sum over centroids of their squared
    shift is at most ``tol`` (or after ``max_iter`` iterations). A cluster that ends an
    assignment step empty is re-seeded at the point farthest from its own centroid (several
    empty clusters take the several farthest points), so k clusters always survive.
    """
    x_sq = x.pow(2).sum(dim=1)
    x_aug_t = torch.cat([x, x.new_ones(len(x), 1)], dim=1).T.contiguous()
    history: list[Tensor] = []
    labels, sums = None, None
    while len(history) < max_iter:
        scores, new_labels, counts = assign(x_aug_t, centroids)
        min_dist = scores.add_(x_sq).clamp_min_(0)
        history.append(min_dist.sum())
        if labels is None:
            # An accumulating index_put_ sums each cluster's rows several times faster than
            # index_add_ on CPU, and on CUDA it sorts instead of adding atomically, so the sums
            # are reproducible.
            sums = torch.zeros_like(centroids).index_put_((new_labels,), x, accumulate=True).double()
        else:
            sums = move_sums(sums, x, new_labels, labels)
        labels = new_labels
        updated = (sums / counts.clamp_min(1).unsqueeze(1)).to(x.dtype)
        empty = counts == 0
        if bool(empty.any()):
            updated[empty] = x[min_dist.topk(int(empty.sum())).indices]
        shift = (updated - centroids).pow(2).sum()
        centroids = updated
        if float(shift) <= tol:
            break
    scores, labels, _ = assign(x_aug_t, centroids)
    inertia = float(scores.add_(x_sq).clamp_min_(0).sum())
    return LloydResult(centroids, labels, inertia, [float(v) for v in history], len(history))


def flatten(x: Tensor) -> Tensor:
    """One row per sample, whatever the per-sample shape; integer inputs become float32."""
    x = x.reshape(x.shape[0], -1)
    return x if x.is_floating_point() else x.float()


class _CentroidClustering:
    """What both K-Means estimators share: hyperparameter checks, prediction, saved state."""

    name = "kmeans"

    def __init__(self, k: int = 3, max_iter: int = 300, tol: float = 1e-4, n_init: int = 1, seed: int = 0):
        if k < 1 or max_iter < 1 or n_init < 1 or tol < 0:
            raise ZooError(
                f"{self.name} needs k, max_iter and n_init >= 1 and tol >= 0 "
                f"(got k={k}, max_iter={max_iter}, n_init={n_init}, tol={tol})"
            )
        self.k, self.max_iter, self.tol, self.n_init, self.seed = k, max_iter, tol, n_init, seed
        self.cluster_centers: Tensor | None = None

    def _check_size(self, x: Tensor) -> None:
        if self.k > x.shape[0]:
            raise ZooError(f"{self.name} cannot make k={self.k} clusters from {x.shape[0]} samples")

    def predict(self, x: Tensor) -> Tensor:
        """Label each sample with its nearest centroid."""
        if self.cluster_centers is None:
            raise RuntimeError(f"{self.name} is not fitted yet; call fit first")
        return nearest_centroid(flatten(x), self.cluster_centers.to(x.device))

    def state_dict(self) -> dict[str, Tensor]:
        """The fitted centroids; empty before ``fit``, as there is nothing to save yet."""
        return {} if self.cluster_centers is None else {"centroids": self.cluster_centers}


class KMeans(_CentroidClustering):
    """K-Means clustering as a zoo Estimator: k-means++ seeding, then Lloyd iterations.

    ``tol`` is relative, as in scikit-learn: it is multiplied by the mean per-feature variance
    of the data before being compared with the total squared centroid shift. With
    ``n_init > 1`` the seeding and iterations are repeated and the lowest inertia wins.
    After ``fit``, ``cluster_centers``, ``inertia`` and ``n_iter`` describe the winner.
    """

    inertia = math.nan
    n_iter = 0

    def fit(self, x: Tensor, y: Tensor | None = None) -> list[float]:
        """Cluster ``x`` (labels ``y`` are ignored); return the inertia of each iteration."""
        x = flatten(x)
        self._check_size(x)
        # Centring keeps ||x||² - 2x·c + ||c||² from cancelling badly in float32 far from the origin.
        mean = x.mean(dim=0)
        x = x - mean
        tol = self.tol * float(x.var(dim=0, unbiased=False).mean())
        generator = torch.Generator().manual_seed(self.seed)
        runs = (
            lloyd(x, kmeans_plus_plus(x, self.k, generator), self.max_iter, tol) for _ in range(self.n_init)
        )
        best = min(runs, key=lambda run: run.inertia)
        self.cluster_centers = best.centroids + mean
        self.inertia, self.n_iter = best.inertia, best.n_iter
        return best.history


class SklearnKMeans(_CentroidClustering):
    """scikit-learn's KMeans behind the Estimator protocol: the reference to beat."""

    name = "sklearn-kmeans"

    def fit(self, x: Tensor, y: Tensor | None = None) -> None:
        """Cluster ``x`` with scikit-learn, which keeps no per-iteration history to return."""
        from sklearn.cluster import KMeans as SkKMeans

        x = flatten(x)
        self._check_size(x)
        model = SkKMeans(
            n_clusters=self.k,
            n_init=self.n_init,
            max_iter=self.max_iter,
            tol=self.tol,
            random_state=self.seed,
        ).fit(x.cpu().numpy())
        self.cluster_centers = torch.as_tensor(model.cluster_centers_, dtype=x.dtype, device=x.device)


def _seed_from_torch() -> int:
    """An int seed drawn from torch's global RNG, which the runner seeds before building."""
    return int(torch.randint(2**31 - 1, ()).item())


def build_kmeans(
    dataset: DatasetSpec, *, k: int = 3, max_iter: int = 300, tol: float = 1e-4, n_init: int = 1
) -> KMeans:
    """The torch K-Means; ``dataset`` is not needed, since k is a hyperparameter."""
    return KMeans(k=k, max_iter=max_iter, tol=tol, n_init=n_init, seed=_seed_from_torch())


def build_sklearn_kmeans(
    dataset: DatasetSpec, *, k: int = 3, max_iter: int = 300, tol: float = 1e-4, n_init: int = 1
) -> SklearnKMeans:
    """scikit-learn's KMeans with the same hyperparameters and a seed drawn from torch."""
    return SklearnKMeans(k=k, max_iter=max_iter, tol=tol, n_init=n_init, seed=_seed_from_torch())
