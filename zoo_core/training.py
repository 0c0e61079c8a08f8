"""The one trainer for every gradient-trained model: mini-batches sliced from tensors in memory."""

from __future__ import annotations

import ctypes
import platform
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from functools import cache, reduce
from typing import Any, Callable

import torch
from tqdm.auto import tqdm

from .data import Split
from .errors import Diverged
from .threads import using_threads

LOSSES = {"classification": "cross_entropy", "forecasting": "mse_loss"}


# A NaN or infinite loss stays so once summed; checking the running total every so many steps
# stops a diverged run early without syncing the device on every step.
DIVERGENCE_CHECK_STEPS = 50


def check_finite(total: torch.Tensor, epoch: int, step: int) -> None:
    if not bool(torch.isfinite(total)):
        raise Diverged(f"training diverged: the loss became {total.item()} in epoch {epoch} (step {step})")


# glibc's mallopt parameters (malloc.h), and the largest mmap threshold it accepts on 64-bit.
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
MMAP_THRESHOLD_MAX = 32 * 1024 * 1024


@cache
def keep_freed_memory() -> bool:
    """Let glibc reuse freed blocks up to 32 MB instead of handing them back to the kernel.

    By default each training step's activations (a megabyte or more each) are mmap'ed or trimmed
    off the heap when freed, so the next step page-faults them in again: over a thousand faults
    per LeNet-5 step, a fifth of its time on CPU. The process keeps its peak memory instead, which
    training reaches anyway. Returns whether the setting took (glibc only; elsewhere a no-op).
    """
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return False
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_MAX) and libc.mallopt(M_TRIM_THRESHOLD, 2**30))


