"""The gru-cell forecaster: the cell unrolled over a window, read out by a linear head."""

from __future__ import annotations

import pytest
import torch
import zoo_gru_cell
from zoo_gru_cell.model import build_gru_cell

from zoo_core import ZooError
from zoo_core.testing import dataset_spec

# A stand-in for noisy-sine (which lives in the gru plugin, not installed here).
WINDOWS = dataset_spec("forecasting", (10, 1))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_registered_defaults_build_a_lesson_convention_model():
    (spec,) = zoo_gru_cell.zoo_models()
    model_hparams = dict(spec.defaults)  # what the runner passes to the factory: the model's own
    model = spec.build(WINDOWS, **model_hparams)
    assert model.cell.convention == "lesson" and model.cell.hidden_size == 16
    assert model(torch.randn(5, 10, 1)).shape == (5, 1)


def test_unrolls_the_cell_from_a_zero_state():
    model = build_gru_cell(WINDOWS, hidden_size=4)
    x = torch.randn(3, 6, 1)
    h = torch.zeros(3, 4)
    for t in range(6):
        h = model.cell(x[:, t], h)
    torch.testing.assert_close(model(x), model.head(h))


def test_sizes_its_input_from_the_dataset():
    wide = dataset_spec("forecasting", (7, 3))
    model = build_gru_cell(wide, hidden_size=4, convention="torch")
    assert model.cell.w_r.in_features == 3
    assert model(torch.randn(2, 9, 3)).shape == (2, 1)


def test_an_unknown_convention_is_refused_before_the_run():
    from zoo_gru_cell import zoo_models

    from zoo_core.hparams import resolve_settings

    [spec] = zoo_models()
    with pytest.raises(ZooError, match="convention must be one of lesson, torch, got 'keras'"):
        resolve_settings(spec, {"convention": "keras"})
