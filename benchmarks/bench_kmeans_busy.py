"""Row 9: the zoo's K-Means fit quiet and beside one busy core, against scikit-learn under the same load.

Run from the repository with zoo-kmeans installed: ``python benchmarks/bench_kmeans_busy.py``.
Row 4's fit (200,000 x 16 float32 points, k=16, both sides from the same start for 30
iterations, tol=0; see ``bench_kmeans.py``) is timed on the quiet machine and with one other
CPU-bound process running (``busy_core``: ``python -c 'while True: pass'``), side by side in one
run: each repeat times both sides quietly, then both beside the spinner. Both sides use all
cores (``--threads``), as a user's run does by default. The first row is the zoo's busy time
over its quiet time, the second the two sides under the same load. The note repeats the
measurement on one thread, which the thread policy needs.
"""

from __future__ import annotations

import numpy as np
import torch
from bench_kmeans import CLUSTERS, DIMS, ITERATIONS, POINTS, make_data, same_start, sklearn_lloyd
from timing import Row, emit, options, pin_threads, quiet_and_busy
from zoo_kmeans.model import lloyd

SIZE = f"{POINTS:,} x {DIMS}, k={CLUSTERS}, same start, {ITERATIONS} iterations"


def main() -> None:
    args = options(__doc__.splitlines()[0], repeats=5).parse_args()
    x = make_data()
    tensor = torch.from_numpy(x)
    start = same_start(x, CLUSTERS)
    theirs = sklearn_lloyd(start, ITERATIONS)
    runs = {"kmeans": lambda: lloyd(tensor, start, ITERATIONS, tol=0.0), "sklearn": lambda: theirs.fit(x)}
    pin_threads(1)
    one_quiet, one_busy, _ = quiet_and_busy(runs, args.repeats)
    pin_threads(args.threads)
    quiet, busy, results = quiet_and_busy(runs, args.repeats)
    ours = results["kmeans"]
    gap = abs(ours.inertia / theirs.inertia_ - 1)
    same = float(np.mean(ours.labels.numpy() == theirs.labels_))
    slowdown, ratio = busy["kmeans"] / quiet["kmeans"], busy["sklearn"] / busy["kmeans"]
    setting = f"float32, {args.threads} threads, median of {args.repeats}, torch {torch.__version__}"
    one = (
        f"on 1 thread: kmeans {one_quiet['kmeans']:.3f} s quiet, {one_busy['kmeans']:.3f} s busy; sklearn "
        f"{one_quiet['sklearn']:.3f} s quiet, {one_busy['sklearn']:.3f} s busy"
    )
    emit(
        Row(
            row=9,
            figure=f"K-Means fit beside one busy core / quiet, {SIZE}",
            ours=f"kmeans busy {busy['kmeans']:.3f} s / quiet {quiet['kmeans']:.3f} s",
            reference=f"sklearn busy {busy['sklearn']:.3f} s / quiet {quiet['sklearn']:.3f} s",
            ratio=slowdown,
            goal="<= 2.0 (busy / quiet, lower is better)",
            met=slowdown <= 2.0,
            note=f"sklearn busy / quiet {busy['sklearn'] / quiet['sklearn']:.2f}x; {one}; {setting}",
        )
    )
    emit(
        Row(
            row=9,
            figure=f"K-Means fit beside one busy core, vs scikit-learn under the same load, {SIZE}",
            ours=f"kmeans {busy['kmeans']:.3f} s ({ours.n_iter} it)",
            reference=f"sklearn lloyd {busy['sklearn']:.3f} s ({theirs.n_iter_} it)",
            ratio=ratio,
            goal=">= 1.0, inertia within 0.01 %",
            met=ratio >= 1.0 and gap <= 1e-4 and ours.n_iter == theirs.n_iter_,
            note=f"inertia gap {gap:.5%}, same final labels for {same:.3%} of points; {setting}",
        )
    )


if __name__ == "__main__":
    main()
