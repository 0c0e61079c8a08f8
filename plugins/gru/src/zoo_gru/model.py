"""The lesson's model: torch's nn.GRU read out by a linear layer on the last time step."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from zoo_core import DatasetSpec


class GRUForecaster(nn.Module):
    """(N, T, features) -> (N, 1): the next value after the window."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1) -> None:
        super().__init__()
        self.gru = nn.GRU(input_size, hidden_size, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out, _ = self.gru(x)
        return self.head(out[:, -1, :])


def build_gru(dataset: DatasetSpec, hidden_size: int = 16, num_layers: int = 1) -> GRUForecaster:
    """One GRU sized to the dataset's features per time step."""
    return GRUForecaster(dataset.input_shape[-1], hidden_size, num_layers)
