"""noisy-sine: the lesson's series, windowed chronologically with nothing of the test end in training."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import zoo_gru
from zoo_gru.data import LENGTH, TEST_POINTS, WINDOW, load_noisy_sine, noisy_sine


@pytest.fixture(scope="module")
def spec():
    (spec,) = zoo_gru.zoo_datasets()
    return spec


@pytest.fixture(scope="module")
def splits(spec, tmp_path_factory):
    return spec.load(tmp_path_factory.mktemp("data"))


def test_series_is_the_lessons_sine_plus_fixed_noise():
    series = noisy_sine()
    assert series.shape == (LENGTH,) and series.dtype == np.float32
    np.testing.assert_array_equal(series, noisy_sine())  # the run's seed plays no part
    noise = series - np.sin(np.linspace(0, 100, LENGTH))
    assert 0.08 < noise.std() < 0.12  # N(0, 0.1)
    assert abs(noise.mean()) < 0.03


def test_splits_match_the_declared_metadata(spec, splits):
    assert tuple(splits.train.x.shape) == (spec.train_size, *spec.input_shape)
    assert tuple(splits.test.x.shape) == (spec.test_size, *spec.input_shape)
    assert splits.train.y.shape == (spec.train_size,) and splits.test.y.shape == (spec.test_size,)
    for split in (splits.train, splits.test):
        assert split.x.dtype == torch.float32 and split.y.dtype == torch.float32
    assert spec.task == "forecasting" and spec.primary_metric == "mse"


def test_each_window_is_followed_by_its_target():
    series = noisy_sine()
    splits = load_noisy_sine(None)
    for split in (splits.train, splits.test):
        at = split.index.tolist()
        windows = np.stack([series[i - WINDOW : i] for i in at])
        np.testing.assert_array_equal(split.x[..., 0].numpy(), windows)
        np.testing.assert_array_equal(split.y.numpy(), series[at])
    # Every possible window on each side of the cut is used, in time order.
    assert splits.train.index.tolist() == list(range(WINDOW, LENGTH - TEST_POINTS))
    assert splits.test.index.tolist() == list(range(LENGTH - TEST_POINTS + WINDOW, LENGTH))


def test_test_targets_are_the_end_of_the_series_and_never_seen_in_training(splits):
    series = noisy_sine()
    test_targets = splits.test.y.numpy()
    np.testing.assert_array_equal(test_targets, series[-(TEST_POINTS - WINDOW) :])
    # Compare values, not positions: a leak through any indexing mistake would show up here.
    seen_in_training = set(splits.train.x.flatten().tolist()) | set(splits.train.y.tolist())
    assert not seen_in_training & set(test_targets.tolist())
    # Test windows may look back only into the held-out end, never at training targets.
    assert not set(splits.test.x.flatten().tolist()) & set(splits.train.y.tolist())
    assert int(splits.train.index.max()) < LENGTH - TEST_POINTS <= int(splits.test.index.min()) - WINDOW


def test_noise_floor_is_what_the_description_claims(spec, splits):
    # Predicting the clean sine exactly is the best any model can do against noisy targets.
    t = np.linspace(0, 100, LENGTH)[splits.test.index.numpy()]
    floor = float(np.mean((splits.test.y.numpy() - np.sin(t)) ** 2))
    assert 0.005 < floor < 0.015
    assert "0.01" in spec.description
    # The series is far from constant, so a floor near 0.01 is a real bar.
    assert splits.test.y.var().item() > 40 * floor
