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
        # it. Widening is a product with a 0/0.25 matrix: a copy through a stride-0 axis of
        # length 2 runs element by element (3 % of a step's instructions under callgrind), the
        # product vectorises, and adding zeros leaves every value exactly a quarter.
        n, c, h, w = grad.shape
        wide = torch.mm(grad.reshape(n * c * h, w), _widen(w, grad)).view(n * c * h, 1, 2 * w)
        return wide.expand(-1, 2, 2 * w).reshape(n, c, 2 * h, 2 * w)


def _widen(w: int, like: torch.Tensor) -> torch.Tensor:
    """The (w, 2w) matrix that repeats each column twice and scales it by 0.25."""
    widen = torch.zeros(w, 2 * w, dtype=like.dtype, device=like.device)
    columns = torch.arange(w, device=like.device)
    widen[columns, 2 * columns] = 0.25
    widen[columns, 2 * columns + 1] = 0.25
    return widen


class _FirstConv(torch.autograd.Function):
    """``F.conv2d(x, weight, bias)`` (stride 1, no padding) with a faster weight gradient.

    oneDNN computes the weight gradient of LeNet's one-channel first layer slowly: 2.8 ms of a
    9 ms training step (batch 64, one thread). The same sums, grad_w[o, c] = sum over n of the
    correlation of x[n, c] with grad[n, o], are one forward convolution that treats the batch as
    channels: input x as (C, N, H, W), weight grad as (O, N, h, w). That takes 1.1 ms.
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None) -> torch.Tensor:
        ctx.save_for_backward(x, weight)
        ctx.has_bias = bias is not None
        return F.conv2d(x, weight, bias)

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        grad_x = grad_weight = grad_bias = None
        if ctx.needs_input_grad[0]:
            grad_x = torch.nn.grad.conv2d_input(x.shape, weight, grad)
        if ctx.needs_input_grad[1]:
            grad_weight = F.conv2d(x.transpose(0, 1), grad.transpose(0, 1)).transpose(0, 1)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_bias = grad.sum((0, 2, 3))
        return grad_x, grad_weight, grad_bias


def first_conv(conv: nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """``conv(x)`` for a plain convolution (stride 1, no padding, dilation or groups); see _FirstConv."""
    plain = conv.stride == (1, 1) and conv.dilation == (1, 1) and conv.groups == 1
    if not plain or conv.padding != (0, 0) or conv.padding_mode != "zeros":
        return conv(x)
    if not torch.is_grad_enabled():
        # No gradient wanted (prediction, export): torch's own kernel, which TorchScript and ONNX
        # can export, where a custom autograd node cannot.
        return conv(x)
    return _FirstConv.apply(x, conv.weight, conv.bias)


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

    # On the CPU the core trainer computes each batch in two halves, one thread each, and adds
    # their gradients (zoo_core.training.ChunkedBackward): samples never interact in this network,
    # and its ops are too small for torch's intra-op threads to share well.
    batch_chunks = 2

    def __init__(self, in_channels: int = 1, num_classes: int = 10) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, 6, kernel_size=5)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = avg_pool_2x2(F.relu(first_conv(self.conv1, x)))
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
