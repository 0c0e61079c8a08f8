"""The hand-written cell and forecaster against torch's own RNN, with copied weights."""

from __future__ import annotations

import pytest
import torch
from torch import nn
from zoo_rnn.model import CellRNNForecaster, RNNCell, RNNForecaster, build_rnn, build_rnn_cell

from zoo_core.testing import dataset_spec


def windows_spec(steps: int, features: int):
    return dataset_spec("forecasting", (steps, features))


def copy_cell(target: RNNCell, source: nn.RNNCell | nn.RNN, suffix: str = "") -> None:
    with torch.no_grad():
        for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
            getattr(target, name).copy_(getattr(source, name + suffix))


def test_cell_equals_torch_rnn_cell_with_copied_weights() -> None:
    torch.manual_seed(0)
    reference = nn.RNNCell(3, 5)
    cell = RNNCell(3, 5)
    copy_cell(cell, reference)
    x, h = torch.randn(7, 3), torch.randn(7, 5)
    torch.testing.assert_close(cell(x, h), reference(x, h), atol=1e-6, rtol=0)


def test_cell_parameters_mirror_torch_rnn_cell() -> None:
    reference = nn.RNNCell(3, 5)
    cell = RNNCell(3, 5)
    ours = {name: tuple(p.shape) for name, p in cell.named_parameters()}
    theirs = {name: tuple(p.shape) for name, p in reference.named_parameters()}
    assert ours == theirs
    bound = 5**-0.5
    assert all(p.abs().max() <= bound for p in cell.parameters())


def test_cell_forecaster_equals_nn_rnn_over_a_sequence() -> None:
    torch.manual_seed(1)
    reference = RNNForecaster(input_size=2, hidden_size=6)
    ours = CellRNNForecaster(input_size=2, hidden_size=6)
    copy_cell(ours.cell, reference.rnn, suffix="_l0")
    ours.fc.load_state_dict(reference.fc.state_dict())
    x = torch.randn(4, 12, 2)

    torch.testing.assert_close(ours(x), reference(x), atol=1e-6, rtol=0)
    # Backpropagation through the hand-written loop must give nn.RNN's gradients too.
    ours(x).sum().backward()
    reference(x).sum().backward()
    torch.testing.assert_close(ours.cell.weight_hh.grad, reference.rnn.weight_hh_l0.grad, atol=1e-5, rtol=0)
    torch.testing.assert_close(ours.cell.weight_ih.grad, reference.rnn.weight_ih_l0.grad, atol=1e-5, rtol=0)


def test_forecaster_reads_the_last_step_from_a_zero_state() -> None:
    torch.manual_seed(2)
    model = RNNForecaster(input_size=1, hidden_size=4)
    x = torch.randn(3, 5, 1)
    h = torch.zeros(3, 4)
    for step in range(5):
        h = torch.tanh(
            x[:, step] @ model.rnn.weight_ih_l0.T
            + model.rnn.bias_ih_l0
            + h @ model.rnn.weight_hh_l0.T
            + model.rnn.bias_hh_l0
        )
    torch.testing.assert_close(model(x), model.fc(h), atol=1e-6, rtol=0)


@pytest.mark.parametrize("build", [build_rnn, build_rnn_cell])
def test_builders_size_the_model_from_the_dataset(build) -> None:
    model = build(windows_spec(10, 3), hidden_size=8)
    # Any window length works: the recurrence does not fix the number of steps.
    for steps in (10, 4):
        assert model(torch.randn(5, steps, 3)).shape == (5, 1)
    # weight_ih (8x3), weight_hh (8x8), two biases of 8, then the head 8 -> 1.
    assert sum(p.numel() for p in model.parameters()) == 8 * 3 + 8 * 8 + 8 + 8 + 8 + 1


def test_both_models_start_from_the_same_weights_for_the_same_seed() -> None:
    # The cell draws its parameters in nn.RNN's order and bounds, so a seeded run of
    # rnn-cell starts where a run of rnn with that seed starts.
    spec = windows_spec(10, 1)
    torch.manual_seed(3)
    reference = build_rnn(spec)
    torch.manual_seed(3)
    ours = build_rnn_cell(spec)
    x = torch.randn(6, 10, 1)
    torch.testing.assert_close(ours(x), reference(x), atol=1e-6, rtol=0)
