"""The lesson's GRU layer, written from six Linear gates, and a classifier that loops it over time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from zoo_core import DatasetSpec


class MyGRU(nn.Module):
    """One GRU step on a batch: ``(B, input_size), (B, hidden_size) -> (B, hidden_size)``.

    z = sigmoid(W_xz x + W_hz h), r = sigmoid(W_xr x + W_hr h),
    h~ = tanh(W_xh x + W_hh (r * h)), h' = (1 - z) * h + z * h~.
    So z near 1 takes the new memory h~ and z near 0 keeps the previous state.

    The six Linears are the lesson's parameters; :meth:`unroll` fuses their arithmetic over a
    sequence: the three input terms of every step are one matrix product before the loop, and
    W_hz, W_hr share one product per step (W_hh must wait for r).
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.hidden_size = hidden_size
        # The input Linears carry the biases; the hidden ones have none, as in the lesson.
        self.W_xz = nn.Linear(input_size, hidden_size)
        self.W_hz = nn.Linear(hidden_size, hidden_size, bias=False)
        self.W_xr = nn.Linear(input_size, hidden_size)
        self.W_hr = nn.Linear(hidden_size, hidden_size, bias=False)
        self.W_xh = nn.Linear(input_size, hidden_size)
        self.W_hh = nn.Linear(hidden_size, hidden_size, bias=False)

    def unroll(self, x: torch.Tensor, h_t: torch.Tensor) -> torch.Tensor:
        """``x`` (B, T, input_size) from the state ``h_t`` (B, hidden_size) -> the state after step T."""
        weight = torch.cat([self.W_xz.weight, self.W_xr.weight, self.W_xh.weight])
        bias = torch.cat([self.W_xz.bias, self.W_xr.bias, self.W_xh.bias])
        # Time first, so that each step's projections are one block of memory.
        gates_x = F.linear(x.transpose(0, 1), weight, bias)
        x_zr, x_h = gates_x.split([2 * self.hidden_size, self.hidden_size], dim=-1)
        w_hzr = torch.cat([self.W_hz.weight, self.W_hr.weight]).T
        w_hh = self.W_hh.weight.T
        # unbind's backward stacks the T step gradients once; indexing x_zr[t] would fill a
        # zero tensor the size of all T steps for each of them.
        for x_zr_t, x_h_t in zip(x_zr.unbind(0), x_h.unbind(0), strict=True):
            z_t, r_t = torch.addmm(x_zr_t, h_t, w_hzr).sigmoid_().chunk(2, dim=-1)
            h_tilde_t = torch.addmm(x_h_t, r_t * h_t, w_hh).tanh_()
            h_t = torch.lerp(h_t, h_tilde_t, z_t)  # (1 - z) * h + z * h~ in one kernel
        return h_t

    def forward(self, x: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        return self.unroll(x.unsqueeze(1), h_prev)


class GRUClassifier(nn.Module):
    """Runs :class:`MyGRU` over ``(B, T, F)`` from a zero state; a Linear head reads the last state."""

    def __init__(self, input_size: int, hidden_size: int, num_classes: int) -> None:
        super().__init__()
        self.gru = MyGRU(input_size, hidden_size)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h_t = x.new_zeros(x.size(0), self.gru.hidden_size)
        return self.fc(self.gru.unroll(x, h_t))


def build_my_gru(dataset: DatasetSpec, hidden_size: int = 16) -> GRUClassifier:
    """Size the classifier from the dataset: features per step in, one logit per class out."""
    return GRUClassifier(dataset.input_shape[-1], hidden_size, len(dataset.classes))
