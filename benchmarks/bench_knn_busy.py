"""Row 10: the zoo's KNN predict quiet and beside one busy core, against scikit-learn under the same load.

Run from the repository with zoo-knn installed: ``python benchmarks/bench_knn_busy.py``.
Row 3's predict (50,000 x 30 float32 training points, 5,000 queries, k=5, euclidean, the
default chunk size; see ``bench_knn.py``) is timed on the quiet machine and with one other
CPU-bound process running (``busy_core``: ``python -c 'while True: pass'``), side by side in one
run: each repeat times both sides quietly, then both beside the spinner. Both sides use all
cores (``--threads``), as a user's run does by default. The first row is the zoo's busy time
over its quiet time, the second the two sides under the same load. The note repeats the
measurement on one thread, which the thread policy needs.
"""

from __future__ import annotations

import numpy as np
import torch
from bench_knn import CLASSES, DIMS, QUERIES, TRAIN, K, default_chunk_size, make_data
from sklearn.neighbors import KNeighborsClassifier
from timing import Row, emit, options, pin_threads, quiet_and_busy
from zoo_knn.model import KNNClassifier

SIZE = f"{TRAIN:,} x {DIMS} train, {QUERIES:,} queries, k={K}"


def main() -> None:
    args = options(__doc__.splitlines()[0], repeats=5).parse_args()
    x_train, y_train, x_query, _ = make_data(TRAIN, QUERIES, DIMS)
    chunk_size = default_chunk_size()
    ours = KNNClassifier(CLASSES, k=K, metric="euclidean", p=2.0, chunk_size=chunk_size)
    ours.fit(torch.from_numpy(x_train), torch.from_numpy(y_train))
    theirs = KNeighborsClassifier(n_neighbors=K, algorithm="brute").fit(x_train, y_train)
    queries = torch.from_numpy(x_query)
    runs = {"knn": lambda: ours.predict(queries).numpy(), "sklearn": lambda: theirs.predict(x_query)}
    pin_threads(1)
    one_quiet, one_busy, _ = quiet_and_busy(runs, args.repeats)
    pin_threads(args.threads)
    quiet, busy, predictions = quiet_and_busy(runs, args.repeats)
    agreement = float(np.mean(predictions["knn"] == predictions["sklearn"]))
    slowdown, ratio = busy["knn"] / quiet["knn"], busy["sklearn"] / busy["knn"]
    setting = (
        f"float32, {args.threads} threads, chunk_size={chunk_size}, median of {args.repeats}, "
        f"torch {torch.__version__}"
    )
    one = (
        f"on 1 thread: knn {one_quiet['knn']:.3f} s quiet, {one_busy['knn']:.3f} s busy; sklearn "
        f"{one_quiet['sklearn']:.3f} s quiet, {one_busy['sklearn']:.3f} s busy"
    )
    emit(
        Row(
            row=10,
            figure=f"KNN predict beside one busy core / quiet, {SIZE}",
            ours=f"knn busy {busy['knn']:.3f} s / quiet {quiet['knn']:.3f} s",
            reference=f"sklearn busy {busy['sklearn']:.3f} s / quiet {quiet['sklearn']:.3f} s",
            ratio=slowdown,
            goal="<= 2.0 (busy / quiet, lower is better)",
            met=slowdown <= 2.0,
            note=f"sklearn busy / quiet {busy['sklearn'] / quiet['sklearn']:.2f}x; {one}; {setting}",
        )
    )
    emit(
        Row(
            row=10,
            figure=f"KNN predict beside one busy core, vs scikit-learn under the same load, {SIZE}",
            ours=f"knn {busy['knn']:.3f} s",
            reference=f"sklearn brute {busy['sklearn']:.3f} s",
            ratio=ratio,
            goal=">= 1.0, identical predictions",
            met=ratio >= 1.0 and agreement == 1.0,
            note=f"same prediction for {agreement:.2%} of queries; {setting}",
        )
    )


if __name__ == "__main__":
    main()
