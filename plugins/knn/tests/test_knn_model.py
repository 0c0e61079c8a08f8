"""The torch KNN gives scikit-learn's predictions, including its tie rules."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import torch
from sklearn.neighbors import KNeighborsClassifier
from zoo_knn.baseline import SklearnKNN
from zoo_knn.data import load_breast_cancer
from zoo_knn.model import KNNClassifier

from zoo_core import ZooError

METRICS = [("euclidean", 2.0), ("manhattan", 2.0), ("minkowski", 3.0)]


def fitted(x: torch.Tensor, y: torch.Tensor, num_classes: int = 2, **hparams) -> KNNClassifier:
    settings = {"k": 3, "metric": "euclidean", "p": 2.0, "chunk_size": 1024} | hparams
    model = KNNClassifier(num_classes, **settings)
    model.fit(x, y)
    return model


def sklearn_predict(x_train, y_train, x_test, *, k: int, metric: str, p: float) -> np.ndarray:
    reference = KNeighborsClassifier(n_neighbors=k, metric=metric, p=p, algorithm="brute")
    return reference.fit(np.asarray(x_train), np.asarray(y_train)).predict(np.asarray(x_test))


@pytest.fixture(scope="module")
def splits():
    return load_breast_cancer(None)


@pytest.mark.parametrize(("metric", "p"), METRICS)
@pytest.mark.parametrize("k", [1, 3, 6])
def test_predictions_equal_sklearn_on_the_lesson_split(splits, metric: str, p: float, k: int) -> None:
    train, test = splits.train, splits.test
    predictions = fitted(train.x, train.y, k=k, metric=metric, p=p).predict(test.x)
    expected = sklearn_predict(train.x, train.y, test.x, k=k, metric=metric, p=p)
    np.testing.assert_array_equal(predictions.numpy(), expected)


def test_lesson_accuracy(splits) -> None:
    predictions = fitted(splits.train.x, splits.train.y).predict(splits.test.x)
    accuracy = (predictions == splits.test.y).double().mean().item()
    expected = sklearn_predict(splits.train.x, splits.train.y, splits.test.x, k=3, metric="euclidean", p=2.0)
    assert accuracy == (expected == splits.test.y.numpy()).mean()
    assert accuracy == pytest.approx(0.9591, abs=1e-4)  # measured; guards the split itself


@pytest.mark.parametrize(("metric", "p"), METRICS)
def test_chunking_does_not_change_predictions(splits, metric: str, p: float) -> None:
    train, test = splits.train, splits.test
    small = fitted(train.x, train.y, metric=metric, p=p, chunk_size=7).predict(test.x)
    whole = fitted(train.x, train.y, metric=metric, p=p, chunk_size=10000).predict(test.x)
    assert torch.equal(small, whole)


def test_vote_tie_goes_to_the_smallest_label() -> None:
    x = torch.tensor([[0.0], [1.0], [-1.0], [5.0]])
    y = torch.tensor([2, 1, 2, 1])
    # Neighbours of 0.4 with k=2: points 0 (label 2) and 1 (label 1), one vote each.
    prediction = fitted(x, y, num_classes=3, k=2).predict(torch.tensor([[0.4]]))
    assert prediction.tolist() == [1]
    assert prediction.tolist() == sklearn_predict(x, y, [[0.4]], k=2, metric="euclidean", p=2.0).tolist()


@pytest.mark.parametrize("labels", [[1, 0, 1], [1, 1, 0]])
def test_distance_tie_keeps_the_lowest_training_index(labels: list[int]) -> None:
    # Points 1 and 2 are equally far from the query; only point 1 may join point 0 (k=2).
    x = torch.tensor([[0.0], [1.0], [1.0]])
    y = torch.tensor(labels)
    prediction = fitted(x, y, k=2).predict(torch.tensor([[0.0]]))
    expected_votes = torch.bincount(y[:2], minlength=2)
    assert prediction.tolist() == [int(expected_votes.argmax())]
    assert prediction.tolist() == sklearn_predict(x, y, [[0.0]], k=2, metric="euclidean", p=2.0).tolist()


@pytest.mark.parametrize(("metric", "p"), METRICS)
def test_many_exact_ties_follow_the_lowest_index_rule(metric: str, p: float) -> None:
    # Small integer coordinates give many equal distances, computed exactly in float32. Here
    # scikit-learn's choice among tied points depends on its heap order, so the reference is
    # a stable sort of float64 distances: the lowest training indices win.
    generator = torch.Generator().manual_seed(0)
    x = torch.randint(0, 3, (300, 4), generator=generator).float()
    y = torch.randint(0, 3, (300,), generator=generator)
    queries = torch.randint(0, 3, (200, 4), generator=generator).float()
    predictions = fitted(x, y, num_classes=3, k=5, metric=metric, p=p, chunk_size=64).predict(queries)

    power = {"euclidean": 2.0, "manhattan": 1.0}.get(metric, p)
    differences = np.abs(queries.double().numpy()[:, None] - x.double().numpy()[None])
    distances = (differences**power).sum(-1) ** (1 / power)
    neighbours = np.argsort(distances, axis=1, kind="stable")[:, :5]
    votes = np.stack([np.bincount(row, minlength=3) for row in y.numpy()[neighbours]])
    assert (distances <= np.sort(distances, axis=1)[:, 4:5]).sum(1).max() > 5  # ties do occur
    np.testing.assert_array_equal(predictions.numpy(), votes.argmax(1))


def test_flattens_each_sample() -> None:
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(40, 2, 3, generator=generator)
    y = torch.randint(0, 2, (40,), generator=generator)
    queries = torch.randn(10, 2, 3, generator=generator)
    model = fitted(x, y)
    assert torch.equal(model.predict(queries), fitted(x.flatten(1), y).predict(queries.flatten(1)))
    assert set(model.state_dict()) == {"x", "y"}
    assert torch.equal(model.state_dict()["x"], x.flatten(1))


def test_sklearn_baseline_agrees_with_the_torch_model(splits) -> None:
    baseline = SklearnKNN(k=3, metric="manhattan", p=2.0)
    baseline.fit(splits.train.x, splits.train.y)
    torch_model = fitted(splits.train.x, splits.train.y, metric="manhattan")
    assert torch.equal(baseline.predict(splits.test.x), torch_model.predict(splits.test.x))


def test_more_neighbours_than_training_points_is_a_user_error() -> None:
    # Settings out of range (k, p, metric, chunk_size) are refused by the core, from the spec's
    # bounds and choices, before any data loads: test_knn_cli tests them.
    with pytest.raises(ZooError, match="larger than the 2 training points"):
        fitted(torch.zeros(2, 1), torch.zeros(2, dtype=torch.long), k=3)


def test_plugin_module_does_not_import_torch() -> None:
    code = "import sys, zoo_knn; zoo_knn.zoo_models(); zoo_knn.zoo_datasets(); print('torch' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"


def test_k_equal_to_the_training_size_votes_over_every_point() -> None:
    x = torch.tensor([[0.0], [1.0], [2.0]])
    y = torch.tensor([1, 0, 1])
    predictions = fitted(x, y, k=3).predict(torch.tensor([[0.0], [9.0]]))
    assert predictions.tolist() == [1, 1]
    assert (
        predictions.tolist() == sklearn_predict(x, y, [[0.0], [9.0]], k=3, metric="euclidean", p=2.0).tolist()
    )


@pytest.mark.filterwarnings("ignore:The number of unique classes")  # sklearn: one point per class
@pytest.mark.parametrize(("query", "nearest"), [(500.3, range(498, 503)), (511.6, range(510, 515))])
def test_neighbours_found_within_one_block_and_across_blocks(query: float, nearest: range) -> None:
    # Every point its own label: a five-way vote tie goes to the smallest label, i.e. the lowest
    # index among the five true neighbours, so a missed or extra neighbour changes the answer.
    # 1000 points make 8 blocks of 128, the last one padded.
    x = torch.arange(1000, dtype=torch.float32).unsqueeze(1)
    y = torch.arange(1000)
    prediction = fitted(x, y, num_classes=1000, k=5).predict(torch.tensor([[query]]))
    assert prediction.tolist() == [min(nearest)]
    assert prediction.tolist() == sklearn_predict(x, y, [[query]], k=5, metric="euclidean", p=2.0).tolist()


def blobs(n: int, dims: int, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Points around 10 Gaussian centres, as in the benchmarks, and their centre as the label."""
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(10, dims, generator=torch.Generator().manual_seed(0)) * 2
    labels = torch.randint(10, (n,), generator=generator)
    return centres[labels] + torch.randn(n, dims, generator=generator), labels


