"""LeNet-5 (LeCun et al., 1998) as the lesson writes it: ReLU and average pooling."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch
import torch.nn.functional as F
from torch import nn

if TYPE_CHECKING:
    from zoo_core import DatasetSpec


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
        x = F.avg_pool2d(F.relu(self.conv1(x)), kernel_size=2)
        x = F.avg_pool2d(F.relu(self.conv2(x)), kernel_size=2)
        # flatten(1) keeps the batch axis; the lesson's view(-1, 400) silently
        # regroups values across samples when the input is not 32x32.
        x = x.flatten(1)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def build_lenet5(dataset: DatasetSpec) -> LeNet5:
    """Size LeNet-5 for ``dataset``: its channel count and its number of classes."""
    return LeNet5(in_channels=dataset.input_shape[0], num_classes=len(dataset.classes))
