"""K-Means in torch: greedy k-means++ seeding, then Lloyd iterations on whole tensors.

Distances come from matrix products over chunks of points ((K, chunk) matrices, never
(N, K, D)); Hamerly's bounds skip the points whose label cannot change, and centroid sums
are updated only for the points that changed cluster. The only Python loops run over
iterations, chunks, the k seeds and the ``n_init`` restarts.
Everything stays on the input's device; random numbers come from a CPU generator seeded
once, so a seed draws the same initial points on every device.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NamedTuple

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
    """Index of the closest centroid for each row of ``x`` (the lowest one among ties)."""
    return nearest_label(torch.cat([x, x.new_ones(len(x), 1)], dim=1), centroids)


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


# Points per chunk of an assignment pass, at most. A chunk's (K, chunk) scores are read several
# times right after the product writes them, so they should stay in the cache, and so should
# the chunk's rows while the product reads them: at most SCORES scores and ROWS row values.
# On one thread, 200,000 points in 16 or 64 dimensions with k=64 were assigned 1.3-1.9x faster
# in chunks of 4,096 points than of 65,536 (16 MiB of scores), and products over 64-dimensional
# rows ran 3x faster in chunks of 8,192 points than of 28,600.
CHUNK = 65536
SCORES = 2**18  # 1 MiB of float32
ROWS = 2**19  # 2 MiB of float32


def chunk_size(k: int, width: int) -> int:
    """Points per chunk for ``k`` centroids and rows of ``width`` values."""
    return max(1, min(CHUNK, SCORES // k, ROWS // width))


class Nearest(NamedTuple):
    """Each point's nearest centroid and its squared distances to the nearest and the second
    nearest centroid (infinite with one centroid)."""

    labels: Tensor
    first: Tensor
    second: Tensor


def _nearest(
    x1: Tensor, centroids: Tensor, second: bool, scratch: Tensor | None = None
) -> tuple[Tensor, Tensor, Tensor]:
    """Each row's nearest centroid (as a float) and ||c||² - 2c·x for it; with ``second``, also
    that score for the second nearest centroid (else an empty tensor). See ``nearest_two``.

    ``scratch``, if given, is a buffer to reuse for the scores: a fresh one is allocated and
    paged in on every call, which on CPU can cost more than the scores themselves.
    """
    k, n = centroids.shape[0], x1.shape[0]
    size = min(n, chunk_size(k, x1.shape[1]))
    # [-2c, ||c||²] against [x, 1] gives ||c||² - 2c·x in one product, with no pass to add norms.
    c_aug = torch.cat([centroids * -2, centroids.pow(2).sum(dim=1, keepdim=True)], dim=1)
    weights = torch.arange(k, 0, -1, dtype=x1.dtype, device=x1.device).unsqueeze(1)
    labels, first = x1.new_empty(n), x1.new_empty(n)
    runner_up = x1.new_empty(n if second else 0)
    if scratch is None or scratch.numel() < 2 * k * size:
        scratch = x1.new_empty(2 * k * size)
    scores, marks = scratch[: k * size], scratch[k * size : 2 * k * size]
    for start in range(0, n, size):
        part = slice(start, start + size)
        width = len(first[part])
        chunk = torch.mm(c_aug, x1[part].T, out=scores[: k * width].view(k, width))
        best = torch.amin(chunk, dim=0, out=first[part])
        # A float mask: comparing into a bool tensor, then weighting it, is several times slower.
        weighted = torch.eq(chunk, best, out=marks[: k * width].view(k, width)).mul_(weights)
        lowest = torch.amax(weighted, dim=0, out=labels[part]).neg_().add_(k)
        if second:
            chunk.scatter_(0, lowest.long().unsqueeze(0), math.inf)
            torch.amin(chunk, dim=0, out=runner_up[part])
    return labels, first, runner_up


def nearest_two(x1: Tensor, x_sq: Tensor, centroids: Tensor, scratch: Tensor | None = None) -> Nearest:
    """The nearest and second nearest centroid of every row of ``x1`` ((N, D+1): the points,
    then a column of ones; ``x_sq`` their squared norms); ties go to the lowest centroid index.

    On CPU, ``min(dim=0)`` with indices is over ten times slower than ``amin``, so the label
    comes from a mask instead: ``scores == amin`` marks each point's nearest centroids, and the
    largest of the marks weighted K, K-1, ..., 1 names the lowest marked index. Its score is
    then set to infinity, and a second ``amin`` gives the second nearest (equal to the first
    when two centroids tie).
    """
    labels, first, second = _nearest(x1, centroids, True, scratch)
    # Rounding can push the expansion slightly below zero for points on a centroid.
    first.add_(x_sq).clamp_min_(0)
    second.add_(x_sq).clamp_min_(0)
    return Nearest(labels.long(), first, second)


def nearest_label(x1: Tensor, centroids: Tensor, scratch: Tensor | None = None) -> Tensor:
    """The nearest centroid of every row of ``x1`` ((N, D+1), as in ``nearest_two``), lowest
    index first among ties."""
    return _nearest(x1, centroids, False, scratch)[0].long()


class LloydResult(NamedTuple):
    """Where Lloyd iterations ended: centroids, the labels and inertia they give, the inertia
    of each iteration's assignment, and the number of iterations run."""

    centroids: Tensor
    labels: Tensor
    inertia: float
    history: list[float]
    n_iter: int