def loss_fn(task: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss follows from the task: cross-entropy on logits, or MSE on values."""
    if task not in LOSSES:
        raise ValueError(f"no loss is defined for task {task!r}; a {task} model must be an Estimator")
    function = getattr(torch.nn.functional, LOSSES[task])
    if task == "forecasting":
        return lambda output, target: function(output.reshape(target.shape), target)
    return function


def make_optimizer(
    model: torch.nn.Module, name: str, lr: float, weight_decay: float
) -> torch.optim.Optimizer:
    """The optimizer, fused (one kernel per parameter) where torch has a fused one for the device.

    Adam's default implementation runs about ten small ops per parameter tensor: 0.87 ms of a
    LeNet-5 step on one CPU thread, against 0.20 ms fused. The update is the same formula.
    """
    optimizers = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "sgd": torch.optim.SGD}
    params = list(model.parameters())
    try:
        return optimizers[name](params, lr=lr, weight_decay=weight_decay, fused=True)
    except (RuntimeError, ValueError, TypeError):  # no fused kernel for this device or torch version
        return optimizers[name](params, lr=lr, weight_decay=weight_decay)


def make_schedule(
    opt: torch.optim.Optimizer, name: str, lr: float, total_steps: int
) -> torch.optim.lr_scheduler.LRScheduler | None:
    """The learning-rate schedule, stepped once per batch; None keeps ``lr`` constant."""
    if name == "constant":
        return None
    if name == "onecycle":
        return torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=total_steps)
    raise ValueError(f"unknown schedule {name!r}")


def fit(
    model: torch.nn.Module,
    train: Split,
    *,
    task: str,
    epochs: int,
    batch_size: int,
    lr: float,
    weight_decay: float = 0.0,
    optimizer: str = "adam",
    schedule: str = "constant",
    seed: int = 0,
    progress: bool = True,
    label: str = "",
    on_epoch: Callable[[int, float], Any] | None = None,
    threads: int | None = None,
) -> list[float]:
    """Train ``model`` in place and return the mean training loss of each epoch.

    ``train`` must already be on the model's device. Shuffling uses its own generator
    seeded with ``seed``, so the order of batches is reproducible. With ``schedule="onecycle"``
    ``lr`` is the peak learning rate of a one-cycle schedule spanning all ``epochs``.
    ``threads`` is the run's CPU thread budget (default: torch's current setting); a model with
    ``batch_chunks`` spends it on chunks of each batch (see :class:`ChunkedBackward`).
    """
    keep_freed_memory()
    criterion = loss_fn(task)
    opt = make_optimizer(model, optimizer, lr, weight_decay)
    n = len(train)
    scheduler = make_schedule(opt, schedule, lr, epochs * -(-n // batch_size))
    generator = torch.Generator().manual_seed(seed)
    history: list[float] = []
    model.train()
    with gradient_step(model, criterion, train, threads or torch.get_num_threads()) as backward:
        for epoch in range(1, epochs + 1):
            order = torch.randperm(n, generator=generator).to(train.x.device)
            total = torch.zeros((), device=train.x.device)
            # disable=None lets tqdm stay quiet when stderr is not a terminal.
            with tqdm(
                total=n,
                desc=f"{label} epoch {epoch}/{epochs}",
                unit="sample",
                unit_scale=True,
                leave=False,
                disable=None if progress else True,
            ) as bar:
                for step, start in enumerate(range(0, n, batch_size)):
                    batch = order[start : start + batch_size]
                    loss = backward(batch)
                    opt.step()
                    if scheduler is not None:
                        scheduler.step()
                    total += loss * len(batch)
                    bar.update(len(batch))
                    # Reading the loss syncs the device: not on every step.
                    if step % 20 == 0 and not bar.disable:
                        bar.set_postfix(loss=f"{loss.item():.4f}")
                    if step % DIVERGENCE_CHECK_STEPS == 0:
                        check_finite(total, epoch, step)
            check_finite(total, epoch, step)
            history.append(total.item() / n)
            if on_epoch is not None:
                on_epoch(epoch, history[-1])
    return history


Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


@contextmanager
def gradient_step(
    model: torch.nn.Module, criterion: Loss, train: Split, threads: int
) -> Iterator[Callable[[torch.Tensor], torch.Tensor]]:
    """``backward(batch)``: the batch's mean loss (detached), with its gradients left in ``.grad``.

    The whole batch at once on ``threads`` intra-op threads; or, on the CPU, for a model that sets
    ``batch_chunks``, in that many chunks spread over ``threads`` threads of one intra-op thread each.
    """
    chunks = int(getattr(model, "batch_chunks", 1))
    if chunks <= 1 or train.x.device.type != "cpu":  # a GPU has no cores to share out

        def whole(batch: torch.Tensor) -> torch.Tensor:
            loss = criterion(model(train.x[batch]), train.y[batch])
            for parameter in model.parameters():
                parameter.grad = None
            loss.backward()
            return loss.detach()

        yield whole
        return
    workers = max(1, min(chunks, threads))
    with ThreadPoolExecutor(workers - 1) if workers > 1 else nullcontext() as pool, using_threads(1):
        yield ChunkedBackward(model, criterion, train, chunks, workers, pool)


class ChunkedBackward:
    """A batch's gradients as the sum of its ``chunks`` fixed slices' gradients, on up to ``workers`` threads.

    torch's intra-op threads meet at a barrier after every op: on LeNet-5's small ops they gain
    little on a quiet machine and stall at every op when another process holds a core. Chunks
    on threads of their own meet once per step. Each chunk's loss is its mean times its share of
    the batch, and the gradients are added in chunk order, so the result depends on the number of
    chunks (the model's choice, part of its code) but not on the number of threads: a run gives
    the same weights on 1 thread, 2 threads or a busy machine.

    Only for models whose samples do not interact within a batch (no batch norm) and whose forward
    draws no random numbers (no dropout): chunks run concurrently.
    """

    def __init__(
        self, model: torch.nn.Module, criterion: Loss, train: Split, chunks: int, workers: int, pool: Any
    ) -> None:
        self.model, self.criterion, self.train = model, criterion, train
        self.chunks, self.workers, self.pool = chunks, workers, pool
        self.params = [p for p in model.parameters() if p.requires_grad]

    def __call__(self, batch: torch.Tensor) -> torch.Tensor:
        parts = list(enumerate(batch.chunk(self.chunks)))
        # Worker i takes chunks i, i + workers, ...; the calling thread is worker 0.
        pending = [
            self.pool.submit(self.gradients, parts[i :: self.workers], len(batch))
            for i in range(1, self.workers)
        ]
        results = self.gradients(parts[:: self.workers], len(batch))
        for future in pending:
            results += future.result()
        results.sort(key=lambda result: result[0])
        for at, parameter in enumerate(self.params):
            grads = [grads[at] for _, _, grads in results if grads[at] is not None]
            parameter.grad = reduce(torch.add, grads) if grads else None
        return reduce(torch.add, [loss for _, loss, _ in results])

    def gradients(
        self, parts: list[tuple[int, torch.Tensor]], size: int
    ) -> list[tuple[int, torch.Tensor, Any]]:
        """(chunk index, weighted loss, gradients) of each of ``parts``, a batch of ``size`` samples."""
        results = []
        for index, part in parts:
            loss = self.criterion(self.model(self.train.x[part]), self.train.y[part]) * (len(part) / size)
            results.append((index, loss.detach(), torch.autograd.grad(loss, self.params, allow_unused=True)))
        return results


@torch.no_grad()
def predict(model: torch.nn.Module, x: torch.Tensor, *, task: str, batch_size: int = 1024) -> torch.Tensor:
    """Labels for classification, values for forecasting."""
    model.eval()
    outputs = torch.cat([model(x[start : start + batch_size]) for start in range(0, len(x), batch_size)])
    return outputs.argmax(dim=1) if task == "classification" else outputs.reshape(len(x), -1)[:, 0]
