"""The lesson's GRU layer, written from six Linear gates, and a classifier that loops it over time."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from zoo_core import DatasetSpec


class MyGRU(nn.Module):
    """One GRU step on a batch: ``(B, input_size), (B, hidden_size) -> (B, hidden_size)``.

    z = sigmoid(W_xz x + W_hz h), r = sigmoid(W_xr x + W_hr h),
    h~ = tanh(W_xh x + W_hh (r * h)), h' = (1 - z) * h + z * h~.
    So z near 1 takes the new memory h~ and z near 0 keeps the previous state.
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

    def forward(self, x: torch.Tensor, h_prev: torch.Tensor) -> torch.Tensor:
        z_t = torch.sigmoid(self.W_xz(x) + self.W_hz(h_prev))
        r_t = torch.sigmoid(self.W_xr(x) + self.W_hr(h_prev))
        h_tilde_t = torch.tanh(self.W_xh(x) + self.W_hh(r_t * h_prev))
        return (1 - z_t) * h_prev + z_t * h_tilde_t


class GRUClassifier(nn.Module):
    """Runs :class:`MyGRU` over ``(B, T, F)`` from a zero state; a Linear head reads the last state."""

    def __init__(self, input_size: int, hidden_size: int, num_classes: int) -> None:
        super().__init__()
        self.gru = MyGRU(input_size, hidden_size)
        self.fc = nn.Linear(hidden_size, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h_t = x.new_zeros(x.size(0), self.gru.hidden_size)
        for t in range(x.size(1)):
            h_t = self.gru(x[:, t, :], h_t)
        return self.fc(h_t)


def build_my_gru(dataset: DatasetSpec, hidden_size: int = 16) -> GRUClassifier:
    """Size the classifier from the dataset: features per step in, one logit per class out."""
    return GRUClassifier(dataset.input_shape[-1], hidden_size, len(dataset.classes))
