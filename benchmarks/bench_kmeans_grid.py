"""Row 11: the zoo's K-Means against scikit-learn's at every size of a grid, on one thread and on all cores.

Run from the repository with zoo-kmeans installed: ``python benchmarks/bench_kmeans_grid.py``.
Row 4's measurement (see ``bench_kmeans.py``: both sides from the same k data points for 30
iterations, tol=0, on float32 Gaussian blobs around k overlapping centres) at each k in 8, 16,
64 and each dimension in 2, 16, 64, on 200,000 points, with 1 thread and with ``--threads``
(default: all cores) for both sides. Each cell is met when the zoo is at least as fast as
scikit-learn's ``lloyd``, ends with the same number of iterations and an inertia within
0.01 %; the note gives the share of points with the same final label (both sides round their
float32 distances differently, so a point on a near tie may go either way).
"""

from __future__ import annotations

import numpy as np
import torch
from bench_kmeans import ITERATIONS, make_data, same_start, sklearn_lloyd
from timing import Row, emit, interleaved_medians, options, pin_threads
from zoo_kmeans.model import lloyd

POINTS = 200_000
CLUSTERS = (8, 16, 64)
DIMS = (2, 16, 64)


def measure(k: int, dims: int, threads: int, repeats: int) -> Row:
    """One cell: both sides on the same data and start, repeats interleaved."""
    x = make_data(POINTS, dims, k)
    tensor, start = torch.from_numpy(x), same_start(x, k)
    theirs = sklearn_lloyd(start, ITERATIONS)
    runs = {"kmeans": lambda: lloyd(tensor, start, ITERATIONS, tol=0.0), "sklearn": lambda: theirs.fit(x)}
    seconds, results = interleaved_medians(runs, repeats)
    ours = results["kmeans"]
    gap = abs(ours.inertia / theirs.inertia_ - 1)
    same = float(np.mean(ours.labels.numpy() == theirs.labels_))
    ratio = seconds["sklearn"] / seconds["kmeans"]
    return Row(
        row=11,
        figure=f"K-Means fit, {POINTS:,} points at each k and dims, same start, {ITERATIONS} iterations",
        ours=f"kmeans {seconds['kmeans']:.3f} s ({ours.n_iter} it)",
        reference=f"sklearn lloyd {seconds['sklearn']:.3f} s ({theirs.n_iter_} it)",
        ratio=ratio,
        goal=">= 1.0 in every cell, inertia within 0.01 %",
        met=ratio >= 1.0 and gap <= 1e-4 and ours.n_iter == theirs.n_iter_,
        note=f"inertia gap {gap:.5%}, same labels {same:.3%}; median of {repeats}",
        cell={"k": k, "dims": dims, "threads": threads},
    )


def main() -> None:
    args = options(__doc__.splitlines()[0], repeats=3).parse_args()
    for threads in sorted({1, args.threads}):
        pin_threads(threads)
        for k in CLUSTERS:
            for dims in DIMS:
                emit(measure(k, dims, threads, args.repeats))


if __name__ == "__main__":
    main()
