"""The lesson's GRU cell written gate by gate, as readable as the equations.

``GRUCell.unroll`` (model.py) computes the same thing fused for speed: every step's input terms
in one matrix product, the recurrent terms of r and z in another. This module is the version to
read first; the tests check that both give the same states and the same gradients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from .model import GRUCell


def lesson_step(cell: GRUCell, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """One step for ONE sample (x: (input,), h: (hidden,)), exactly the lesson's equations:

    r = σ(W_r x + b + U_r h + b), z = σ(W_z x + b + U_z h + b),
    h~ = tanh(W_h x + b + U_h (r ⊙ h) + b), h' = (1 - z) ⊙ h + z ⊙ h~.
    """

    def affine(layer: torch.nn.Linear, v: torch.Tensor) -> torch.Tensor:
        return layer.weight @ v + layer.bias

    r = torch.sigmoid(affine(cell.w_r, x) + affine(cell.u_r, h))
    z = torch.sigmoid(affine(cell.w_z, x) + affine(cell.u_z, h))
    h_tilde = torch.tanh(affine(cell.w_h, x) + affine(cell.u_h, r * h))
    return (1 - z) * h + z * h_tilde


def per_gate_unroll(cell: GRUCell, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """Either convention over a batch of sequences x (B, T, input), one Linear per term, one step at a time.

    The torch convention (``nn.GRUCell``'s) applies the reset gate after U_h and weighs the old
    state by z instead of 1 - z.
    """
    for t in range(x.shape[1]):
        x_t = x[:, t]
        r = torch.sigmoid(cell.w_r(x_t) + cell.u_r(h))
        z = torch.sigmoid(cell.w_z(x_t) + cell.u_z(h))
        if cell.convention == "lesson":
            h = (1 - z) * h + z * torch.tanh(cell.w_h(x_t) + cell.u_h(r * h))
        else:
            h = (1 - z) * torch.tanh(cell.w_h(x_t) + r * cell.u_h(h)) + z * h
    return h
