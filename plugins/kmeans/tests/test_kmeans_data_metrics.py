"""The blobs dataset is the lesson's, and the clustering metrics agree with scikit-learn."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import zoo_kmeans
from sklearn.metrics import adjusted_rand_score, silhouette_score
from zoo_kmeans.data import load_blobs
from zoo_kmeans.metrics import adjusted_rand_index, inertia, silhouette


def lesson_data() -> np.ndarray:
    """The lesson's own generation code, run on NumPy's global RNG and restored afterwards."""
    state = np.random.get_state()
    try:
        np.random.seed(42)
        num_samples_per_cluster = 100
        c1 = np.random.randn(num_samples_per_cluster, 2) + np.array([0, 0])
        c2 = np.random.randn(num_samples_per_cluster, 2) + np.array([5, 5])
        c3 = np.random.randn(num_samples_per_cluster, 2) + np.array([1, 8])
        return np.vstack((c1, c2, c3))
    finally:
        np.random.set_state(state)


def test_blobs_are_the_lessons_points() -> None:
    splits = load_blobs(None)
    assert splits.train.x.dtype == torch.float32 and splits.train.y.dtype == torch.int64
    assert torch.equal(splits.train.x, torch.as_tensor(lesson_data(), dtype=torch.float32))
    assert torch.equal(splits.train.y, torch.arange(3).repeat_interleave(100))
    # Clustering is scored on the points it clustered.
    assert torch.equal(splits.test.x, splits.train.x) and torch.equal(splits.test.y, splits.train.y)
    assert torch.equal(load_blobs(None).train.x, splits.train.x)


def test_blobs_spec_tells_the_truth() -> None:
    (spec,) = zoo_kmeans.zoo_datasets()
    splits = spec.load(None)
    assert (len(splits.train), len(splits.test)) == (spec.train_size, spec.test_size)
    assert tuple(splits.train.x.shape[1:]) == spec.input_shape
    assert len(spec.classes) == int(splits.train.y.max()) + 1
    assert spec.primary_metric in {metric.name for metric in zoo_kmeans.zoo_metrics()}


def cluster_means_reference(x: np.ndarray, labels: np.ndarray) -> float:
    return sum(((x[labels == c] - x[labels == c].mean(axis=0)) ** 2).sum() for c in np.unique(labels))


def test_inertia_is_squared_distance_to_cluster_means() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    labels = rng.integers(0, 4, size=200)
    expected = cluster_means_reference(x, labels)
    assert inertia(None, labels, inputs=x) == pytest.approx(expected, rel=1e-12)
    # Cluster ids are names: renaming them, even to gappy ones, changes nothing.
    assert inertia(None, labels * 7 + 3, inputs=x) == pytest.approx(expected, rel=1e-12)
    assert inertia(None, np.zeros(200, dtype=int), inputs=x) == pytest.approx(((x - x.mean(0)) ** 2).sum())


def test_ari_ignores_cluster_names() -> None:
    truth = np.repeat([0, 1, 2], 50)
    assert adjusted_rand_index(truth, (truth + 1) % 3) == 1.0
    noisy = truth.copy()
    noisy[::5] = 0
    assert adjusted_rand_index(truth, noisy) == pytest.approx(adjusted_rand_score(truth, noisy))
    assert adjusted_rand_index(truth, noisy) < 1.0


def test_silhouette_matches_sklearn_and_is_nan_when_undefined() -> None:
    splits = load_blobs(None)
    x, truth = splits.test.x.numpy(), splits.test.y.numpy()
    assert silhouette(truth, truth, inputs=x) == pytest.approx(silhouette_score(x, truth))
    assert math.isnan(silhouette(truth, np.zeros_like(truth), inputs=x))
    assert math.isnan(silhouette(truth, np.arange(len(truth)), inputs=x))