Map = Callable[[Callable[[Any], Any], Sequence[Any]], list[Any]]


@contextmanager
def thread_map() -> Iterator[Map]:
    """A ``map`` over tasks that spends torch's thread budget on whole tasks, one thread each.

    torch parallelises every op on its own: each op large enough opens a parallel region, and
    the threads wait for each other at its end. When another process takes a core, the thread
    it displaces holds every such op up for a scheduler slice (K-Means took 35x its quiet time
    with two threads beside one busy process). Here the tasks run their ops on one thread each,
    and the threads meet once per map, when the last task is done; a waiting thread sleeps
    instead of spinning, so it leaves its core to the others.
    """
    threads = torch.get_num_threads()
    if threads == 1:
        yield lambda task, items: [task(item) for item in items]
        return
    try:
        with ThreadPoolExecutor(threads, initializer=torch.set_num_threads, initargs=(1,)) as pool:
            yield lambda task, items: list(pool.map(task, items))
    finally:
        # A worker's set_num_threads(1) also became the number new threads start with.
        torch.set_num_threads(threads)


# Points per shard: each assignment step runs one task per shard. The shards are cut by the
# number of points only, so the result is the same on any number of threads. Each shard costs
# its own few dozen ops per step. On one thread at k=16, D=16, 200,000 points (least CPU time
# of 9), six shards took 9 % longer than the code before shards; three and four (which two
# threads share evenly) were level with it, with bounds from SETTLED = 15 % in both.
SHARD = 50_000


