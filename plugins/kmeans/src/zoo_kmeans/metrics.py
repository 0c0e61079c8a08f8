"""Clustering metrics. Predicted cluster ids are arbitrary names, so none compares them to
the true labels one by one; ARI is invariant to renaming, the others ignore the true labels."""

from __future__ import annotations

import math

import numpy as np

# silhouette_score is O(N²); above this many points it is estimated on a fixed random sample.
SILHOUETTE_SAMPLE = 10_000


def inertia(targets: np.ndarray, predictions: np.ndarray, *, inputs: np.ndarray) -> float:
    """Sum of squared distances from each point to the mean of its predicted cluster."""
    x = np.asarray(inputs, dtype=np.float64)
    _, cluster = np.unique(np.asarray(predictions), return_inverse=True)
    counts = np.bincount(cluster)
    sums = np.zeros((len(counts), x.shape[1]))
    np.add.at(sums, cluster, x)
    means = sums / counts[:, None]
    return float(((x - means[cluster]) ** 2).sum())


def adjusted_rand_index(targets: np.ndarray, predictions: np.ndarray) -> float:
    """Agreement of the clustering with the true labels: 1 is perfect, about 0 is chance."""
    from sklearn.metrics import adjusted_rand_score

    return float(adjusted_rand_score(targets, predictions))


def silhouette(targets: np.ndarray, predictions: np.ndarray, *, inputs: np.ndarray) -> float:
    """Mean silhouette of the points (-1 to 1); NaN when it is undefined (one cluster, or
    every point its own cluster)."""
    from sklearn.metrics import silhouette_score

    n_clusters = len(np.unique(predictions))
    if not 2 <= n_clusters <= len(predictions) - 1:
        return math.nan
    sample = SILHOUETTE_SAMPLE if len(predictions) > SILHOUETTE_SAMPLE else None
    return float(silhouette_score(inputs, predictions, sample_size=sample, random_state=0))
