"""The lesson's GRU cell, batched and with biases, looped over time by a forecaster.

Two conventions share one set of parameters (the same shapes as ``nn.GRUCell``):

- ``"lesson"`` (Cho et al. 2014, as the lesson writes it)::

      r  = σ(W_r x + U_r h)        z = σ(W_z x + U_z h)
      h̃  = tanh(W_h x + U_h (r ⊙ h))
      h' = (1 − z) ⊙ h + z ⊙ h̃

- ``"torch"`` (``nn.GRUCell``, cuDNN): r multiplies U_h h after the matrix, and z keeps
  the old state instead of the candidate::

      n  = tanh(W_h x + r ⊙ (U_h h))
      h' = (1 − z) ⊙ n + z ⊙ h

Every ``W`` and ``U`` term carries its own bias, as in ``nn.GRUCell``. In the lesson
convention the two biases of a gate only ever appear summed, so one of each pair is
redundant; they are kept so that both conventions have the same parameters and the
torch convention can load ``nn.GRUCell`` weights chunk by chunk.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
from torch import nn

if TYPE_CHECKING:
    from zoo_core import DatasetSpec

CONVENTIONS = ("lesson", "torch")


class GRUCell(nn.Module):
    """One step: x (B, input_size) and h (B, hidden_size) -> h' (B, hidden_size)."""

    def __init__(self, input_size: int, hidden_size: int, convention: str = "lesson") -> None:
        super().__init__()
        if convention not in CONVENTIONS:
            raise ValueError(f"convention must be one of {', '.join(CONVENTIONS)}, not {convention!r}")
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.convention = convention
        # W_* act on the input, U_* on the state; the weight layout (out, in) is nn.Linear's,
        # so the lesson's `W @ x` on one sample becomes `x @ W.T` on a batch.
        self.w_r, self.w_z, self.w_h = (nn.Linear(input_size, hidden_size) for _ in range(3))
        self.u_r, self.u_z, self.u_h = (nn.Linear(hidden_size, hidden_size) for _ in range(3))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """U(-1/√hidden, 1/√hidden) for every weight and bias, as nn.GRUCell does.

        The lesson divides by ``param.size(0)``, which is hidden_size for W (hidden, input)
        and U (hidden, hidden) alike: the same bound, but only by accident of the layout.
        """
        bound = 1.0 / math.sqrt(self.hidden_size)
        for param in self.parameters():
            nn.init.uniform_(param, -bound, bound)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        r = torch.sigmoid(self.w_r(x) + self.u_r(h))
        z = torch.sigmoid(self.w_z(x) + self.u_z(h))
        if self.convention == "lesson":
            candidate = torch.tanh(self.w_h(x) + self.u_h(r * h))
            return (1 - z) * h + z * candidate
        candidate = torch.tanh(self.w_h(x) + r * self.u_h(h))
        return (1 - z) * candidate + z * h


class GRUCellForecaster(nn.Module):
    """(N, T, features) -> (N, 1): the cell unrolled over T steps from h = 0, then a linear head."""

    def __init__(self, input_size: int, hidden_size: int, convention: str = "lesson") -> None:
        super().__init__()
        self.cell = GRUCell(input_size, hidden_size, convention)
        self.head = nn.Linear(hidden_size, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # The lesson made h with torch.zeros(hidden) on the CPU; a batched state on x's
        # device and dtype keeps the loop working on CUDA/MPS and under autocast.
        h = x.new_zeros(x.shape[0], self.cell.hidden_size)
        for t in range(x.shape[1]):
            h = self.cell(x[:, t], h)
        return self.head(h)


def build_gru_cell(
    dataset: DatasetSpec, hidden_size: int = 16, convention: str = "lesson"
) -> GRUCellForecaster:
    """The forecaster sized to the dataset's features per time step (the core checks ``convention``)."""
    return GRUCellForecaster(dataset.input_shape[-1], hidden_size, convention)
