"""MyGRU and the classifier around it: shapes, batching, and the relation to torch.nn.GRUCell."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch
from zoo_gru_layer.lesson import per_gate_unroll
from zoo_gru_layer.model import MyGRU, build_my_gru


def test_layer_maps_a_batch_to_hidden_states_with_six_linear_gates() -> None:
    torch.manual_seed(0)
    layer = MyGRU(input_size=8, hidden_size=16)
    h = layer(torch.randn(5, 8), torch.randn(5, 16))
    assert h.shape == (5, 16)
    # Three input Linears with bias, three hidden Linears without, as in the lesson.
    assert sum(p.numel() for p in layer.parameters()) == 3 * (8 * 16 + 16) + 3 * 16 * 16
    assert layer.W_hz.bias is None and layer.W_hr.bias is None and layer.W_hh.bias is None


def test_layer_on_a_batch_equals_the_layer_on_each_sample() -> None:
    torch.manual_seed(0)
    layer = MyGRU(input_size=8, hidden_size=16)
    x, h = torch.randn(6, 8), torch.randn(6, 16)
    one_by_one = torch.cat([layer(x[i : i + 1], h[i : i + 1]) for i in range(len(x))])
    torch.testing.assert_close(layer(x, h), one_by_one)


def test_layer_equals_torch_gru_cell_when_the_reset_path_is_off() -> None:
    # Torch applies r after its hidden matmul and lets z weigh the OLD state; the lesson
    # applies r before W_hh and lets z weigh the NEW memory. With both hidden-to-memory
    # terms zero the reset gate drops out, and negating z's weights maps one z onto the other.
    torch.manual_seed(0)
    layer = MyGRU(input_size=3, hidden_size=4)
    cell = torch.nn.GRUCell(3, 4)
    with torch.no_grad():
        layer.W_hh.weight.zero_()
        w_ir, w_iz, w_in = cell.weight_ih.chunk(3)
        w_hr, w_hz, w_hn = cell.weight_hh.chunk(3)
        b_ir, b_iz, b_in = cell.bias_ih.chunk(3)
        b_hr, b_hz, b_hn = cell.bias_hh.chunk(3)
        w_hn.zero_()  # chunks are views, so this zeroes the cell's own weights
        b_hn.zero_()
        layer.W_xr.weight.copy_(w_ir)
        layer.W_xr.bias.copy_(b_ir + b_hr)
        layer.W_hr.weight.copy_(w_hr)
        layer.W_xz.weight.copy_(-w_iz)
        layer.W_xz.bias.copy_(-(b_iz + b_hz))
        layer.W_hz.weight.copy_(-w_hz)
        layer.W_xh.weight.copy_(w_in)
        layer.W_xh.bias.copy_(b_in)
    x, h = torch.randn(7, 3), torch.randn(7, 4)
    torch.testing.assert_close(layer(x, h), cell(x, h))


def test_fused_unroll_equals_the_lessons_per_gate_loop_and_its_gradients() -> None:
    torch.manual_seed(0)
    layer = MyGRU(input_size=8, hidden_size=16)
    x = torch.randn(5, 20, 8, requires_grad=True)
    h = torch.randn(5, 16, requires_grad=True)  # not zero, so r acts from the first step
    # A random weighting of the final state, so every unit's gradient path differs.
    weights = torch.randn(5, 16)
    inputs = {"x": x, "h": h, **dict(layer.named_parameters())}
    fused, reference = layer.unroll(x, h), per_gate_unroll(layer, x, h)
    torch.testing.assert_close(fused, reference)
    grads = [torch.autograd.grad((out * weights).sum(), list(inputs.values())) for out in (fused, reference)]
    for name, got, expected in zip(inputs, *grads, strict=True):
        torch.testing.assert_close(got, expected, msg=lambda message, name=name: f"d/d{name}: {message}")


@pytest.mark.parametrize("steps", [1, 10, 23])
def test_classifier_sizes_itself_from_the_dataset(steps: int) -> None:
    torch.manual_seed(0)
    dataset = SimpleNamespace(input_shape=(steps, 3), classes=("a", "b", "c", "d", "e"))
    model = build_my_gru(dataset, hidden_size=12)
    assert model(torch.randn(9, steps, 3)).shape == (9, 5)


def test_classifier_on_a_batch_equals_the_classifier_on_each_sequence() -> None:
    torch.manual_seed(0)
    model = build_my_gru(SimpleNamespace(input_shape=(10, 8), classes=("0", "1", "2", "3")))
    x = torch.randn(6, 10, 8)
    one_by_one = torch.cat([model(x[i : i + 1]) for i in range(len(x))])
    torch.testing.assert_close(model(x), one_by_one)


def test_classifier_reads_the_last_hidden_state_of_the_loop() -> None:
    torch.manual_seed(0)
    model = build_my_gru(SimpleNamespace(input_shape=(4, 2), classes=("0", "1")))
    x = torch.randn(3, 4, 2)
    h = torch.zeros(3, model.gru.hidden_size)
    for t in range(4):
        h = model.gru(x[:, t], h)
    torch.testing.assert_close(model(x), model.fc(h))
