"""The hand-written cell: the lesson's equations, and its exact relation to nn.GRUCell."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn
from zoo_gru_cell.lesson import lesson_step, per_gate_unroll
from zoo_gru_cell.model import CONVENTIONS, GRUCell, GRUCellForecaster


def torch_cell_with_weights_of(cell: GRUCell) -> nn.GRUCell:
    """An nn.GRUCell whose stacked (r, z, n) chunks are this cell's W, U and biases."""
    reference = nn.GRUCell(cell.input_size, cell.hidden_size)
    with torch.no_grad():
        reference.weight_ih.copy_(torch.cat([cell.w_r.weight, cell.w_z.weight, cell.w_h.weight]))
        reference.weight_hh.copy_(torch.cat([cell.u_r.weight, cell.u_z.weight, cell.u_h.weight]))
        reference.bias_ih.copy_(torch.cat([cell.w_r.bias, cell.w_z.bias, cell.w_h.bias]))
        reference.bias_hh.copy_(torch.cat([cell.u_r.bias, cell.u_z.bias, cell.u_h.bias]))
    return reference


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


def test_lesson_cell_matches_the_equations_sample_by_sample():
    cell = GRUCell(5, 3)
    x, h = torch.randn(4, 5), torch.randn(4, 3)
    batched = cell(x, h)
    assert batched.shape == (4, 3)
    for b in range(4):
        expected = lesson_step(cell, x[b], h[b])
        torch.testing.assert_close(batched[b], expected)
        # The lesson's own call, one unbatched sample, still works.
        torch.testing.assert_close(cell(x[b], h[b]), expected)


@pytest.mark.parametrize("convention", CONVENTIONS)
def test_fused_unroll_equals_the_per_gate_equations_and_their_gradients(convention):
    cell = GRUCell(3, 8, convention)
    x = torch.randn(5, 20, 3, requires_grad=True)
    h = torch.randn(5, 8, requires_grad=True)  # not zero, so r acts from the first step
    # A random weighting of the final state, so every unit's gradient path differs.
    weights = torch.randn(5, 8)
    inputs = {"x": x, "h": h, **dict(cell.named_parameters())}
    fused, reference = cell.unroll(x, h), per_gate_unroll(cell, x, h)
    torch.testing.assert_close(fused, reference)
    grads = [torch.autograd.grad((out * weights).sum(), list(inputs.values())) for out in (fused, reference)]
    for name, got, expected in zip(inputs, *grads, strict=True):
        torch.testing.assert_close(got, expected, msg=lambda message, name=name: f"d/d{name}: {message}")


def test_torch_convention_equals_nn_grucell():
    cell = GRUCell(5, 7, convention="torch")
    reference = torch_cell_with_weights_of(cell)
    x, h = torch.randn(6, 5), torch.randn(6, 7)
    torch.testing.assert_close(cell(x, h), reference(x, h), rtol=0, atol=1e-6)


def test_torch_convention_unrolled_equals_nn_gru():
    model = GRUCellForecaster(2, 7, convention="torch")
    gru = nn.GRU(2, 7, batch_first=True)
    reference = torch_cell_with_weights_of(model.cell)
    gru.load_state_dict({f"{name}_l0": value for name, value in reference.state_dict().items()})
    x = torch.randn(3, 12, 2)
    out, _ = gru(x)
    torch.testing.assert_close(model(x), model.head(out[:, -1]), rtol=0, atol=1e-6)


def test_the_two_conventions_are_different_functions():
    lesson = GRUCell(5, 3, convention="lesson")
    torch_style = GRUCell(5, 3, convention="torch")
    torch_style.load_state_dict(lesson.state_dict())
    x, h = torch.randn(8, 5), torch.randn(8, 3)
    assert (lesson(x, h) - torch_style(x, h)).abs().max() > 1e-3
    # From a zero state and with no bias inside U_h's term, r has nothing to act on, so only
    # z's role differs: lesson h' = z * h~, torch h' = (1 - z) * h~.
    with torch.no_grad():
        for cell in (lesson, torch_style):
            cell.u_h.bias.zero_()
    zero = torch.zeros(8, 3)
    z = torch.sigmoid(lesson.w_z(x) + lesson.u_z(zero))
    torch.testing.assert_close(lesson(x, zero) * (1 - z), torch_style(x, zero) * z)


def test_parameters_and_init_mirror_nn_grucell():
    cell = GRUCell(5, 9)
    reference = nn.GRUCell(5, 9)
    assert sum(p.numel() for p in cell.parameters()) == sum(p.numel() for p in reference.parameters())
    bound = 1 / math.sqrt(9)
    values = torch.cat([p.detach().flatten() for p in cell.parameters()])
    assert values.abs().max() <= bound
    # Uniform on the whole interval, not only the input-side fan-in bound 1/sqrt(5) > 1/sqrt(9).
    assert values.abs().max() > 0.9 * bound


def test_unknown_convention_is_refused():
    with pytest.raises(ValueError, match="convention"):
        GRUCell(1, 2, convention="keras")
