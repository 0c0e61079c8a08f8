"""The sine dataset: sine values in, the next value out, split in time."""

from __future__ import annotations

import numpy as np
import torch
import zoo_rnn
from zoo_rnn.data import load_sine


def sine_spec():
    (spec,) = [d for d in zoo_rnn.zoo_datasets() if d.name == "sine"]
    return spec


def test_windows_hold_sine_values_and_target_the_next_one() -> None:
    series = np.sin(np.linspace(0, 100, 200)).astype(np.float32)
    splits = load_sine(None)
    for split in (splits.train, splits.test):
        targets = split.index.numpy()
        starts = targets - 10
        expected_x = np.stack([series[s : s + 10] for s in starts])[..., None]
        np.testing.assert_array_equal(split.x.numpy(), expected_x)
        np.testing.assert_array_equal(split.y.numpy(), series[targets])


def test_split_is_chronological_without_overlap() -> None:
    splits = load_sine(None)
    last_train_target = int(splits.train.index.max())
    first_test_input = int(splits.test.index.min()) - 10
    # No test window may contain a value the model was trained to predict.
    assert first_test_input > last_train_target
    assert torch.equal(splits.test.index, torch.arange(160, 200))


def test_metadata_matches_the_loaded_data() -> None:
    spec = sine_spec()
    splits = spec.load(None)
    assert len(splits.train) == spec.train_size
    assert len(splits.test) == spec.test_size
    assert tuple(splits.train.x.shape[1:]) == spec.input_shape
    assert splits.train.x.dtype == splits.train.y.dtype == torch.float32
    assert spec.primary_metric == "mse"


def test_loading_is_deterministic() -> None:
    first, second = load_sine(None), load_sine(None)
    assert torch.equal(first.train.x, second.train.x)
    assert torch.equal(first.test.y, second.test.y)
