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
    assign,
    build_kmeans,
    build_sklearn_kmeans,
    kmeans_plus_plus,
    lloyd,
    move_sums,
    nearest_centroid,
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
    with LargestTensor() as largest:
        KMeans(k=k, max_iter=5, seed=0).fit(x)
    # (N, K) distance matrices and (N, D) inputs are fine; an (N, K, D) difference is not.
    assert n * max(k, d) >= largest.numel
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
    return torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1).T.contiguous()


@pytest.mark.parametrize("chunk", [7, 1000, 10**6])
def test_assignment_in_chunks_matches_argmin(monkeypatch: pytest.MonkeyPatch, chunk: int) -> None:
    monkeypatch.setattr(model_module, "CHUNK", chunk)
    gen = torch.Generator().manual_seed(4)
    x, centroids = torch.randn(1000, 5, generator=gen), torch.randn(6, 5, generator=gen)
    scores, labels, counts = assign(augmented(x), centroids)
    distances = torch.cdist(x.double(), centroids.double()) ** 2
    assert torch.equal(labels, distances.argmin(dim=1))
    assert torch.equal(counts, torch.bincount(labels, minlength=6).double())
    torch.testing.assert_close(scores + x.pow(2).sum(1), distances.min(dim=1).values.float())


def test_assignment_ties_go_to_the_lowest_centroid() -> None:
    # Integer points halfway between integer centroids tie exactly, even in float32.
    x = torch.tensor([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [5.0, 5.0]])
    centroids = torch.tensor([[3.0, 0.0], [-1.0, 0.0], [1.0, 0.0], [1.0, 0.0]])
    _, labels, counts = assign(augmented(x), centroids)
    assert labels.tolist() == [1, 2, 0, 0]  # (0, 0) ties 1, 2, 3; (1, 0) ties 2, 3; (2, 0) ties 0, 2, 3
    assert counts.tolist() == [2, 1, 1, 0]


def test_moved_sums_equal_fresh_sums() -> None:
    gen = torch.Generator().manual_seed(5)
    x = torch.randn(500, 3, generator=gen)
    before, after = torch.randint(0, 4, (500,), generator=gen), torch.randint(0, 4, (500,), generator=gen)

    def fresh(labels: torch.Tensor) -> torch.Tensor:
        return torch.zeros(4, 3, dtype=torch.float64).index_add_(0, labels, x.double())

    torch.testing.assert_close(move_sums(fresh(before), x, after, before), fresh(after))
