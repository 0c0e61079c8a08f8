"""The lesson's data: three 2-D Gaussian blobs, generated exactly as the lesson does."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from zoo_core.data import Splits, from_numpy

# The lesson's cluster centres, in the order it draws them; each blob has unit variance.
BLOB_CENTERS = ((0.0, 0.0), (5.0, 5.0), (1.0, 8.0))
POINTS_PER_BLOB = 100
LESSON_SEED = 42


def blob_points() -> tuple[np.ndarray, np.ndarray]:
    """The 300 points and their true blob ids, drawn in the lesson's order from seed 42."""
    rng = np.random.RandomState(LESSON_SEED)
    points = np.vstack([rng.randn(POINTS_PER_BLOB, 2) + np.array(center) for center in BLOB_CENTERS])
    labels = np.repeat(np.arange(len(BLOB_CENTERS)), POINTS_PER_BLOB)
    return points, labels


def load_blobs(data_dir: Path) -> Splits:
    """Train and test are the same points: clustering is scored on the data it clusters."""
    points, labels = blob_points()
    return from_numpy(points, labels, points, labels, task="clustering")