# The benchmark grid's dimensions and k (benchmarks/bench_knn_grid.py), on fewer points.
@pytest.mark.parametrize("metric", ["euclidean", "manhattan"])
@pytest.mark.parametrize("dims", [8, 32, 128])
@pytest.mark.parametrize("k", [1, 5, 15])
def test_grid_sizes_predict_as_sklearn(metric: str, dims: int, k: int) -> None:
    x, y = blobs(3000, dims, seed=1)
    queries, _ = blobs(300, dims, seed=2)
    predictions = fitted(x, y, num_classes=10, k=k, metric=metric, chunk_size=64).predict(queries)
    expected = sklearn_predict(x, y, queries, k=k, metric=metric, p=2.0)
    np.testing.assert_array_equal(predictions.numpy(), expected)


@pytest.mark.parametrize(("metric", "p"), [*METRICS, ("minkowski", 2.0)])
def test_threads_and_chunks_do_not_change_predictions(metric: str, p: float) -> None:
    x, y = blobs(1000, 6, seed=3)
    queries, _ = blobs(333, 6, seed=4)
    previous = torch.get_num_threads()
    predictions = []
    for threads, chunk_size in [(1, 1000), (2, 7), (2, 1000)]:
        torch.set_num_threads(threads)
        try:
            model = fitted(x, y, num_classes=10, k=5, metric=metric, p=p, chunk_size=chunk_size)
            predictions.append(model.predict(queries))
        finally:
            torch.set_num_threads(previous)
    assert torch.get_num_threads() == previous
    assert all(torch.equal(other, predictions[0]) for other in predictions[1:])
    # The padding rows at infinity never become neighbours, even for p=2 through cdist.
    expected = sklearn_predict(x, y, queries, k=5, metric=metric, p=p)
    np.testing.assert_array_equal(predictions[0].numpy(), expected)


def test_no_queries_no_labels() -> None:
    model = fitted(torch.zeros(3, 2), torch.tensor([0, 1, 1]))
    assert model.predict(torch.zeros(0, 2)).shape == (0,)
