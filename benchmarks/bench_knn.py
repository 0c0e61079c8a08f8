"""Row 3: the zoo's torch KNN against scikit-learn's brute-force KNeighborsClassifier, predict only.

Run from the repository with zoo-knn installed: ``python benchmarks/bench_knn.py``.
Both sides get the same float32 Gaussian blobs (50,000 x 30 training points, 5,000 queries,
10 classes), k=5, euclidean distance and the same threads. ``fit`` only stores the training
set on both sides, so it is done once, untimed; the timed call is ``predict`` on all queries.
The zoo's KNN runs with the chunk size ``zoo run knn`` uses by default.
"""

from __future__ import annotations

import numpy as np
import torch
import zoo_knn
from sklearn.neighbors import KNeighborsClassifier
from timing import Row, emit, interleaved_medians, options, pin_threads
from zoo_knn.model import KNNClassifier

TRAIN, QUERIES, DIMS, K, CLASSES = 50_000, 5_000, 30, 5, 10


def make_data(n_train: int, n_query: int, dims: int) -> tuple[np.ndarray, ...]:
    """Gaussian blobs around random centres, so the labels are learnable and distances vary:
    training points, their labels, queries and theirs."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=2.0, size=(CLASSES, dims))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(CLASSES, size=n)
        return (centres[labels] + rng.normal(size=(n, dims))).astype(np.float32), labels

    x_train, y_train = draw(n_train)
    x_query, y_query = draw(n_query)
    return x_train, y_train, x_query, y_query


def default_chunk_size() -> int:
    """The chunk size a user gets from ``zoo run knn``."""
    return next(spec for spec in zoo_knn.zoo_models() if spec.name == "knn").defaults["chunk_size"]


def main() -> None:
    args = options(__doc__.splitlines()[0], repeats=7).parse_args()
    pin_threads(args.threads)
    x_train, y_train, x_query, _ = make_data(TRAIN, QUERIES, DIMS)
    chunk_size = default_chunk_size()
    ours = KNNClassifier(CLASSES, k=K, metric="euclidean", p=2.0, chunk_size=chunk_size)
    ours.fit(torch.from_numpy(x_train), torch.from_numpy(y_train))
    theirs = KNeighborsClassifier(n_neighbors=K, algorithm="brute").fit(x_train, y_train)
    queries = torch.from_numpy(x_query)
    seconds, predictions = interleaved_medians(
        {"knn": lambda: ours.predict(queries).numpy(), "sklearn": lambda: theirs.predict(x_query)},
        args.repeats,
    )
    agreement = float(np.mean(predictions["knn"] == predictions["sklearn"]))
    ratio = seconds["sklearn"] / seconds["knn"]
    emit(
        Row(
            row=3,
            figure=f"KNN predict, {TRAIN:,} x {DIMS} train, {QUERIES:,} queries, k={K}",
            ours=f"knn {seconds['knn']:.3f} s",
            reference=f"sklearn brute {seconds['sklearn']:.3f} s",
            ratio=ratio,
            goal=">= 1.0, identical predictions",
            met=ratio >= 1.0 and agreement == 1.0,
            note=(
                f"same prediction for {agreement:.2%} of queries; predict only (fit stores the data); "
                f"float32, {args.threads} threads, chunk_size={chunk_size}, median of {args.repeats}, "
                f"torch {torch.__version__}"
            ),
        )
    )


if __name__ == "__main__":
    main()
