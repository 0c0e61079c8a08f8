"""The two datasets: truthful metadata, fixed content, separate splits, waveforms named right."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import zoo_gru_layer
from zoo_gru_layer.data import WAVEFORMS, _waveforms

from zoo_core import DatasetSpec

SPECS = {spec.name: spec for spec in zoo_gru_layer.zoo_datasets()}


@pytest.fixture(params=sorted(SPECS))
def spec(request: pytest.FixtureRequest) -> DatasetSpec:
    return SPECS[request.param]


def test_loaded_data_matches_the_spec(spec: DatasetSpec, tmp_path: Path) -> None:
    splits = spec.load(tmp_path)
    for split, size in ((splits.train, spec.train_size), (splits.test, spec.test_size)):
        assert split.x.shape == (size, *spec.input_shape)
        assert split.x.dtype == torch.float32 and split.y.dtype == torch.int64
        assert set(split.y.tolist()) == set(range(len(spec.classes)))


def test_data_is_fixed_whatever_the_global_seed(spec: DatasetSpec, tmp_path: Path) -> None:
    torch.manual_seed(0)
    first = spec.load(tmp_path)
    torch.manual_seed(1)
    second = spec.load(tmp_path)
    for a, b in ((first.train, second.train), (first.test, second.test)):
        assert torch.equal(a.x, b.x) and torch.equal(a.y, b.y)


def test_no_test_sequence_repeats_a_training_sequence(spec: DatasetSpec, tmp_path: Path) -> None:
    splits = spec.load(tmp_path)
    train = splits.train.x.flatten(1)
    test = splits.test.x.flatten(1)
    assert torch.cdist(test, train).min() > 0


def test_waveform_classes_are_balanced(tmp_path: Path) -> None:
    splits = SPECS["waveforms"].load(tmp_path)
    assert splits.train.y.bincount().tolist() == [250] * 4
    assert splits.test.y.bincount().tolist() == [50] * 4


def test_waveform_labels_name_the_shapes_they_draw() -> None:
    assert SPECS["waveforms"].classes == WAVEFORMS
    u = torch.tensor([[0.0, 0.25, 0.5, 0.75]])
    expected = {
        "sine": [0.0, 1.0, 0.0, -1.0],
        "square": [1.0, 1.0, -1.0, -1.0],
        "sawtooth": [-1.0, -0.5, 0.0, 0.5],
        "triangle": [-1.0, 0.0, 1.0, 0.0],
    }
    for label, name in enumerate(WAVEFORMS):
        drawn = _waveforms(torch.tensor([label]), u)[0]
        torch.testing.assert_close(drawn, torch.tensor(expected[name]), atol=1e-6, rtol=0)