def shards(n: int) -> list[slice]:
    """Cut ``range(n)`` into about n / SHARD slices of equal length, in order."""
    count = max(1, round(n / SHARD))
    ends = [n * i // count for i in range(count + 1)]
    return [slice(start, end) for start, end in itertools.pairwise(ends)]


class _Shard:
    """A slice of the points with their labels (and bounds), which only its task touches.

    The bounds are stored as in ``_Hamerly``: ``upper`` is the upper bound minus the drift sum
    of the point's cluster at measurement, ``gap`` the lower bound (plus the other-drift sum)
    minus it. They, and the squared norms they need, exist once a step has measured them.
    """

    def __init__(self, x: Tensor) -> None:
        self.x1 = torch.cat([x, x.new_ones(len(x), 1)], dim=1)
        self.x_sq = x.new_empty(0)
        self.labels = torch.empty(0, dtype=torch.long, device=x.device)
        self.upper = self.gap = torch.empty(0, dtype=torch.float64, device=x.device)
        self.scratch = x.new_empty(0)  # the scores buffer, kept across steps

    def _scratch(self, k: int) -> Tensor:
        if not self.scratch.numel():
            self.scratch = self.x1.new_empty(2 * k * min(len(self.x1), chunk_size(k, self.x1.shape[1])))
        return self.scratch

    def norm(self) -> float:
        """The largest norm of the points; computes their squared norms, which bounds need."""
        self.x_sq = self.x1[:, :-1].pow(2).sum(dim=1)
        return float(self.x_sq.max().sqrt())

    def start(self, step: _Step) -> tuple[Tensor, float]:
        """Label every point; return the float64 sums of [x, 1] per cluster and sum ||x||²."""
        k = len(step.centroids)
        self.labels = nearest_label(self.x1, step.centroids, self._scratch(k))
        sums = self.x1.new_zeros(k, self.x1.shape[1], dtype=torch.float64)
        total = 0.0
        # A float64 copy of all rows at once would be paged in afresh; chunks reuse memory.
        size = max(1, ROWS // self.x1.shape[1])
        for rows, labels in zip(self.x1.split(size), self.labels.split(size), strict=True):
            exact = rows.double()
            # An accumulating index_put_ sums each cluster's rows several times faster than
            # index_add_ on CPU, and on CUDA it sorts instead of adding atomically, so the
            # sums are reproducible. The column of ones makes the last column the exact counts.
            sums.index_put_((labels,), exact, accumulate=True)
            flat = exact.view(-1)
            total += float(torch.dot(flat, flat)) - len(exact)
        return sums, total

    def relabel(self, step: _Step) -> tuple[Tensor | None, int]:
        """Move every point to its nearest centroid, with no bounds; return how the cluster
        sums change (None if no point moved) and how many points moved."""
        labels = nearest_label(self.x1, step.centroids, self._scratch(len(step.centroids)))
        change = self._change(self.x1, labels, self.labels, len(step.centroids))
        self.labels = labels
        return change

    def assign(self, step: _Step) -> tuple[Tensor | None, int]:
        """Measure the points whose bounds do not rule them out; see ``measure``."""
        labels = self.labels
        # Kept while gap > cutoff[a] or upper < near[a] (see _Step).
        unsure = torch.le(self.gap, step.cutoff.index_select(0, labels))
        unsure &= torch.ge(self.upper, step.near.index_select(0, labels))
        points = unsure.nonzero().squeeze(1)
        if len(points) > len(labels) // 2:
            return self.measure(None, step)[0]  # a full pass is cheaper than gathering most points
        if len(points):
            return self.measure(points, step)[0]
        return None, 0

    def measure(self, points: Tensor | None, step: _Step) -> tuple[tuple[Tensor | None, int], Tensor]:
        """Move ``points`` (indices; None for all) to their nearest centroid and reset their
        bounds; return how the cluster sums change (None if no point moved) with how many
        points moved, and the points' squared distances to their centroid."""
        if points is None:
            x1, x_sq, previous = self.x1, self.x_sq, self.labels
        else:
            x1, x_sq = self.x1.index_select(0, points), self.x_sq.index_select(0, points)
            previous = self.labels.index_select(0, points)
        nearest = nearest_two(x1, x_sq, step.centroids, self._scratch(len(step.centroids)))
        labels = nearest.labels
        upper, gap = step.bounds(nearest)
        if points is None:
            self.labels, self.upper, self.gap = labels, upper, gap
        else:
            self.labels.index_copy_(0, points, labels)
            self.upper.index_copy_(0, points, upper)
            self.gap.index_copy_(0, points, gap)
        return self._change(x1, labels, previous, len(step.centroids)), nearest.first

    @staticmethod
    def _change(x1: Tensor, labels: Tensor, previous: Tensor, k: int) -> tuple[Tensor | None, int]:
        """How the float64 cluster sums change when the rows ``x1`` go from the ``previous``
        labels to ``labels`` (None if no label changed), and how many rows moved."""
        moved = torch.ne(labels, previous).nonzero().squeeze(1)
        if not len(moved):
            return None, 0
        rows = x1.index_select(0, moved).double()
        change = rows.new_zeros(k, rows.shape[1])
        change.index_put_((labels.index_select(0, moved),), rows, accumulate=True)
        change.index_put_((previous.index_select(0, moved),), rows.neg_(), accumulate=True)
        return change, len(moved)


class _Step:
    """What every shard needs for one assignment: the centroids, and with bounds, the K-sized
    tables that turn the stored bounds into tests and measured distances into stored bounds."""

    def __init__(
        self, centroids: Tensor, slack: float = 0.0, drift: Tensor | None = None, others=None
    ) -> None:
        self.centroids, self.slack = centroids, slack
        if drift is None or others is None:
            return
        self.drift, self.others = drift, others
        # Kept while lower - upper = gap - (drift + others)[a] exceeds the margin, or while
        # upper + drift[a] + margin stays below half the distance from the point's centroid to
        # the nearest other one: within it, a centroid is the nearest. Folding the margin into
        # K-sized tables leaves one lookup and one comparison per point and test.
        margin = math.sqrt(2 * slack)
        c = centroids.double()
        half_gap = torch.cdist(c, c).fill_diagonal_(math.inf).amin(dim=1) / 2
        self.cutoff = drift + others + margin
        self.near = half_gap - drift - margin

    def bounds(self, nearest: Nearest) -> tuple[Tensor, Tensor]:
        """The bounds to store for freshly measured points: the upper bound, and the lower
        bound minus it, both made valid for any rounding and offset by the drift sums."""
        labels = nearest.labels
        upper = (nearest.first.double() + self.slack).sqrt_().sub_(self.drift.index_select(0, labels))
        lower = (nearest.second.double() - self.slack).clamp_min_(0).sqrt_()
        lower.add_(self.others.index_select(0, labels))
        return upper, lower.sub_(upper)


# K x (D+1) at most, for which every step measures every point: keeping Hamerly's bounds would
# cost more than the distances they save. Above it, steps measure every point too, with no
# bounds, until fewer than SETTLED of the points move in one step; the next step measures them
# all with their bounds, and the later ones only the points their bounds do not rule out. At
# 5 % the bounds came one step later than at 15 % and one more step measured every point.
DENSE = 150
SETTLED = 0.15


class _Hamerly:
    """Labels, Hamerly's bounds and per-cluster sums of the points, kept across Lloyd iterations.

    Each point keeps an upper bound on the distance to its centroid and a lower bound on the
    distance to every other centroid. When the centroids move, the upper bound grows by how far
    the point's centroid moved, and the lower bound shrinks by how far the farthest-moving other
    centroid moved. A point whose upper bound stays below its lower bound, or below half the
    distance from its centroid to the nearest other one, provably keeps its label, and only the
    others are measured again. The labels are therefore Lloyd's at every iteration, while most
    points (after a few iterations, nearly all) skip the distances. While many points still
    move, and for small K x D, the steps measure every point and keep no bounds (see DENSE).

    Between two measurements a point's label does not change, so its bounds only ever move by
    its own centroid's drifts: each cluster sums them (``drift`` for the upper bound, ``others``
    for the lower), and a point stores its bounds at measurement minus the sums at that time.
    Testing every point then takes two lookups in K-sized tables and a few passes over N
    numbers, with no per-point update.

    Rounding is accounted for: ``slack`` bounds the error of one float squared distance; a
    measured distance enters its bounds widened by it, and a point is kept only when the gap it
    relies on exceeds ``sqrt(2 slack)``, which makes the float distances that plain Lloyd would
    compute order the same way, so no near tie is decided by the bounds. The bounds are float64.

    The sums are of [x, 1] rows in float64, so their last column holds the exact counts; they
    change only by the rows of the points that moved, and the updates add no rounding worth
    counting. They also give each assignment's inertia without any distance:
    sum ||x - c_a||² = sum ||x||² - 2 sum_j c_j·S_j + sum_j n_j ||c_j||².

    The points are cut into shards (``SHARD``), and each step runs one task per shard through
    ``run`` (see ``thread_map``); only K-sized tables and sums pass between the tasks.
    """

    def __init__(self, x: Tensor, centroids: Tensor, run: Map):
        k = len(centroids)
        self.run = run
        self.shards: list[_Shard] = run(_Shard, [x[part] for part in shards(len(x))])
        # A float dot product of n terms errs by at most n times the unit roundoff (eps/2) times
        # the sum of its terms' magnitudes; here n is at most D+2 and the terms add up to at
        # most (||x|| + ||c||)².
        self.roundoff = (x.shape[1] + 2) * torch.finfo(x.dtype).eps / 2
        self.x_norm = math.nan  # known once the bounds need it
        self.drift = torch.zeros(k, dtype=torch.float64, device=x.device)
        self.others = torch.zeros_like(self.drift)
        self.bounds_pay = k * (x.shape[1] + 1) > DENSE
        self.bounded = self.settled = False
        step = _Step(centroids)
        started = run(lambda shard: shard.start(step), self.shards)
        self.sums = sum(sums for sums, _ in started)
        self.total_sq = sum(total for _, total in started)
        self.points = len(x)

    def slack(self, centroids: Tensor) -> float:
        """An upper bound on the rounding error of one squared distance to ``centroids``."""
        if math.isnan(self.x_norm):
            self.x_norm = max(self.run(_Shard.norm, self.shards))
        return self.roundoff * (self.x_norm + float(centroids.pow(2).sum(dim=1).max().sqrt())) ** 2

    def step(self, centroids: Tensor) -> _Step:
        return _Step(centroids, self.slack(centroids), self.drift, self.others)

    @property
    def counts(self) -> Tensor:
        return self.sums[:, -1]

    @property
    def labels(self) -> Tensor:
        return torch.cat([shard.labels for shard in self.shards])

    def inertia(self, centroids: Tensor) -> float:
        """The sum of squared distances of the points to their centroid among ``centroids``."""
        c = centroids.double()
        cross = (c * self.sums[:, :-1]).sum()
        return self.total_sq - 2 * float(cross) + float((self.counts * c.pow(2).sum(dim=1)).sum())

    def _apply(self, changes: list[tuple[Tensor | None, int]]) -> int:
        """Add the shards' changes to the sums; return how many points moved."""
        for change, _ in changes:  # in shard order, so the sums do not depend on the threads
            if change is not None:
                self.sums += change
        return sum(moved for _, moved in changes)

    def move(self, old: Tensor, new: Tensor) -> None:
        """Account for each centroid's move from ``old`` to ``new`` in the bounds."""
        drift = (new.double() - old.double()).pow(2).sum(dim=1).sqrt_()
        # New tensors rather than in-place sums: a _Step keeps the tables it was made with.
        self.drift = self.drift + drift
        # Every other centroid came at most the largest drift closer; a point's own centroid
        # does not count, so the cluster that drifted most subtracts the second largest.
        top = drift.topk(min(2, len(drift))).values
        others = torch.full_like(drift, float(top[0]))
        others[drift.argmax()] = top[-1] if len(top) > 1 else 0.0
        self.others = self.others + others

    def assign(self, centroids: Tensor) -> None:
        """Move every point to its nearest centroid, skipping those whose bounds rule them out."""
        if self.bounded:
            step = self.step(centroids)
            self._apply(self.run(lambda shard: shard.assign(step), self.shards))
        elif self.settled:
            step = self.step(centroids)
            self._apply(
                [measured for measured, _ in self.run(lambda shard: shard.measure(None, step), self.shards)]
            )
            self.bounded = True
        else:
            step = _Step(centroids)
            moved = self._apply(self.run(lambda shard: shard.relabel(step), self.shards))
            self.settled = self.bounds_pay and moved < SETTLED * self.points

    def measure_all(self, centroids: Tensor) -> Tensor:
        """Measure every point and its bounds; return each point's squared distance to its
        centroid."""
        step = self.step(centroids)
        measured = self.run(lambda shard: shard.measure(None, step), self.shards)
        self._apply([change for change, _ in measured])
        return torch.cat([first for _, first in measured])

    def farthest(self, centroids: Tensor, count: int) -> Tensor:
        """Indices of the ``count`` points farthest from their centroid, measured exactly, as
        plain Lloyd does; the measurement also tightens every bound."""
        return self.measure_all(centroids).topk(count).indices


def lloyd(x: Tensor, centroids: Tensor, max_iter: int, tol: float) -> LloydResult:
    """Run Lloyd iterations from ``centroids`` until the centroids move less than ``tol``.

    ``tol`` is absolute here: the iterations stop once the sum over centroids of their squared
    shift is at most ``tol`` (or after ``max_iter`` iterations). A cluster that ends an
    assignment step empty is re-seeded at the point farthest from its own centroid (several
    empty clusters take the several farthest points), so k clusters always survive. The
    assignment steps skip, with Hamerly's bounds, the points whose label cannot change, and
    give exactly Lloyd's labels (see ``_Hamerly``).
    """
    with thread_map() as run:
        state = _Hamerly(x, centroids, run)
        history = [state.inertia(centroids)]
        while True:
            counts = state.counts
            updated = (state.sums[:, :-1] / counts.clamp_min(1).unsqueeze(1)).to(x.dtype)
            empty = counts == 0
            if bool(empty.any()):
                updated[empty] = x[state.farthest(centroids, int(empty.sum()))]
            shift = (updated - centroids).pow(2).sum()
            state.move(centroids, updated)
            centroids = updated
            state.assign(centroids)
            if float(shift) <= tol or len(history) == max_iter:
                break
            history.append(state.inertia(centroids))
        return LloydResult(centroids, state.labels, state.inertia(centroids), history, len(history))


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

    def load_state_dict(self, state: dict[str, Tensor]) -> None:
        """Take the centroids of a saved ``state_dict``, as if fitted (for a loaded run)."""
        self.cluster_centers = state.get("centroids")


class KMeans(_CentroidClustering):
    """K-Means clustering as a zoo Estimator: k-means++ seeding, then Lloyd iterations.

    ``tol`` is relative, as in scikit-learn: it is multiplied by the mean per-feature variance
    of the data before being compared with the total squared centroid shift. With
    ``n_init > 1`` the seeding and iterations are repeated and the lowest inertia wins.
    After ``fit``, ``cluster_centers``, ``inertia`` and ``n_iter`` describe the winner.
    """

    inertia = math.nan
    n_iter = 0
    history_name = "inertia"  # what fit's per-iteration history measures, for the run's curve

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
