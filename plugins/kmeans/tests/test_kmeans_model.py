"""The torch K-Means against torch.cdist and scikit-learn, and its edge cases."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.cluster import KMeans as SkKMeans
from sklearn.metrics import adjusted_rand_score
from torch.utils._python_dispatch import TorchDispatchMode
from torch.utils._pytree import tree_leaves
from zoo_kmeans import model as model_module
from zoo_kmeans.data import load_blobs
from zoo_kmeans.model import (
    KMeans,
    SklearnKMeans,
    build_kmeans,
    build_sklearn_kmeans,
    kmeans_plus_plus,
    lloyd,
    nearest_centroid,
    nearest_two,
    squared_distances,
)

from zoo_core import ZooError
from zoo_core.testing import dataset_spec


@pytest.fixture(scope="module")
def blobs() -> tuple[torch.Tensor, np.ndarray]:
    split = load_blobs(None).train
    return split.x, split.y.numpy()


def test_squared_distances_match_cdist() -> None:
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(500, 7, generator=gen, dtype=torch.float64) * 3 + 1
    centroids = torch.cat([torch.randn(8, 7, generator=gen, dtype=torch.float64), x[:1]])
    distances = squared_distances(x, centroids)
    torch.testing.assert_close(distances, torch.cdist(x, centroids) ** 2)
    # A point that is a centroid is at distance zero, never a rounding-negative one.
    assert distances[0, -1] >= 0 and distances[0, -1] < 1e-9


def test_nearest_centroid_matches_cdist_argmin() -> None:
    gen = torch.Generator().manual_seed(1)
    x, centroids = torch.randn(1000, 5, generator=gen), torch.randn(6, 5, generator=gen)
    assert torch.equal(nearest_centroid(x, centroids), torch.cdist(x, centroids).argmin(dim=1))


class LargestTensor(TorchDispatchMode):
    """Records the size of the largest tensor any torch op produces."""

    def __init__(self) -> None:
        super().__init__()
        self.numel = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        sizes = [t.numel() for t in tree_leaves(out) if isinstance(t, torch.Tensor)]
        self.numel = max([self.numel, *sizes])
        return out


def test_fit_never_materialises_n_by_k_by_d() -> None:
    n, d, k = 2000, 6, 8
    x = torch.randn(n, d, generator=torch.Generator().manual_seed(2))
    # On one thread: a dispatch mode sees only its own thread's ops, and on more threads the fit
    # runs its shards on others (thread_map), where nothing would be seen.
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with LargestTensor() as largest:
            KMeans(k=k, max_iter=5, seed=0).fit(x)
    finally:
        torch.set_num_threads(previous)
    # One scratch buffer holds a chunk's (N, K) scores and their (N, K) marks, the largest tensors
    # there are; an (N, K, D) difference is never made.
    assert 2 * n * max(k, d) >= largest.numel
    assert largest.numel < n * k * d


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_blobs_recovered_with_sklearn_inertia(blobs: tuple[torch.Tensor, np.ndarray], seed: int) -> None:
    x, truth = blobs
    model = KMeans(k=3, seed=seed)
    model.fit(x)
    labels = model.predict(x).numpy()
    assert adjusted_rand_score(truth, labels) == 1.0
    reference = SkKMeans(n_clusters=3, n_init=10, random_state=seed).fit(x.double().numpy())
    assert model.inertia == pytest.approx(reference.inertia_, rel=1e-3)


def test_sklearn_baseline_agrees(blobs: tuple[torch.Tensor, np.ndarray]) -> None:
    x, truth = blobs
    ours, theirs = KMeans(seed=0), SklearnKMeans(seed=0)
    ours.fit(x)
    assert theirs.fit(x) is None
    assert adjusted_rand_score(truth, theirs.predict(x).numpy()) == 1.0

    def by_row(centers: torch.Tensor) -> torch.Tensor:
        return centers[torch.argsort(centers[:, 0])]

    torch.testing.assert_close(
        by_row(ours.state_dict()["centroids"]), by_row(theirs.state_dict()["centroids"]), atol=1e-4, rtol=0
    )


def test_stops_on_tolerance_before_max_iter(blobs: tuple[torch.Tensor, np.ndarray]) -> None:
    x, _ = blobs
    model = KMeans(k=3, max_iter=300, seed=0)
    history = model.fit(x)
    assert 1 <= model.n_iter < 300
    assert len(history) == model.n_iter
    # Without empty clusters every Lloyd step can only lower the inertia.
    assert all(later <= earlier * (1 + 1e-6) for earlier, later in zip(history, history[1:], strict=False))
    assert history[-1] == pytest.approx(model.inertia, rel=1e-5)


def test_tolerance_and_max_iter_bound_the_iterations(blobs: tuple[torch.Tensor, np.ndarray]) -> None:
    x, _ = blobs
    poor_start = x[:3].clone()  # three points of the first blob
    assert lloyd(x, poor_start, max_iter=100, tol=float("inf")).n_iter == 1
    assert lloyd(x, poor_start, max_iter=2, tol=0.0).n_iter == 2
    assert lloyd(x, poor_start, max_iter=100, tol=0.0).n_iter > 2


def two_blobs() -> torch.Tensor:
    gen = torch.Generator().manual_seed(3)
    return torch.cat([torch.randn(50, 2, generator=gen), torch.randn(50, 2, generator=gen) + 10])


def test_empty_cluster_is_reseeded_at_farthest_point() -> None:
    x = two_blobs()
    start = torch.tensor([[0.0, 0.0], [10.0, 10.0], [100.0, 100.0]])  # the third attracts no point
    farthest = x[(torch.cdist(x, start[:2]) ** 2).min(dim=1).values.argmax()]
    after_one = lloyd(x, start, max_iter=1, tol=0.0)
    torch.testing.assert_close(after_one.centroids[2], farthest)

    result = lloyd(x, start, max_iter=50, tol=0.0)
    assert torch.isfinite(result.centroids).all()
    assert torch.bincount(result.labels, minlength=3).min() > 0


def test_several_empty_clusters_take_distinct_points() -> None:
    x = two_blobs()
    start = torch.tensor([[0.0, 0.0], [10.0, 10.0], [100.0, 100.0], [-100.0, 50.0]])
    distance = (torch.cdist(x, start[:2]) ** 2).min(dim=1).values
    two_farthest = {tuple(row.tolist()) for row in x[distance.topk(2).indices]}
    after_one = lloyd(x, start, max_iter=1, tol=0.0)
    assert {tuple(row.tolist()) for row in after_one.centroids[2:]} == two_farthest


def test_kmeans_plus_plus_picks_distinct_data_points() -> None:
    x = two_blobs()
    seeds = kmeans_plus_plus(x, 4, torch.Generator().manual_seed(0))
    rows = {tuple(row.tolist()) for row in x}
    assert len({tuple(row.tolist()) for row in seeds}) == 4
    assert all(tuple(row.tolist()) in rows for row in seeds)
    # D² sampling puts the first two seeds in different blobs.
    assert (seeds[:2, 0] > 5).sum() == 1


def test_same_seed_same_clustering_other_seed_other_start() -> None:
    x = torch.randn(400, 3, generator=torch.Generator().manual_seed(4))
    first, again, other = KMeans(k=5, seed=7), KMeans(k=5, seed=7), KMeans(k=5, seed=8)
    assert first.fit(x) == again.fit(x)
    assert torch.equal(first.cluster_centers, again.cluster_centers)
    other.fit(x)
    assert not torch.equal(first.cluster_centers, other.cluster_centers)


def test_factories_draw_their_seed_from_torch() -> None:
    spec = dataset_spec("clustering", (2,), classes=("0", "1", "2"))
    torch.manual_seed(0)
    first, baseline = build_kmeans(spec, k=4), build_sklearn_kmeans(spec, k=4)
    torch.manual_seed(0)
    again = build_kmeans(spec, k=4)
    assert first.seed == again.seed and first.k == baseline.k == 4
    assert first.seed != baseline.seed  # each draw advances torch's RNG


def test_more_restarts_never_worse() -> None:
    x = torch.randn(300, 4, generator=torch.Generator().manual_seed(5))
    single, several = KMeans(k=6, n_init=1, seed=3), KMeans(k=6, n_init=5, seed=3)
    single.fit(x)
    several.fit(x)
    # The first restart of `several` is `single`'s run, so the best of five is at most it.
    assert several.inertia <= single.inertia


def test_flattens_per_sample_shape_and_follows_device(blobs: tuple[torch.Tensor, np.ndarray]) -> None:
    x, _ = blobs
    flat, shaped = KMeans(seed=0), KMeans(seed=0)
    flat.fit(x)
    shaped.fit(x.reshape(-1, 1, 2))
    assert torch.equal(flat.cluster_centers, shaped.cluster_centers)
    labels = shaped.predict(x.reshape(-1, 1, 2))
    assert labels.dtype == torch.int64 and labels.device == x.device
    assert torch.equal(labels, torch.cdist(x, flat.cluster_centers).argmin(dim=1))


def test_bad_hyperparameters_are_user_errors() -> None:
    with pytest.raises(ZooError, match="k=0"):
        KMeans(k=0)
    with pytest.raises(ZooError, match="tol"):
        SklearnKMeans(tol=-1.0)
    with pytest.raises(ZooError, match="k=5 clusters from 4 samples"):
        KMeans(k=5).fit(torch.zeros(4, 2))
    with pytest.raises(RuntimeError, match="not fitted"):
        KMeans().predict(torch.zeros(4, 2))


def test_state_is_empty_until_fitted() -> None:
    model = SklearnKMeans(k=2, seed=0)
    assert model.state_dict() == {}
    model.fit(torch.tensor([[0.0, 0.0], [0.0, 1.0], [9.0, 9.0]]))
    assert model.state_dict()["centroids"].shape == (2, 2)


def augmented(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)


@pytest.mark.parametrize("chunk", [7, 1000, 10**6])
def test_nearest_two_in_chunks_match_sorted_distances(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(model_module, "CHUNK", chunk)
    gen = torch.Generator().manual_seed(4)
    x, centroids = torch.randn(1000, 5, generator=gen), torch.randn(6, 5, generator=gen)
    labels, first, second = nearest_two(augmented(x), x.pow(2).sum(1), centroids)
    distances = torch.cdist(x.double(), centroids.double()) ** 2
    assert torch.equal(labels, distances.argmin(dim=1))
    two = distances.sort(dim=1).values[:, :2].float()
    torch.testing.assert_close(first, two[:, 0])
    torch.testing.assert_close(second, two[:, 1])


def test_nearest_two_ties_go_to_the_lowest_centroid() -> None:
    # Integer points halfway between integer centroids tie exactly, even in float32.
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [5.0, 5.0]])
    centroids = torch.tensor([[3.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    labels, first, second = nearest_two(augmented(x), x.pow(2).sum(1), centroids)
    assert labels.tolist() == [1, 2, 0, 0]  # (0, 0) ties 1, 2, 3; (1, 0) ties 2, 3; (2, 0) ties 0, 2, 3
    # A tied point's second nearest is as near as its nearest.
    assert second[:3].tolist() == first[:3].tolist() == [1.0, 0.0, 1.0]
    assert (first[3], second[3]) == (29.0, 41.0)


def test_one_centroid_has_no_second() -> None:
    x = torch.randn(10, 3, generator=torch.Generator().manual_seed(6))
    labels, _, second = nearest_two(augmented(x), x.pow(2).sum(1), x[:1])
    assert labels.eq(0).all() and second.isinf().all()
    torch.testing.assert_close(lloyd(x, x[:1], max_iter=3, tol=0.0).centroids, x.mean(dim=0, keepdim=True))


def plain_lloyd(x: torch.Tensor, centroids: torch.Tensor, iterations: int) -> list[tuple]:
    """Textbook Lloyd in float64 with every distance computed: after each iteration, the labels
    of that iteration's assignment, the inertia, and the centroids it moves to."""
    steps = []
    for _ in range(iterations):
        distances = torch.cdist(x.double(), centroids.double()) ** 2
        labels = distances.argmin(dim=1)
        means = [x[labels == j].double().mean(dim=0) for j in range(len(centroids))]
        centroids = torch.stack(means).to(x.dtype)
        steps.append((labels, float(distances.min(dim=1).values.sum()), centroids))
    return steps


