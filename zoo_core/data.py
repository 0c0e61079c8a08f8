"""The one data-split type every dataset returns, and helpers the lessons share.

Datasets are tensors loaded once; any padding, resizing or scaling is done in bulk here
or in the loader, never per sample inside the training loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Mapping

from . import environment

if TYPE_CHECKING:
    import numpy as np
    import torch


@dataclass(frozen=True)
class Split:
    """Inputs ``x`` (N, *input_shape) and targets ``y`` (N,) as tensors.

    Classification and clustering targets are int64 labels; forecasting targets float32.
    ``index`` optionally gives each target's position in time, for forecast plots.
    """

    x: torch.Tensor
    y: torch.Tensor
    index: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.x.shape[0])

    def to(self, device: Any) -> Split:
        return Split(self.x.to(device), self.y.to(device), self.index)


@dataclass(frozen=True)
class Splits:
    """A dataset's train and test splits, as returned by every loader.

    ``transform_state`` holds what the dataset's transform fitted on the training split (plain
    numbers, e.g. ``{"mean": [...], "scale": [...]}``); each run stores it, so a loaded run
    preprocesses new inputs exactly as its training data was.

    ``fingerprint`` is the SHA-256 of exactly these tensors when it is already known (a cache
    stores it with them, see ``zoo_core.datacache``); provenance then does not hash them again.
    Splits built from other tensors must leave it None.
    """

    train: Split
    test: Split
    transform_state: Mapping[str, Any] = field(default_factory=dict)
    fingerprint: str | None = field(default=None, compare=False, repr=False)


def target_dtype(task: str) -> torch.dtype:
    """Forecasting targets are float32 values; classification and clustering targets int64 labels."""
    import torch

    return torch.float32 if task == "forecasting" else torch.int64


def split_problems(spec: Any, splits: Any, *, sizes: bool = False) -> list[str]:
    """What is wrong with ``splits`` given the dataset ``spec`` that promised them; empty if nothing.

    The runner refuses a run on any problem, before a model sees the data; the conformance
    kit also checks the declared sizes (``sizes=True``).
    """
    import torch

    if not isinstance(splits, Splits):
        return [f"the loader returned {type(splits).__name__}, not zoo_core.data.Splits"]
    problems: list[str] = []
    targets = target_dtype(spec.task)
    for part, declared in (("train", spec.train_size), ("test", spec.test_size)):
        split = getattr(splits, part)
        if not isinstance(split.x, torch.Tensor) or not isinstance(split.y, torch.Tensor):
            problems.append(f"{part} x and y must be tensors")
            continue
        x, y = split.x, split.y
        if tuple(x.shape[1:]) != tuple(spec.input_shape):
            shape = "×".join(map(str, spec.input_shape))
            problems.append(f"{part} inputs are shaped {tuple(x.shape)}, not (N, {shape}) as declared")
        if x.dtype != torch.float32:
            problems.append(f"{part} inputs are {x.dtype}, not torch.float32")
        if y.dtype != targets:
            problems.append(f"{part} targets are {y.dtype}, not {targets} for {spec.task}")
        if y.ndim != 1 or len(y) != len(x):
            problems.append(f"{part} targets are shaped {tuple(y.shape)}, not ({len(x)},) like its inputs")
        if sizes and len(x) != declared:
            problems.append(f"{part} has {len(x)} samples, not {declared} as declared")
        if x.dtype.is_floating_point and not all_finite(x):
            problems.append(f"{part} inputs contain NaN or infinity")
        if spec.classes and y.dtype == torch.int64 and len(y):
            low, high = int(y.min()), int(y.max())
            if low < 0 or high >= len(spec.classes):
                problems.append(
                    f"{part} labels span {low}..{high}, outside the {len(spec.classes)} declared classes"
                )
    return problems


def all_finite(x: torch.Tensor) -> bool:
    """Whether ``x`` holds no NaN or infinity.

    One min/max pass (NaN propagates through both) instead of a boolean mask as large as ``x``:
    0.04 s instead of 0.6 s of CPU on Fashion-MNIST's 250 MB of training inputs, every run.
    """
    import torch

    if x.numel() == 0:
        return True
    low, high = torch.aminmax(x)
    return bool(torch.isfinite(low) and torch.isfinite(high))


def offline() -> bool:
    """True when ``ZOO_OFFLINE`` is set: loaders must not try to download anything."""
    return environment.offline()


def from_numpy(
    x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray, y_test: np.ndarray, *, task: str
) -> Splits:
    """Wrap NumPy arrays as float32 inputs and task-typed targets."""
    import torch

    targets = target_dtype(task)

    def split(x: np.ndarray, y: np.ndarray) -> Split:
        return Split(torch.as_tensor(x, dtype=torch.float32), torch.as_tensor(y, dtype=targets))

    return Splits(split(x_train, y_train), split(x_test, y_test))


def window_series(series: np.ndarray, window: int, test_points: int) -> Splits:
    """Cut a 1-D series into (window -> next value) pairs, holding out its end as test.

    The series is cut once: training pairs come from the first ``len - test_points``
    values only and test pairs from the last ``test_points`` only, so no test window
    contains a training target. Inputs are shaped (N, window, 1) for recurrent models;
    ``index`` records where each target sits in the series.
    """
    import numpy as np
    import torch

    series = np.asarray(series, dtype=np.float32)
    cut = len(series) - test_points
    if window < 1 or cut <= window or test_points <= window:
        raise ValueError(
            f"a series of {len(series)} values cannot give windows of {window} "
            f"on both sides of a test tail of {test_points}"
        )

    def pairs(start: int, stop: int) -> Split:
        starts = np.arange(start, stop - window)
        x = series[starts[:, None] + np.arange(window)][..., None]
        y = series[starts + window]
        return Split(torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(starts + window))

    return Splits(pairs(0, cut), pairs(cut, len(series)))
