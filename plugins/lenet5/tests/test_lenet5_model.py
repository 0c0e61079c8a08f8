"""LeNet-5's architecture: parameter count, shapes, and no mixing of samples."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from zoo_lenet5 import zoo_datasets
from zoo_lenet5.model import LeNet5, _FirstConv, avg_pool_2x2, build_lenet5, first_conv

from zoo_core import DatasetSpec


def dataset(name: str) -> DatasetSpec:
    return {spec.name: spec for spec in zoo_datasets()}[name]


def test_lenet5_has_the_lessons_61706_parameters() -> None:
    model = build_lenet5(dataset("mnist"))
    assert sum(p.numel() for p in model.parameters()) == 61_706


def test_lenet5_layer_shapes_follow_lecun_1998() -> None:
    model = LeNet5()
    x = torch.randn(2, 1, 32, 32)
    c1 = model.conv1(x)
    c3 = model.conv2(torch.nn.functional.avg_pool2d(c1, 2))
    assert c1.shape == (2, 6, 28, 28)
    assert c3.shape == (2, 16, 10, 10)
    assert model(x).shape == (2, 10)


def test_lenet5_is_sized_by_the_dataset() -> None:
    spec = dataset("fashion-mnist")
    model = build_lenet5(spec)
    assert model.conv1.in_channels == spec.input_shape[0]
    assert model.fc3.out_features == len(spec.classes)
    assert LeNet5(num_classes=3)(torch.randn(4, 1, 32, 32)).shape == (4, 3)


def test_lenet5_scores_each_sample_on_its_own() -> None:
    torch.manual_seed(0)
    model = LeNet5().eval()
    x = torch.randn(5, 1, 32, 32)
    with torch.no_grad():
        together = model(x)
        alone = torch.cat([model(x[i : i + 1]) for i in range(5)])
    torch.testing.assert_close(together, alone, rtol=1e-5, atol=1e-5)


def test_lenet5_rejects_28x28_instead_of_regrouping_the_batch() -> None:
    # With the lesson's view(-1, 400), 25 MNIST-sized images would silently become 16 rows.
    with pytest.raises(RuntimeError):
        LeNet5()(torch.randn(25, 1, 28, 28))


@pytest.mark.parametrize("shape", [(3, 6, 28, 28), (2, 16, 10, 10), (2, 6, 29, 27)])
def test_avg_pool_2x2_matches_torch_forward_and_backward(shape) -> None:
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(avg_pool_2x2(x), F.avg_pool2d(x, 2))
    grad = torch.randn_like(avg_pool_2x2(x))
    (ours,) = torch.autograd.grad(avg_pool_2x2(x), x, grad)
    (torchs,) = torch.autograd.grad(F.avg_pool2d(x, 2), x, grad)
    assert torch.equal(ours, torchs)  # a quarter of each window's gradient, exactly


@pytest.mark.parametrize("shape", [(2, 3, 4, 6), (2, 2, 5, 3)])
def test_avg_pool_2x2_passes_gradcheck(shape) -> None:
    x = torch.randn(*shape, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(avg_pool_2x2, (x,))


@pytest.mark.parametrize("channels, bias", [(1, True), (3, True), (2, False)])
def test_first_conv_matches_torch_forward_and_backward(channels: int, bias: bool) -> None:
    torch.manual_seed(0)
    conv = torch.nn.Conv2d(channels, 4, kernel_size=3, bias=bias).double()
    x = torch.randn(2, channels, 5, 4, dtype=torch.float64, requires_grad=True)
    torch.testing.assert_close(first_conv(conv, x), conv(x))
    assert torch.autograd.gradcheck(_FirstConv.apply, (x, conv.weight, conv.bias))
    # In training the input needs no gradient: the weight and bias gradients alone, as torch's.
    grad = torch.randn(2, 4, 3, 2, dtype=torch.float64)
    ours = torch.autograd.grad(first_conv(conv, x.detach()), conv.parameters(), grad)
    torchs = torch.autograd.grad(conv(x.detach()), conv.parameters(), grad)
    for a, b in zip(ours, torchs, strict=True):
        torch.testing.assert_close(a, b)