def gaussian_blobs(
    spread: float, dtype: torch.dtype, k: int = 8, dims: int = 5, n: int = 3000
) -> torch.Tensor:
    """``n`` points around ``k`` unit-variance blobs whose centres lie ``spread`` apart (roughly)."""
    gen = torch.Generator().manual_seed(7)
    centres = torch.randn(k, dims, generator=gen, dtype=torch.float64) * spread
    picks = torch.randint(k, (n,), generator=gen)
    return (centres[picks] + torch.randn(n, dims, generator=gen, dtype=torch.float64)).to(dtype)


@pytest.fixture(params=["bounded", "dense"])
def mode(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with Hamerly's bounds and with every point measured at every step, whatever
    the size would choose."""
    monkeypatch.setattr(model_module, "DENSE", 0 if request.param == "bounded" else 10**9)
    monkeypatch.setattr(model_module, "SETTLED", 2.0)  # bounds from the second step on
    return request.param


# Overlapping blobs, where the bounds rarely rule a point out, and separated ones, where they
# rule out nearly all; float64 makes exact agreement with the float64 reference meaningful.
@pytest.mark.parametrize("spread", [0.5, 8.0])
def test_bounded_iterations_are_plain_lloyd(spread: float, mode: str) -> None:
    x = gaussian_blobs(spread, torch.float64)
    start = x[:8].clone()
    reference = plain_lloyd(x, start, 12)
    for iterations in (1, 2, 5, 12):
        ours = lloyd(x, start, max_iter=iterations, tol=-1.0)
        labels, _, centroids = reference[iterations - 1]
        torch.testing.assert_close(ours.centroids, centroids, rtol=0, atol=1e-12)
        # The labels returned are those of the final centroids: the next reference step's.
        final = torch.cdist(x, centroids).argmin(dim=1)
        assert torch.equal(ours.labels, final)
        assert ours.n_iter == iterations
        expected = [inertia for _, inertia, _ in reference[:iterations]]
        assert ours.history == pytest.approx(expected, rel=1e-12)


def test_bounds_prune_separated_blobs_but_not_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(model_module, "DENSE", 0)
    monkeypatch.setattr(model_module, "SETTLED", 2.0)
    measured: list[int] = []

    def counting(x1: torch.Tensor, *args: torch.Tensor) -> model_module.Nearest:
        measured.append(len(x1))
        return nearest_two(x1, *args)

    monkeypatch.setattr(model_module, "nearest_two", counting)
    x = gaussian_blobs(8.0, torch.float32)
    result = lloyd(x, x[:8].clone(), max_iter=10, tol=-1.0)
    # Plain Lloyd measures 3,000 points in each of the 10 assignments and the final one; here
    # the first measures all, and the bounds rule out most points in the others.
    assert measured[0] == 3000 and sum(measured) < 3 * 3000
    # float32 data, same labels as the float64 reference (no point sits near a tie).
    assert torch.equal(result.labels, torch.cdist(x.double(), result.centroids.double()).argmin(dim=1))
    torch.testing.assert_close(result.centroids, plain_lloyd(x, x[:8].clone(), 10)[-1][2])


@pytest.mark.parametrize("spread", [0.5, 8.0])
def test_same_labels_and_inertia_as_sklearn_lloyd_in_float32(spread: float, mode: str) -> None:
    x = gaussian_blobs(spread, torch.float32)
    start = x[:8].clone()
    theirs = SkKMeans(8, init=start.numpy(), n_init=1, max_iter=15, tol=0.0, algorithm="lloyd").fit(x.numpy())
    ours = lloyd(x, start, max_iter=15, tol=0.0)
    assert ours.n_iter == theirs.n_iter_
    assert torch.equal(ours.labels, torch.from_numpy(theirs.labels_).long())
    torch.testing.assert_close(ours.centroids, torch.from_numpy(theirs.cluster_centers_), rtol=0, atol=1e-5)
    assert ours.inertia == pytest.approx(theirs.inertia_, rel=1e-5)


# The benchmark grid's k and dimensions (benchmarks/bench_kmeans_grid.py), on fewer points: the
# size picks the mode (every point measured for k x (D+1) <= DENSE, bounds above).
@pytest.mark.parametrize("k", [8, 16, 64])
@pytest.mark.parametrize("dims", [2, 16, 64])
def test_grid_sizes_are_plain_lloyd(k: int, dims: int) -> None:
    x = gaussian_blobs(1.5, torch.float64, k=k, dims=dims, n=2000)
    start = x[:k].clone()
    labels, _, centroids = plain_lloyd(x, start, 6)[-1]
    ours = lloyd(x, start, max_iter=6, tol=-1.0)
    torch.testing.assert_close(ours.centroids, centroids, rtol=0, atol=1e-12)
    assert torch.equal(ours.labels, torch.cdist(x, centroids).argmin(dim=1))


@pytest.mark.parametrize(("k", "dims"), [(8, 2), (64, 16)])
def test_grid_sizes_match_sklearn_in_float32(k: int, dims: int) -> None:
    x = gaussian_blobs(1.5, torch.float32, k=k, dims=dims, n=20_000)
    start = x[:k].clone()
    theirs = SkKMeans(k, init=start.numpy(), n_init=1, max_iter=10, tol=0.0, algorithm="lloyd").fit(x.numpy())
    ours = lloyd(x, start, max_iter=10, tol=0.0)
    assert ours.n_iter == theirs.n_iter_
    # Both compute ||c||² - 2c·x in float32, rounded differently: a point whose two nearest
    # centroids lie within a rounding error of each other may go either way. (On 4,000 points
    # at k=8, D=2, one did in the 5th iteration, and the runs ended 3 labels and 0.013 % of
    # inertia apart; on these 20,000, none did.)
    agreement = (ours.labels == torch.from_numpy(theirs.labels_).long()).double().mean()
    assert agreement >= 0.999
    assert ours.inertia == pytest.approx(theirs.inertia_, rel=1e-4)  # the benchmark's 0.01 %


def test_shards_and_threads_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch, mode: str) -> None:
    x = gaussian_blobs(1.0, torch.float32, k=16, dims=6, n=5000)
    start = x[:16].clone()
    whole = lloyd(x, start, max_iter=20, tol=0.0)
    monkeypatch.setattr(model_module, "SHARD", 700)  # 7 shards of about 714 points
    assert len(model_module.shards(len(x))) == 7
    previous = torch.get_num_threads()
    results = []
    for threads in (1, 2):
        torch.set_num_threads(threads)
        try:
            results.append(lloyd(x, start, max_iter=20, tol=0.0))
        finally:
            torch.set_num_threads(previous)
    assert torch.get_num_threads() == previous
    for sharded in results:
        assert torch.equal(sharded.labels, whole.labels)
        assert sharded.n_iter == whole.n_iter
        # The shards' float64 sums add up in another order: the last bits may differ.
        torch.testing.assert_close(sharded.centroids, whole.centroids, rtol=0, atol=1e-6)
    assert torch.equal(results[0].centroids, results[1].centroids)  # same shards, any threads
    assert results[0].history == results[1].history


def test_shards_cut_the_points_evenly() -> None:
    assert model_module.shards(10) == [slice(0, 10)]
    cuts = model_module.shards(200_000)
    assert cuts[0].start == 0 and cuts[-1].stop == 200_000
    assert all(a.stop == b.start for a, b in zip(cuts, cuts[1:], strict=False))
    assert {c.stop - c.start for c in cuts} == {50_000}  # 4 shards
