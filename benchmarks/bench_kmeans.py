"""Time the zoo's torch K-Means against scikit-learn's KMeans and against the lesson's loop.

Run from the repository with zoo-kmeans installed: ``python benchmarks/bench_kmeans.py``.
Each case prints one line: the median wall time of each side over ``--repeats`` runs, the
ratio (above 1 means the zoo's torch version is faster), iterations run and final inertia.

- ``fit``: the whole fit as a user runs it, on well-separated blobs: k-means++ seeding (each
  side its own), Lloyd iterations until the relative tolerance 1e-4, n_init=1.
- ``lloyd``: Lloyd iterations only, on overlapping blobs (so neither side converges early),
  both sides from the same initial centroids, tol=0 and a fixed ``max_iter``.
- ``lesson``: the lesson's k_means (fixed only to run on tensors: torch.cdist, then a Python
  loop over clusters with boolean masks) against the zoo's Lloyd iterations, both from the
  same initial points for the same fixed number of iterations (the lesson runs 100; 30 keep
  this script short, and the cost per iteration is what differs).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch
from sklearn.cluster import KMeans as SkKMeans
from threadpoolctl import threadpool_limits
from timing import interleaved_medians
from zoo_kmeans.model import KMeans, lloyd

# (points, dimensions, clusters)
SIZES = [(200_000, 16, 8), (50_000, 64, 32)]
SEPARATED, OVERLAPPING = 10.0, 1.5  # spread of the blob centres, in units of the blobs' std
ITERATIONS = 30


def make_data(n: int, dims: int, k: int, spread: float) -> np.ndarray:
    """Unit-variance Gaussian blobs around k random centres drawn with scale ``spread``."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=spread, size=(k, dims))
    return (centres[rng.integers(k, size=n)] + rng.normal(size=(n, dims))).astype(np.float32)


def lesson_k_means(x: torch.Tensor, centroids: torch.Tensor, num_iters: int) -> torch.Tensor:
    """The lesson's algorithm, repaired only so that it runs on tensors."""
    k = centroids.shape[0]
    for _ in range(num_iters):
        labels = torch.argmin(torch.cdist(x, centroids), dim=1)
        new_centroids = torch.zeros_like(centroids)
        for i in range(k):
            if torch.any(labels == i):
                new_centroids[i, :] = x[labels == i].mean(dim=0)
        centroids = new_centroids
    return centroids


def inertia(x: torch.Tensor, centroids: torch.Tensor) -> float:
    return float((torch.cdist(x.double(), centroids.double()) ** 2).min(dim=1).values.sum())


def random_start(x: torch.Tensor, k: int) -> torch.Tensor:
    """k distinct rows of ``x``, the same for both sides of a comparison."""
    return x[torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:k]]


def report(case: str, seconds: dict[str, float], iterations: dict[str, int], inertia_ratio: float) -> str:
    """One line: each side's time (and iterations, when known), the speed ratio, the inertia ratio."""
    other = next(name for name in seconds if name != "torch")

    def side(name: str) -> str:
        return f"{name} {seconds[name]:.2f} s" + (f" ({iterations[name]} it)" if name in iterations else "")

    return (
        f"{case}: {side('torch')}, {side(other)}, {other}/torch {seconds[other] / seconds['torch']:.2f}x, "
        f"inertia torch/{other} {inertia_ratio:.4f}"
    )


def bench_fit(x: np.ndarray, k: int, repeats: int) -> str:
    tensor = torch.from_numpy(x)
    ours, theirs = KMeans(k=k, tol=1e-4, seed=0), SkKMeans(n_clusters=k, n_init=1, tol=1e-4, random_state=0)
    seconds, _ = interleaved_medians(
        {"torch": lambda: ours.fit(tensor), "sklearn": lambda: theirs.fit(x)}, repeats
    )
    iterations = {"torch": ours.n_iter, "sklearn": theirs.n_iter_}
    return report("fit (k-means++ + tol 1e-4)", seconds, iterations, ours.inertia / theirs.inertia_)


def bench_lloyd(x: np.ndarray, k: int, repeats: int) -> str:
    tensor = torch.from_numpy(x)
    start = random_start(tensor, k)
    theirs = SkKMeans(n_clusters=k, init=start.numpy(), n_init=1, max_iter=ITERATIONS, tol=0.0)
    runs = {"torch": lambda: lloyd(tensor, start, ITERATIONS, tol=0.0), "sklearn": lambda: theirs.fit(x)}
    seconds, _ = interleaved_medians(runs, repeats)
    ours = runs["torch"]()
    iterations = {"torch": ours.n_iter, "sklearn": theirs.n_iter_}
    return report(
        f"lloyd (same start, max {ITERATIONS} it)", seconds, iterations, ours.inertia / theirs.inertia_
    )


def bench_lesson(x: np.ndarray, k: int, repeats: int) -> str:
    tensor = torch.from_numpy(x)
    start = random_start(tensor, k)
    # tol=-1 never stops early, so both sides run exactly ITERATIONS iterations, like the lesson.
    runs = {
        "torch": lambda: lloyd(tensor, start, ITERATIONS, tol=-1.0),
        "lesson": lambda: lesson_k_means(tensor, start, ITERATIONS),
    }
    seconds, _ = interleaved_medians(runs, repeats)
    ratio = inertia(tensor, runs["torch"]().centroids) / inertia(tensor, runs["lesson"]())
    return report(f"lesson loop ({ITERATIONS} it, same start)", seconds, {}, ratio)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    # One thread by default: a per-core comparison that stays stable on a shared machine, where
    # torch's many short parallel regions suffer far more from busy cores than sklearn's few.
    parser.add_argument("--threads", type=int, default=1, help="threads for both sides (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {args.threads} thread(s) for torch and sklearn, CPU, float32, "
        f"median of {args.repeats}"
    )
    with threadpool_limits(limits=args.threads):
        for n, dims, k in SIZES:
            separated, overlapping = make_data(n, dims, k, SEPARATED), make_data(n, dims, k, OVERLAPPING)
            KMeans(k=k, max_iter=2, seed=0).fit(torch.from_numpy(separated[:1000]))  # warm up torch
            for bench, x in ((bench_fit, separated), (bench_lloyd, overlapping), (bench_lesson, overlapping)):
                print(f"kmeans {n}x{dims} k={k} {bench(x, k, args.repeats)}", flush=True)


if __name__ == "__main__":
    main()
