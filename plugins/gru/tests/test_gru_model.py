"""The gru model: the lesson's nn.GRU with a linear head, sized from the dataset."""

from __future__ import annotations

import dataclasses

import pytest
import torch
import zoo_gru
from torch import nn
from zoo_gru.model import build_gru


@pytest.fixture(scope="module")
def dataset():
    (spec,) = zoo_gru.zoo_datasets()
    return spec


def test_registered_defaults_build_the_lessons_model(dataset):
    (spec,) = zoo_gru.zoo_models()
    model_hparams = dict(spec.defaults)  # what the runner passes to the factory: the model's own
    model = spec.build(dataset, **model_hparams)
    reference = [nn.GRU(1, 16, batch_first=True), nn.Linear(16, 1)]
    count = sum(p.numel() for m in reference for p in m.parameters())
    assert sum(p.numel() for p in model.parameters()) == count
    # Full batch, as in the lesson: one step per epoch on the training windows.
    assert spec.trainer["batch_size"] >= dataset.train_size


def test_output_is_one_value_per_window(dataset):
    model = build_gru(dataset, hidden_size=8)
    assert model(torch.randn(5, *dataset.input_shape)).shape == (5, 1)


def test_reads_the_last_step_only(dataset):
    model = build_gru(dataset, hidden_size=8)
    x = torch.randn(3, 10, 1)
    out, _ = model.gru(x)
    torch.testing.assert_close(model(x), model.head(out[:, -1]))


def test_sizes_its_input_from_the_dataset_and_takes_any_length(dataset):
    wide = dataclasses.replace(dataset, input_shape=(7, 3))
    model = build_gru(wide, hidden_size=4, num_layers=2)
    assert model.gru.input_size == 3 and model.gru.num_layers == 2
    assert model(torch.randn(2, 25, 3)).shape == (2, 1)
