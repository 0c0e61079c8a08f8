"""LeNet-5 on Fashion-MNIST: s/epoch against the lesson's loop, time to 90 %, and on a busy machine.

Run from the repository with zoo-lenet5 installed: ``python benchmarks/bench_lenet5.py``.

- Row 1: the lesson's own loop (its model, per-image PIL transforms behind a shuffling
  DataLoader, batch 64, Adam lr 1e-3) against what ``zoo run lenet5 --dataset fashion-mnist``
  does (``zoo_core.training.fit`` on preloaded tensors, same recipe). The lesson runs in a process
  of its own; epochs alternate between the two sides, and each side's test accuracy is taken after
  the same number of epochs.
- Row 2: the zoo's trainer with the ``lenet5`` recipe against the ``lenet5-fast`` recipe: training
  time until the test accuracy, evaluated after each epoch (not timed), first reaches 90 %.
  Recipes alternate, one seed per repeat.
- Row 8: one epoch of what ``zoo run lenet5 --dataset fashion-mnist`` does, on a quiet machine and
  with one other CPU-bound process running (``busy_core``), alternating. Each epoch takes the
  thread count ``zoo run`` would choose at that moment (``zoo_core.threads.choose_threads``).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from contextlib import nullcontext
from typing import Any

import torch
import torch.nn.functional as F
from timing import Row, busy_core, emit, options, pin_threads
from torch import nn

from zoo_core import layout
from zoo_core.hparams import resolve_settings
from zoo_core.registry import get_registry
from zoo_core.threads import choose_threads
from zoo_core.training import fit, predict

DATASET = "fashion-mnist"
TARGET = 0.90


class LessonLeNet5(nn.Module):
    """The lesson's network exactly as written there (relu, avg_pool2d, view(-1, 400))."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, kernel_size=5)
        self.conv2 = nn.Conv2d(6, 16, kernel_size=5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.avg_pool2d(F.relu(self.conv1(x)), kernel_size=2, stride=2)
        x = F.avg_pool2d(F.relu(self.conv2(x)), kernel_size=2, stride=2)
        x = x.view(-1, 16 * 5 * 5)
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        return self.fc3(x)


def lesson_loaders(data_dir: Any) -> tuple[Any, Any]:
    from torch.utils.data import DataLoader
    from torchvision import datasets, transforms

    transform = transforms.Compose(
        [
            transforms.Grayscale(num_output_channels=1),
            transforms.Resize((32, 32)),
            transforms.ToTensor(),
            transforms.Normalize((0.5,), (0.5,)),
        ]
    )

    def dataset(train: bool) -> Any:
        return datasets.FashionMNIST(str(data_dir), train=train, download=False, transform=transform)

    return (
        DataLoader(dataset(True), batch_size=64, shuffle=True),
        DataLoader(dataset(False), batch_size=64, shuffle=False),
    )


def lesson_accuracy(model: nn.Module, test_loader: Any) -> float:
    model.eval()
    correct = total = 0
    with torch.no_grad():
        for images, labels in test_loader:
            correct += int((model(images).argmax(dim=1) == labels).sum())
            total += len(labels)
    model.train()
    return correct / total


def zoo_accuracy(model: nn.Module, test: Any) -> float:
    accuracy = float((predict(model, test.x, task="classification") == test.y).float().mean())
    model.train()
    return accuracy


def recipe(model_name: str) -> tuple[Any, dict[str, Any]]:
    """The model's spec and the trainer settings `zoo run <model> --dataset fashion-mnist` uses."""
    spec = get_registry().model(model_name).spec
    # The whole training set, as the lesson's loop trains on: no validation split held out.
    trainer = dict(resolve_settings(spec, {"val_fraction": 0}, DATASET).trainer)
    return spec, trainer


def train(
    model: nn.Module,
    splits: Any,
    trainer: dict[str, Any],
    seed: int,
    threads: int,
    epochs: int,
    on_epoch: Any = None,
) -> None:
    """What `zoo run` does with the model: the core's trainer, the recipe's settings but ``epochs``."""
    fit(
        model,
        splits.train,
        task="classification",
        seed=seed,
        progress=False,
        on_epoch=on_epoch,
        threads=threads,
        **{**trainer, "epochs": epochs},
    )


def lesson_worker(connection: Any, data_dir: Any, seed: int, threads: int) -> None:
    """The lesson's loop in a process of its own, one epoch per request.

    Its own process, so that it runs as the lesson does: nothing the zoo's trainer sets for its
    process (thread pools, the allocator) applies to it.
    """
    pin_threads(threads)
    train_loader, test_loader = lesson_loaders(data_dir)
    torch.manual_seed(seed)
    model = LessonLeNet5()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    connection.send("ready")
    while (request := connection.recv()) != "stop":
        if request == "accuracy":
            connection.send(lesson_accuracy(model, test_loader))
            continue
        start = time.perf_counter()
        for images, labels in train_loader:
            loss = F.cross_entropy(model(images), labels)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        connection.send(time.perf_counter() - start)


def bench_epoch(splits: Any, data_dir: Any, epochs: int, seed: int, threads: int) -> None:
    """Row 1: one lesson epoch (in its own process) after each of the zoo trainer's epochs."""
    spec, trainer = recipe("lenet5")
    context = multiprocessing.get_context("spawn")  # fork is unsafe once torch's threads exist
    connection, child_end = context.Pipe()
    worker = context.Process(target=lesson_worker, args=(child_end, data_dir, seed, threads))
    worker.start()
    connection.recv()  # its start-up must not overlap the zoo's first epoch
    torch.manual_seed(seed)
    zoo_model = spec.build(get_registry().dataset(DATASET).spec)
    times: dict[str, list[float]] = {"zoo": [], "lesson": []}
    mark = time.perf_counter()

    def between_zoo_epochs(epoch: int, loss: float, validation: Any) -> None:
        nonlocal mark
        times["zoo"].append(time.perf_counter() - mark)
        connection.send("epoch")
        times["lesson"].append(connection.recv())
        mark = time.perf_counter()

    train(zoo_model, splits, trainer, seed, threads, epochs, on_epoch=between_zoo_epochs)
    connection.send("accuracy")
    lesson_acc = connection.recv()
    connection.send("stop")
    worker.join()
    zoo, lesson = statistics.median(times["zoo"]), statistics.median(times["lesson"])
    zoo_acc = zoo_accuracy(zoo_model, splits.test)
    ratio = lesson / zoo
    emit(
        Row(
            row=1,
            figure=f"LeNet-5 s/epoch, Fashion-MNIST 60k, batch 64, Adam 1e-3 (median of {epochs})",
            ours=f"zoo trainer {zoo:.1f} s",
            reference=f"lesson's loop {lesson:.1f} s",
            ratio=ratio,
            goal=">= 5x, accuracy no more than 0.5 points below the lesson's",
            met=ratio >= 5 and zoo_acc >= lesson_acc - 0.005,
            note=f"accuracy after {epochs} epoch(s), seed {seed}: zoo {zoo_acc:.2%}, lesson {lesson_acc:.2%}",
        )
    )


def time_to_target(
    model_name: str, splits: Any, cap: int, seed: int, threads: int
) -> tuple[float | None, int]:
    """Training seconds until test accuracy first reaches TARGET (None if never), and epochs run."""
    spec, trainer = recipe(model_name)
    # A one-cycle recipe ends its schedule at its own epoch count; a constant one may go on to the cap.
    epochs = trainer["epochs"] if trainer["schedule"] == "onecycle" else cap
    torch.manual_seed(seed)
    model = spec.build(get_registry().dataset(DATASET).spec)
    state = {"trained": 0.0, "mark": time.perf_counter(), "epochs": 0}

    class Reached(Exception):
        pass

    def evaluate(epoch: int, loss: float, validation: Any) -> None:
        state["trained"] += time.perf_counter() - state["mark"]
        state["epochs"] = epoch
        if zoo_accuracy(model, splits.test) >= TARGET:
            raise Reached
        state["mark"] = time.perf_counter()

    try:
        train(model, splits, trainer, seed, threads, epochs, on_epoch=evaluate)
    except Reached:
        return state["trained"], state["epochs"]
    return None, state["epochs"]


def bench_time_to_target(splits: Any, cap: int, seeds: list[int], threads: int) -> None:
    """Row 2: the lesson's recipe and the fast one, alternating, one seed per repeat."""
    results: dict[str, list[tuple[float | None, int]]] = {"lenet5": [], "lenet5-fast": []}
    for seed in seeds:
        for name in results:
            results[name].append(time_to_target(name, splits, cap, seed, threads))

    def summary(name: str) -> tuple[float | None, str]:
        reached = [t for t, _ in results[name] if t is not None]
        epochs = ", ".join(str(e) if t is not None else f">{e}" for t, e in results[name])
        if len(reached) < len(results[name]):
            return (
                None,
                f"{name} missed in {len(results[name]) - len(reached)}/{len(seeds)} seeds (epochs {epochs})",
            )
        return statistics.median(reached), f"{name} {statistics.median(reached):.0f} s (epochs {epochs})"

    (fast, fast_text), (lesson, lesson_text) = summary("lenet5-fast"), summary("lenet5")
    ratio = lesson / fast if fast and lesson else float("nan")
    emit(
        Row(
            row=2,
            figure=f"LeNet-5 time to {TARGET:.0%} test accuracy, Fashion-MNIST (seeds 0..{seeds[-1]})",
            ours=fast_text,
            reference=lesson_text,
            ratio=ratio,
            goal=">= 3x",
            met=ratio >= 3,
            note=f"lesson recipe capped at {cap} epochs; evaluation after each epoch is not timed",
        )
    )


def bench_busy(splits: Any, repeats: int, seed: int) -> None:
    """Row 8: one epoch quiet, then one with a busy core, alternating; threads chosen as zoo run does."""
    spec, trainer = recipe("lenet5")
    dataset = get_registry().dataset(DATASET).spec
    times: dict[str, list[float]] = {"quiet": [], "busy": []}
    chosen: dict[str, set[int]] = {"quiet": set(), "busy": set()}
    for _ in range(repeats):
        for side in times:
            with busy_core() if side == "busy" else nullcontext():
                threads = choose_threads()
                torch.manual_seed(seed)
                model = spec.build(dataset)
                start = time.perf_counter()
                train(model, splits, trainer, seed, threads, epochs=1)
                times[side].append(time.perf_counter() - start)
                chosen[side].add(threads)
    quiet, busy = statistics.median(times["quiet"]), statistics.median(times["busy"])

    def threads_text(side: str) -> str:
        return "/".join(str(t) for t in sorted(chosen[side])) + " thread(s)"

    ratio = busy / quiet
    emit(
        Row(
            row=8,
            figure=f"LeNet-5 s/epoch, Fashion-MNIST, lesson recipe: quiet vs busy core (median of {repeats})",
            ours=f"busy {busy:.1f} s ({threads_text('busy')})",
            reference=f"quiet {quiet:.1f} s ({threads_text('quiet')})",
            ratio=ratio,
            goal="<= 2x (busy/quiet: lower is better)",
            met=ratio <= 2,
            note="busy: one `python -c 'while True: pass'` beside it; threads as `zoo run` chooses them "
            f"at the start of each epoch; epochs quiet {', '.join(f'{t:.1f}' for t in times['quiet'])} s, "
            f"busy {', '.join(f'{t:.1f}' for t in times['busy'])} s",
        )
    )


def main() -> None:
    # --repeats: epochs timed in row 1, seeds in row 2.
    parser = options(__doc__.splitlines()[0], repeats=3)
    parser.add_argument("--cap", type=int, default=20, help="most epochs for the lesson recipe in row 2")
    args = parser.parse_args()
    pin_threads(args.threads)
    data_dir = layout.data_dir(layout.zoo_home())
    splits = get_registry().dataset(DATASET).spec.load(data_dir)  # also unpacks what the lesson reads
    bench_epoch(splits, data_dir, args.repeats, seed=0, threads=args.threads)
    bench_time_to_target(splits, args.cap, list(range(args.repeats)), args.threads)
    bench_busy(splits, args.repeats, seed=0)


if __name__ == "__main__":
    main()
