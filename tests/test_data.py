"""The shared data helpers every lesson uses."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
import torch

from zoo_core.data import all_finite, from_numpy, window_series
from zoo_core.transforms import fit_standardization, standardize


def test_window_series_is_chronological_and_leak_free():
    series = np.arange(100, dtype=np.float32)
    splits = window_series(series, window=10, test_points=30)
    train, test = splits.train, splits.test
    assert train.x.shape == (60, 10, 1) and test.x.shape == (20, 10, 1)
    # Each target is the value right after its window.
    assert torch.equal(train.y, train.x[:, -1, 0] + 1) and torch.equal(test.y, test.x[:, -1, 0] + 1)
    assert torch.equal(train.index.float(), train.y) and torch.equal(test.index.float(), test.y)
    # No test window contains any training target, and all test targets come later.
    assert set(test.x.flatten().tolist()).isdisjoint(train.y.tolist())
    assert test.y.min() > train.y.max()


def test_window_series_rejects_impossible_cuts():
    with pytest.raises(ValueError):
        window_series(np.zeros(20), window=10, test_points=10)


def test_from_numpy_types_targets_by_task():
    x = np.zeros((4, 2))
    y = np.array([0, 1, 0, 1])
    assert from_numpy(x, y, x, y, task="classification").train.y.dtype == torch.int64
    assert from_numpy(x, y, x, y, task="forecasting").test.y.dtype == torch.float32
    assert from_numpy(x, y, x, y, task="classification").train.x.dtype == torch.float32


def test_standardize_uses_training_statistics_only():
    train = np.array([[0.0], [2.0]])
    test = np.array([[100.0]])
    state = fit_standardization(train)
    assert state == {"mean": [1.0], "scale": [1.0]}
    assert standardize(train, **state).ravel().tolist() == [-1.0, 1.0]
    assert standardize(test[0], **state).tolist() == [99.0]  # one row alike


@pytest.mark.parametrize(("value", "expected"), [(None, False), ("", False), ("0", False), ("1", True)])
def test_offline_follows_zoo_offline(monkeypatch, value, expected):
    from zoo_core.data import offline

    if value is None:
        monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    else:
        monkeypatch.setenv("ZOO_OFFLINE", value)
    assert offline() is expected


def test_f1_matches_scikit_learn_without_importing_it():
    import numpy as np
    from sklearn.metrics import f1_score

    from zoo_core.metrics import f1

    rng = np.random.default_rng(0)
    for _ in range(200):
        classes = int(rng.integers(1, 8))
        targets = rng.integers(0, classes, int(rng.integers(1, 60)))
        predictions = rng.integers(0, classes + 1, len(targets))  # sometimes a class never in the targets
        expected = f1_score(targets, predictions, average="macro", zero_division=0)
        assert f1(targets, predictions) == pytest.approx(expected, abs=1e-12)


def test_a_dataset_declares_its_transform_and_raw_samples_together():
    from zoo_core.testing import dataset_spec

    spec = dataset_spec("classification", (2,), ("a", "b"), name="pairs")
    assert spec.problems() == []
    half = replace(spec, transform="zoo_core.transforms:standardize")
    assert half.problems() == [
        "transform is given without raw: the kit checks a transform on the raw samples, so declare both "
        "or neither"
    ]
    assert replace(half, raw="pairs:raw").problems() == []
    assert replace(spec, transform="not a reference", raw="pairs:raw").problems() == [
        "transform 'not a reference' must be a callable or a 'package.module:attribute' string"
    ]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), None])
def test_all_finite_finds_one_bad_value_among_many(bad: float | None) -> None:
    x = torch.randn(1000, 3, dtype=torch.float64)
    if bad is not None:
        x[617, 2] = bad
    assert all_finite(x) is (bad is None)
    assert all_finite(torch.zeros(0, 3))
