"""Time the zoo's torch KNN against scikit-learn's KNeighborsClassifier, fit + predict.

Run from the repository with zoo-knn installed: ``python benchmarks/bench_knn.py``.
Each case prints one line: median wall time of each side over ``--repeats`` runs, the
ratio sklearn / torch (above 1 means torch is faster) and how often the two agree.
"""

from __future__ import annotations

import argparse
from functools import partial
from typing import Callable

import numpy as np
import torch
from sklearn.neighbors import KNeighborsClassifier
from timing import interleaved_medians
from zoo_knn.model import KNNClassifier

# (train points, queries, dimensions); k=5 and euclidean distance throughout.
SIZES = [(50_000, 10_000, 32), (20_000, 5_000, 8)]
K = 5
CLASSES = 10


def make_data(n_train: int, n_query: int, dims: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gaussian blobs around random centres, so the labels are learnable and distances vary."""
    rng = np.random.default_rng(0)
    centres = rng.normal(scale=2.0, size=(CLASSES, dims))

    def draw(n: int) -> tuple[np.ndarray, np.ndarray]:
        labels = rng.integers(CLASSES, size=n)
        return (centres[labels] + rng.normal(size=(n, dims))).astype(np.float32), labels

    x_train, y_train = draw(n_train)
    x_query, _ = draw(n_query)
    return x_train, y_train, x_query


def torch_knn(x_train: np.ndarray, y_train: np.ndarray, x_query: np.ndarray) -> np.ndarray:
    model = KNNClassifier(CLASSES, k=K, metric="euclidean", p=2.0, chunk_size=1024)
    model.fit(torch.from_numpy(x_train), torch.from_numpy(y_train))
    return model.predict(torch.from_numpy(x_query)).numpy()


def sklearn_knn(algorithm: str) -> Callable[[np.ndarray, np.ndarray, np.ndarray], np.ndarray]:
    def run(x_train: np.ndarray, y_train: np.ndarray, x_query: np.ndarray) -> np.ndarray:
        classifier = KNeighborsClassifier(n_neighbors=K, algorithm=algorithm)
        return classifier.fit(x_train, y_train).predict(x_query)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, CPU, float32, k={K}, euclidean")
    for n_train, n_query, dims in SIZES:
        data = make_data(n_train, n_query, dims)
        runs = {"torch": partial(torch_knn, *data)}
        runs |= {algorithm: partial(sklearn_knn(algorithm), *data) for algorithm in ("auto", "brute")}
        seconds, predictions = interleaved_medians(runs, repeats)
        for algorithm in ("auto", "brute"):
            chosen = KNeighborsClassifier(n_neighbors=K, algorithm=algorithm).fit(*data[:2])._fit_method
            agree = np.mean(predictions["torch"] == predictions[algorithm])
            ratio = seconds[algorithm] / seconds["torch"]
            print(
                f"{n_train} train x {n_query} queries x {dims} dims: torch {seconds['torch']:.2f} s, "
                f"sklearn {algorithm} ({chosen}) {seconds[algorithm]:.2f} s, "
                f"sklearn/torch {ratio:.2f}x, same predictions {agree:.2%}"
            )


if __name__ == "__main__":
    main()
