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

The parameters stay one Linear per term, as the lesson writes them; the arithmetic is fused.
For a whole sequence the three W terms of every step are one matrix product made before the
loop, and inside it the U terms share products: ``[U_r; U_z]`` for both gates in the lesson
convention (``U_h`` must wait for r), all three ``[U_r; U_z; U_h]`` in the torch convention.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from zoo_core import DatasetSpec

CONVENTIONS = ("lesson", "torch")


def lesson_steps(
    gates_x: torch.Tensor, h: torch.Tensor, u_rz: torch.Tensor, u_h: torch.Tensor
) -> torch.Tensor:
    """The lesson's equations over T steps: ``gates_x`` (T, B, 3 hidden) holds W x + biases as (r, z, h)."""
    hidden = h.shape[-1]
    u_rz_t, u_h_t = u_rz.T, u_h.T
    gates_rz, gates_h = gates_x.split([2 * hidden, hidden], dim=-1)
    # unbind's backward stacks the T step gradients once; indexing gates_x[t] would fill a
    # zero tensor the size of all T steps for each of them.
    for x_rz, x_h in zip(gates_rz.unbind(0), gates_h.unbind(0), strict=True):
        r, z = torch.addmm(x_rz, h, u_rz_t).sigmoid_().chunk(2, dim=-1)
        candidate = torch.addmm(x_h, r * h, u_h_t).tanh_()
        h = torch.lerp(h, candidate, z)  # (1 − z) ⊙ h + z ⊙ h̃ in one kernel
    return h


def torch_steps(
    gates_x: torch.Tensor, h: torch.Tensor, u: torch.Tensor, u_bias: torch.Tensor
) -> torch.Tensor:
    """nn.GRUCell's equations over T steps: ``gates_x`` (T, B, 3 hidden) holds W x + b_W as (r, z, n)."""
    hidden = h.shape[-1]
    u_t = u.T
    gates_rz, gates_n = gates_x.split([2 * hidden, hidden], dim=-1)
    for x_rz, x_n in zip(gates_rz.unbind(0), gates_n.unbind(0), strict=True):
        h_rz, h_n = torch.addmm(u_bias, h, u_t).split([2 * hidden, hidden], dim=-1)
        r, z = (x_rz + h_rz).sigmoid_().chunk(2, dim=-1)
        candidate = torch.addcmul(x_n, r, h_n).tanh_()  # W_h x + r ⊙ (U_h h), then tanh
        h = torch.lerp(candidate, h, z)  # (1 − z) ⊙ n + z ⊙ h
    return h


class GRUCell(nn.Module):
    """One step: x (B, input_size) and h (B, hidden_size) -> h' (B, hidden_size); see the module doc."""

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

    def unroll(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        """x (B, T, input_size) from state h (B, hidden_size) -> the state after the last step."""
        w = torch.cat([self.w_r.weight, self.w_z.weight, self.w_h.weight])
        w_bias = torch.cat([self.w_r.bias, self.w_z.bias, self.w_h.bias])
        u_bias = torch.cat([self.u_r.bias, self.u_z.bias, self.u_h.bias])
        # Time first, so that each step's projections are one block of memory.
        time_major = x.transpose(0, 1)
        if self.convention == "lesson":
            # Here every U bias is only added to its W twin, so both go in before the loop.
            gates_x = F.linear(time_major, w, w_bias + u_bias)
            u_rz = torch.cat([self.u_r.weight, self.u_z.weight])
            return lesson_steps(gates_x, h, u_rz, self.u_h.weight)
        gates_x = F.linear(time_major, w, w_bias)
        u = torch.cat([self.u_r.weight, self.u_z.weight, self.u_h.weight])
        return torch_steps(gates_x, h, u, u_bias)

    def forward(self, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
        if x.dim() == 1:  # the lesson's call: one sample, x (input_size,) and h (hidden_size,)
            return self(x.unsqueeze(0), h.unsqueeze(0)).squeeze(0)
        return self.unroll(x.unsqueeze(1), h)


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
        return self.head(self.cell.unroll(x, h))


def build_gru_cell(
    dataset: DatasetSpec, hidden_size: int = 16, convention: str = "lesson"
) -> GRUCellForecaster:
    """The forecaster sized to the dataset's features per time step (the core checks ``convention``)."""
    return GRUCellForecaster(dataset.input_shape[-1], hidden_size, convention)
