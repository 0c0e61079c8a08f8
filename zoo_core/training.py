"""The one trainer for every gradient-trained model: mini-batches sliced from tensors in memory."""

from __future__ import annotations

import ctypes
import math
import platform
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from functools import cache, reduce
from typing import Any, Callable, Mapping

import torch
from tqdm.auto import tqdm

from .data import Split
from .errors import Diverged, ZooError
from .threads import using_threads

LOSSES = {"classification": "cross_entropy", "forecasting": "mse_loss"}
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


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


def loss_fn(task: str) -> Loss:
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
    val_fraction: float = 0.0,
    patience: int = 0,
    metric: Any = None,
    seed: int = 0,
    progress: int = 1,
    label: str = "",
    on_epoch: Callable[[int, float, Mapping[str, float]], Any] | None = None,
    threads: int | None = None,
) -> History:
    """Train ``model`` in place and return its :class:`History`.

    ``train`` must already be on the model's device. Shuffling uses its own generator
    seeded with ``seed``, so the order of batches is reproducible. With ``schedule="onecycle"``
    ``lr`` is the peak learning rate of a one-cycle schedule spanning all ``epochs``.
    ``threads`` is the run's CPU thread budget (default: torch's current setting); a model with
    ``batch_chunks`` spends it on chunks of each batch (see :class:`ChunkedBackward`).

    ``val_fraction`` of ``train`` is held out (:func:`holdout`) and scored after each epoch with
    ``metric`` (a :class:`zoo_core.MetricSpec`; None: the validation loss). With ``patience``
    training stops once that score has not improved for so many epochs, and the model keeps the
    weights of its best epoch. ``on_epoch(epoch, loss, validation)`` is called after each epoch.
    ``progress`` is what a person sees on stderr (:class:`Progress`): 0 nothing, 1 a line per
    epoch, 2 a line per step too.
    """
    keep_freed_memory()
    criterion = loss_fn(task)
    train, held_out = holdout(train, val_fraction, seed=seed, task=task)
    watch = Watch(held_out, task, metric, criterion) if held_out is not None else None
    if patience and watch is None:  # the settings check refuses this for users; a caller's bug here
        raise ValueError("patience needs a validation split: give val_fraction > 0")
    opt = make_optimizer(model, optimizer, lr, weight_decay)
    n = len(train)
    steps = -(-n // batch_size)
    scheduler = make_schedule(opt, schedule, lr, epochs * steps)
    generator = torch.Generator().manual_seed(seed)
    history = History([])
    best = Best(watch.higher_is_better if watch else True, keep=bool(patience))
    say = Progress(progress, label, epochs, n, steps)
    model.train()
    with gradient_step(model, criterion, train, threads or torch.get_num_threads()) as backward:
        for epoch in range(1, epochs + 1):
            started = time.monotonic()
            order = torch.randperm(n, generator=generator).to(train.x.device)
            total = torch.zeros((), device=train.x.device)
            with say.epoch(epoch) as bar:
                for step, start in enumerate(range(0, n, batch_size)):
                    batch = order[start : start + batch_size]
                    loss = backward(batch)
                    opt.step()
                    if scheduler is not None:
                        scheduler.step()
                    total += loss * len(batch)
                    bar.update(len(batch))
                    say.step(bar, epoch, step, start + len(batch), loss, total)
                    if step % DIVERGENCE_CHECK_STEPS == 0:
                        check_finite(total, epoch, step)
            check_finite(total, epoch, step)
            history.loss.append(total.item() / n)
            scores = {}
            if watch is not None:
                scores = {watch.name: watch.score(model)}
                history.validation.setdefault(watch.name, []).append(scores[watch.name])
                best.offer(epoch, scores[watch.name], model)
            say.epoch_done(epoch, history.loss[-1], scores, best.epoch == epoch, time.monotonic() - started)
            if on_epoch is not None:
                on_epoch(epoch, history.loss[-1], scores)
            if watch is not None and patience and epoch - (best.epoch or 0) >= patience:
                history.stop_reason = f"validation {watch.name} did not improve for {_epochs(patience)}"
                break
    history.stop_reason = history.stop_reason or f"ran all {_epochs(epochs)}"
    history.best_epoch = best.epoch
    if best.state is not None and best.epoch != len(history.loss):
        model.load_state_dict(best.state)
    say.finished(history, restored=best.state is not None)
    return history


def _epochs(n: int) -> str:
    return f"{n} epoch{'s' if n != 1 else ''}"


@dataclass
class History:
    """What training went through: the training loss per epoch, the validation scores, why it stopped.

    An estimator's history is whatever its ``fit`` returned per iteration (``unit``), named
    ``loss_name`` (K-Means: inertia).
    """

    loss: list[float]
    validation: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int | None = None
    stop_reason: str = ""
    unit: str = "epoch"
    loss_name: str = "loss"

    def to_json(self) -> dict[str, Any]:
        """The curves as a row's ``training`` column keeps them (what `zoo report` draws); {} for none."""
        if not self.loss:
            return {}
        data: dict[str, Any] = {"loss": list(self.loss)}
        if self.loss_name != "loss":
            data["loss_name"] = self.loss_name
        if self.unit != "epoch":
            data["unit"] = self.unit
            return data
        data["epochs"] = len(self.loss)
        if self.validation:
            data["validation"] = {name: list(values) for name, values in self.validation.items()}
        if self.best_epoch is not None:
            data["best_epoch"] = self.best_epoch
        if self.stop_reason:
            data["stop_reason"] = self.stop_reason
        return data


def holdout(train: Split, fraction: float, *, seed: int, task: str) -> tuple[Split, Split | None]:
    """``train`` cut in two: what the model trains on, and ``fraction`` of it to validate on (or None).

    Classification: a random share, drawn with ``seed`` from a stream of its own (the batch order
    has another). Forecasting: the latest windows, the end of the series, since neighbouring
    windows share all but one value: a random one would have its near-twins in training.
    Both parts keep the samples' order. The test split is never touched.
    """
    if not fraction:
        return train, None
    n = len(train)
    held = max(1, round(n * fraction))
    if held >= n:
        raise ZooError(
            f"val_fraction={fraction} holds out {held} of the {n} training samples, leaving none to train on"
        )
    if task == "forecasting":
        kept, validation = torch.arange(n - held), torch.arange(n - held, n)
    else:
        # Run seeds are below 2**32: seeds from 2**32 on are a stream no run's batch order uses.
        order = torch.randperm(n, generator=torch.Generator().manual_seed(seed + 2**32))
        validation, kept = order[:held].sort().values, order[held:].sort().values
    return _subset(train, kept), _subset(train, validation)


def _subset(split: Split, rows: torch.Tensor) -> Split:
    index = split.index[rows] if split.index is not None else None
    rows = rows.to(split.x.device)
    return Split(split.x[rows], split.y[rows], index)


class Watch:
    """The score of the model on the validation split: ``metric`` if given, else the validation loss."""

    def __init__(self, validation: Split, task: str, metric: Any, criterion: Loss) -> None:
        self.validation, self.task, self.metric, self.criterion = validation, task, metric, criterion
        self.name = metric.name if metric is not None else "loss"
        self.higher_is_better = bool(metric.higher_is_better) if metric is not None else False
        self.targets = validation.y.cpu().numpy()
        needs_inputs = metric is not None and getattr(metric, "needs_inputs", False)
        self.inputs = validation.x.reshape(len(validation), -1).cpu().numpy() if needs_inputs else None

    def score(self, model: torch.nn.Module) -> float:
        outputs = _outputs(model, self.validation.x)
        model.train()
        if self.metric is None:
            return float(self.criterion(outputs, self.validation.y))
        predictions = _labels_or_values(outputs, self.task).cpu().numpy()
        return float(self.metric.compute(self.targets, predictions, inputs=self.inputs))


class Best:
    """The best validation score so far, its epoch and (to restore, when ``keep``) its weights."""

    def __init__(self, higher_is_better: bool, keep: bool) -> None:
        self.higher_is_better, self.keep = higher_is_better, keep
        self.score: float | None = None
        self.epoch: int | None = None
        self.state: dict[str, torch.Tensor] | None = None

    def offer(self, epoch: int, score: float, model: torch.nn.Module) -> None:
        if not math.isfinite(score):  # an undefined score is never the best
            return
        better = self.score is None or (score > self.score if self.higher_is_better else score < self.score)
        if not better:
            return
        self.score, self.epoch = score, epoch
        if self.keep:
            self.state = {name: value.detach().clone() for name, value in model.state_dict().items()}


# Without a terminal (a CI log, a file), the longest the trainer stays silent, in seconds.
HEARTBEAT_S = 30.0


class Progress:
    """What the trainer tells a person, on stderr: ``level`` 0 nothing, 1 a line per epoch, 2 per step too.

    Each epoch ends in a line that stays: loss, validation score, time. On a terminal a bar shows
    the epoch under way and goes; without one, a line comes at least every :data:`HEARTBEAT_S`.
    """

    def __init__(self, level: int, label: str, epochs: int, n: int, steps: int) -> None:
        self.level, self.epochs, self.n, self.steps = int(level), epochs, n, steps
        self.prefix = f"{label} " if label else ""
        self.terminal = self.level > 0 and sys.stderr.isatty()
        self.said = time.monotonic()

    def line(self, text: str) -> None:
        if self.level > 0:
            tqdm.write(f"{self.prefix}{text}", file=sys.stderr)
            sys.stderr.flush()
            self.said = time.monotonic()

    def epoch(self, epoch: int) -> Any:
        return tqdm(
            total=self.n,
            desc=f"{self.prefix}epoch {epoch}/{self.epochs}",
            unit="sample",
            unit_scale=True,
            leave=False,
            disable=not self.terminal,
            file=sys.stderr,
        )

    def step(
        self, bar: Any, epoch: int, step: int, done: int, loss: torch.Tensor, total: torch.Tensor
    ) -> None:
        # Reading the loss syncs the device: not on every step unless asked to.
        if self.level >= 2:
            self.line(f"epoch {epoch}/{self.epochs} step {step + 1}/{self.steps}: loss {loss.item():.4f}")
        elif self.terminal and step % 20 == 0:
            bar.set_postfix(loss=f"{loss.item():.4f}")
        elif self.level == 1 and not self.terminal and time.monotonic() - self.said >= HEARTBEAT_S:
            self.line(
                f"epoch {epoch}/{self.epochs}: {done:,}/{self.n:,} samples, "
                f"loss so far {total.item() / done:.4f}"
            )

    def epoch_done(
        self, epoch: int, loss: float, validation: Mapping[str, float], best: bool, seconds: float
    ) -> None:
        scores = "".join(f", validation {name} {value:.4f}" for name, value in validation.items())
        mark = " (best)" if best and validation else ""
        self.line(f"epoch {epoch}/{self.epochs}: loss {loss:.4f}{scores}{mark}, {seconds:.1f} s")

    def finished(self, history: History, restored: bool) -> None:
        if len(history.loss) < self.epochs:
            self.line(f"stopped after epoch {len(history.loss)}: {history.stop_reason}")
        if restored and history.best_epoch != len(history.loss):
            self.line(f"kept the weights of epoch {history.best_epoch}, the best on validation")


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
def _outputs(model: torch.nn.Module, x: torch.Tensor, batch_size: int = 1024) -> torch.Tensor:
    model.eval()
    return torch.cat([model(x[start : start + batch_size]) for start in range(0, len(x), batch_size)])


def _labels_or_values(outputs: torch.Tensor, task: str) -> torch.Tensor:
    return outputs.argmax(dim=1) if task == "classification" else outputs.reshape(len(outputs), -1)[:, 0]


def predict(model: torch.nn.Module, x: torch.Tensor, *, task: str, batch_size: int = 1024) -> torch.Tensor:
    """Labels for classification, values for forecasting (the model is left in eval mode)."""
    return _labels_or_values(_outputs(model, x, batch_size), task)
