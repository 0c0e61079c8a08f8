"""The lesson's RNN forecaster, built twice: on ``nn.RNN`` and on a hand-written cell.

Both read a window of shape (N, steps, features), run a tanh recurrence over it from a
zero hidden state, and map the last hidden state to one predicted value with a linear
head, as the lesson's ``RNNModel`` does.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from zoo_core import DatasetSpec


class RNNForecaster(nn.Module):
    """The lesson's ``RNNModel``: one ``nn.RNN`` layer and a linear head on the last step."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int = 1) -> None:
        super().__init__()
        self.rnn = nn.RNN(input_size, hidden_size, batch_first=True)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # nn.RNN starts from a zero hidden state, which is what the lesson's explicit h0 holds.
        out, _ = self.rnn(x)
        return self.fc(out[:, -1, :])


class RNNCell(nn.Module):
    """One Elman step, h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh), on a batch.

    Parameter names, shapes and initialisation follow ``nn.RNNCell``, so its weights copy
    across one to one; the two biases are redundant but kept for that reason.
    """

    def __init__(self, input_size: int, hidden_size: int) -> None:
        super().__init__()
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.weight_ih = nn.Parameter(torch.empty(hidden_size, input_size))
        self.weight_hh = nn.Parameter(torch.empty(hidden_size, hidden_size))
        self.bias_ih = nn.Parameter(torch.empty(hidden_size))
        self.bias_hh = nn.Parameter(torch.empty(hidden_size))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        bound = 1.0 / math.sqrt(self.hidden_size)
        for parameter in self.parameters():
            nn.init.uniform_(parameter, -bound, bound)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        return torch.tanh(x @ self.weight_ih.T + self.bias_ih + h @ self.weight_hh.T + self.bias_hh)


class CellRNNForecaster(nn.Module):
    """The same forecaster as :class:`RNNForecaster`, unrolled by hand over :class:`RNNCell`."""

    def __init__(self, input_size: int, hidden_size: int, output_size: int = 1) -> None:
        super().__init__()
        self.cell = RNNCell(input_size, hidden_size)
        self.fc = nn.Linear(hidden_size, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = x.new_zeros(x.shape[0], self.cell.hidden_size)
        for step in range(x.shape[1]):
            h = self.cell(x[:, step, :], h)
        return self.fc(h)


def build_rnn(dataset: DatasetSpec, hidden_size: int = 16) -> RNNForecaster:
    """Build the ``nn.RNN`` forecaster for a dataset of (steps, features) windows."""
    return RNNForecaster(dataset.input_shape[-1], hidden_size)


def build_rnn_cell(dataset: DatasetSpec, hidden_size: int = 16) -> CellRNNForecaster:
    """Build the hand-unrolled cell forecaster for a dataset of (steps, features) windows."""
    return CellRNNForecaster(dataset.input_shape[-1], hidden_size)
