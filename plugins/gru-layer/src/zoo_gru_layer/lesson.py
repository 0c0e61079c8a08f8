"""The lesson's MyGRU written gate by gate and looped over time, as the lesson's MyModel loops it.

``MyGRU.unroll`` (model.py) computes the same thing fused for speed: the three input terms of
every step in one matrix product, W_hz and W_hr in one product per step. This module is the
version to read first; the tests check that both give the same states and the same gradients.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

if TYPE_CHECKING:
    from .model import MyGRU


def per_gate_unroll(layer: MyGRU, x: torch.Tensor, h: torch.Tensor) -> torch.Tensor:
    """x (B, T, input) from the state h (B, hidden) -> the state after step T, one Linear per term.

    z = σ(W_xz x + W_hz h), r = σ(W_xr x + W_hr h), h~ = tanh(W_xh x + W_hh (r ⊙ h)),
    h' = (1 - z) ⊙ h + z ⊙ h~.
    """
    for t in range(x.size(1)):
        x_t = x[:, t, :]
        z_t = torch.sigmoid(layer.W_xz(x_t) + layer.W_hz(h))
        r_t = torch.sigmoid(layer.W_xr(x_t) + layer.W_hr(h))
        h_tilde_t = torch.tanh(layer.W_xh(x_t) + layer.W_hh(r_t * h))
        h = (1 - z_t) * h + z_t * h_tilde_t
    return h
