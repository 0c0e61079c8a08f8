"""Row 12: the zoo's KNN predict against scikit-learn's at every size of a grid, on 1 thread and all cores.

Run from the repository with zoo-knn installed: ``python benchmarks/bench_knn_grid.py``.
Row 3's measurement (see ``bench_knn.py``: predict only, float32 Gaussian blobs in 10
classes, scikit-learn's brute-force ``KNeighborsClassifier``, the default chunk size) for each
dimension in 8, 32, 128, each k in 1, 5, 15 and both metrics, with 1 thread and with
``--threads`` (default: all cores) for both sides. Euclidean cells predict 2,000 queries
against 50,000 training points; manhattan cells, whose distances no matrix product computes,
500 queries against 20,000, so that the grid runs in minutes. A cell is met when the zoo is
at least as fast and every prediction is scikit-learn's.
"""

from __future__ import annotations

import numpy as np
import torch
from bench_knn import CLASSES, default_chunk_size, make_data
from sklearn.neighbors import KNeighborsClassifier
from timing import Row, emit, interleaved_medians, options, pin_threads
from zoo_knn.model import KNNClassifier

SIZES = {"euclidean": (50_000, 2_000), "manhattan": (20_000, 500)}  # training points, queries
DIMS = (8, 32, 128)
NEIGHBOURS = (1, 5, 15)


def measure(metric: str, dims: int, k: int, threads: int, repeats: int) -> Row:
    """One cell: both sides on the same data, repeats interleaved."""
    train, queries = SIZES[metric]
    x_train, y_train, x_query, _ = make_data(train, queries, dims)
    chunk_size = default_chunk_size()
    ours = KNNClassifier(CLASSES, k=k, metric=metric, p=2.0, chunk_size=chunk_size)
    ours.fit(torch.from_numpy(x_train), torch.from_numpy(y_train))
    theirs = KNeighborsClassifier(n_neighbors=k, metric=metric, algorithm="brute").fit(x_train, y_train)
    tensor = torch.from_numpy(x_query)
    runs = {"knn": lambda: ours.predict(tensor).numpy(), "sklearn": lambda: theirs.predict(x_query)}
    seconds, predictions = interleaved_medians(runs, repeats)
    agreement = float(np.mean(predictions["knn"] == predictions["sklearn"]))
    ratio = seconds["sklearn"] / seconds["knn"]
    return Row(
        row=12,
        figure="KNN predict at each metric, dims and k: euclidean 50,000 train x 2,000 queries, "
        "manhattan 20,000 x 500",
        ours=f"knn {seconds['knn']:.3f} s",
        reference=f"sklearn brute {seconds['sklearn']:.3f} s",
        ratio=ratio,
        goal=">= 1.0 in every cell, identical predictions",
        met=ratio >= 1.0 and agreement == 1.0,
        note=f"same prediction for {agreement:.2%}; {train:,} x {queries:,}, median of {repeats}",
        cell={"metric": metric, "dims": dims, "k": k, "threads": threads},
    )


def main() -> None:
    args = options(__doc__.splitlines()[0], repeats=3).parse_args()
    for threads in sorted({1, args.threads}):
        pin_threads(threads)
        for metric in SIZES:
            for dims in DIMS:
                for k in NEIGHBOURS:
                    emit(measure(metric, dims, k, threads, args.repeats))


if __name__ == "__main__":
    main()
