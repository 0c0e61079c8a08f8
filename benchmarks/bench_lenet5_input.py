"""Time one LeNet-5 training epoch on Fashion-MNIST with two input pipelines.

(a) the lesson's: a torchvision dataset with per-image PIL transforms (Grayscale, Resize,
    ToTensor, Normalize) behind a shuffling DataLoader;
(b) the zoo's: the whole split padded and normalised once into a tensor, batches sliced from it.

Both train the same freshly seeded model with Adam (lr 1e-3, batch 64) on the same subset;
the printed times are medians over ``--repeats`` interleaved epochs of each.
Needs zoo-lenet5 installed; the data comes from the zoo's data folder (``ZOO_HOME``/``ZOO_DATA``),
filled from Debian's dataset-fashion-mnist package or torchvision's download.

    python benchmarks/bench_lenet5_input.py [--subset 20000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import torch
import torch.nn.functional as F
from timing import interleaved_medians
from torch.utils.data import DataLoader, Subset
from torchvision import datasets, transforms
from zoo_lenet5.data import load_fashion_mnist
from zoo_lenet5.model import LeNet5

from zoo_core import ZooError, home

BATCH = 64


def train_epoch(batches: Iterable[tuple[torch.Tensor, torch.Tensor]]) -> None:
    """One epoch of the lesson's training loop over ``batches``, from a freshly seeded model."""
    torch.manual_seed(0)
    model = LeNet5()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    for images, labels in batches:
        loss = F.cross_entropy(model(images), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def lesson_batches(data_dir: Path, subset: int) -> DataLoader:
    transform = transforms.Compose(
        [
            transforms.Grayscale(num_output_channels=1),
            transforms.Resize((32, 32)),
            transforms.ToTensor(),
            transforms.Normalize((0.5,), (0.5,)),
        ]
    )
    dataset = datasets.FashionMNIST(str(data_dir), train=True, download=False, transform=transform)
    return DataLoader(Subset(dataset, range(subset)), batch_size=BATCH, shuffle=True)


def preloaded_batches(x: torch.Tensor, y: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    order = torch.randperm(len(x))
    for start in range(0, len(x), BATCH):
        batch = order[start : start + BATCH]
        yield x[batch], y[batch]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subset", type=int, default=20_000, help="training images per epoch")
    parser.add_argument("--repeats", type=int, default=3, help="epochs timed per pipeline")
    args = parser.parse_args()

    data_dir = home.data_dir(home.zoo_home())
    started = time.perf_counter()
    try:
        train = load_fashion_mnist(data_dir).train  # also unpacks the files the lesson's pipeline reads
    except ZooError as error:
        parser.exit(2, f"{parser.prog}: {error}\n")
    x, y = train.x[: args.subset], train.y[: args.subset]
    prepare = time.perf_counter() - started

    loader = lesson_batches(data_dir, args.subset)
    runs = {
        "lesson": lambda: train_epoch(loader),
        "preloaded": lambda: train_epoch(preloaded_batches(x, y)),
    }
    medians, _ = interleaved_medians(runs, args.repeats)
    lesson, preloaded = medians["lesson"], medians["preloaded"]
    print(
        f"lenet5 input pipeline ({args.subset} Fashion-MNIST images, 1 epoch, batch {BATCH}, "
        f"{torch.get_num_threads()} threads, median of {args.repeats}): "
        f"lesson {lesson:.1f} s, preloaded {preloaded:.1f} s "
        f"(+{prepare:.1f} s once to read, pad and normalise all 70k), ratio {lesson / preloaded:.1f}x"
    )


if __name__ == "__main__":
    main()
