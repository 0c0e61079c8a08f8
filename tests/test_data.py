"""The shared data helpers every lesson uses."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from zoo_core.data import all_finite, from_numpy, standardize, window_series


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
    scaled_train, scaled_test = standardize(train, test)
    assert scaled_train.ravel().tolist() == [-1.0, 1.0]
    assert scaled_test.ravel().tolist() == [99.0]


@pytest.mark.parametrize(("value", "expected"), [(None, False), ("", False), ("0", False), ("1", True)])
def test_offline_follows_zoo_offline(monkeypatch, value, expected):
    from zoo_core.data import offline

    if value is None:
        monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    else:
        monkeypatch.setenv("ZOO_OFFLINE", value)
    assert offline() is expected


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf"), None])
def test_all_finite_finds_one_bad_value_among_many(bad: float | None) -> None:
    x = torch.randn(1000, 3, dtype=torch.float64)
    if bad is not None:
        x[617, 2] = bad
    assert all_finite(x) is (bad is None)
    assert all_finite(torch.zeros(0, 3))
