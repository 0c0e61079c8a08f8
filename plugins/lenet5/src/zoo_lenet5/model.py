"""LeNet-5 (LeCun et al., 1998) as the lesson writes it: ReLU and average pooling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from zoo_core import DatasetSpec


class _AvgPool2x2(torch.autograd.Function):
    """``F.avg_pool2d(x, 2)`` on an even-sized NCHW tensor, as contiguous adds.

    torch's CPU pooling kernel walks each 2x2 window element by element; on LeNet's small maps
    its forward and backward took a sixth of a training step. Adding row pairs, then column
    pairs, computes the same means with vectorised elementwise kernels.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        row_pairs = x.reshape(n * c * h // 2, 2, w)
        rows = (row_pairs[:, 0] + row_pairs[:, 1]).view(-1, w // 2, 2)
        return (rows[..., 0] + rows[..., 1]).mul_(0.25).view(n, c, h // 2, w // 2)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        # Each input pixel gets a quarter of its window's gradient: widen each row, then repeat
        # it; two expansions copy faster than one with both stride-0 axes.
        n, c, h, w = grad.shape
        wide = (grad * 0.25).reshape(n * c * h, w, 1).expand(-1, w, 2).reshape(n * c * h, 1, 2 * w)
        return wide.expand(-1, 2, 2 * w).reshape(n, c, 2 * h, 2 * w)


def avg_pool_2x2(x: torch.Tensor) -> torch.Tensor:
    """2x2 average pooling with stride 2; odd sizes (floored by torch) take torch's own kernel."""
    if x.shape[-1] % 2 or x.shape[-2] % 2 or not x.is_contiguous():
        return F.avg_pool2d(x, kernel_size=2)
    if not (torch.is_grad_enabled() and x.requires_grad):
        # Nothing to differentiate (prediction, export): the same sums without an autograd node,
        # which TorchScript and ONNX cannot export.
        return _AvgPool2x2.forward(None, x)
    return _AvgPool2x2.apply(x)


class LeNet5(nn.Module):
    """Two 5x5 convolutions with 2x2 average pooling, then three fully connected layers.

    Expects (N, in_channels, 32, 32); 61,706 parameters for one channel and ten classes.
    """

    def __init__(self, in_channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=5)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = avg_pool_2x2(F.relu(self.conv1(x)))
        x = avg_pool_2x2(F.relu(self.conv2(x)))
        # flatten(1) keeps the batch axis; the lesson's view(-1, 400) silently
        # regroups values across samples when the input is not 32x32.
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def build_lenet5(dataset: DatasetSpec) -> LeNet5:
    """Size LeNet-5 for ``dataset``: its channel count and its number of classes."""
    return LeNet5(in_channels=dataset.input_shape[0], num_classes=len(dataset.classes))
