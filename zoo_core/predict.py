"""`zoo predict`: read a user's files as raw inputs for a loaded run, and predict them.

What a file holds depends on the model: an image model reads PNG or JPEG images (any size,
any colour mode); a tabular model reads CSV rows of features; a forecaster reads one column
of values (or ``-``, standard input) and forecasts the value after its last window. A file
that cannot be read that way is a :class:`ZooError` naming the file: empty, not an image,
the wrong number of columns, too few values, a value that is not a finite number, a folder.
"""

from __future__ import annotations

import csv
import io
import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ZooError
from .trained import Prediction, TrainedModel

STDIN = "-"


@dataclass(frozen=True)
class Input:
    """One raw input and where it came from: ``source`` is a file name, ``file:row`` for CSV rows."""

    source: str
    sample: Any


def read_inputs(trained: TrainedModel, path: str) -> list[Input]:
    """The raw inputs in one file (or standard input, ``-``), as ``trained`` reads them."""
    if trained.is_image_model:
        if path == STDIN:
            raise ZooError("-: images are read from files, not from standard input")
        return [Input(path, read_image(path))]
    rows = read_csv(path)
    if trained.task == "forecasting":
        return [Input(path, window(trained, path, rows))]
    shape = tuple(trained.dataset.input_shape)
    width = math.prod(shape)
    inputs = []
    for line, row in rows:
        if len(row) != width:
            raise ZooError(
                f"{path}: wrong number of columns: line {line} has {len(row)}, "
                f"{trained.config.model} reads {width} features per row"
            )
        inputs.append(Input(f"{path}:{line}", row if len(shape) == 1 else _reshaped(row, shape)))
    return inputs


def read_image(path: str) -> Any:
    """A PNG, JPEG (or any format Pillow reads) image, fully decoded."""
    from PIL import Image, UnidentifiedImageError

    file = Path(path)
    _check_not_empty(file, path)
    try:
        with Image.open(file) as image:
            image.load()
            return image.copy()
    except UnidentifiedImageError:
        raise ZooError(f"{path}: not an image (Pillow cannot read it)") from None
    except (OSError, SyntaxError, ValueError) as exc:  # truncated or damaged image data
        raise ZooError(f"{path}: not a readable image ({exc})") from None


def read_csv(path: str) -> list[tuple[int, list[float]]]:
    """Numeric CSV rows with their line numbers; a first line of names is a header and skipped."""
    if path == STDIN:
        text = sys.stdin.read()
    else:
        file = Path(path)
        _check_not_empty(file, path)
        try:
            text = file.read_text()
        except UnicodeDecodeError:
            raise ZooError(f"{path}: not a CSV file (not text)") from None
        except OSError as exc:
            raise ZooError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    rows = []
    for line, fields in enumerate(csv.reader(io.StringIO(text)), start=1):
        if not any(field.strip() for field in fields):
            continue
        try:
            values = [float(field) for field in fields]
        except ValueError:
            if rows or line > 1:
                raise ZooError(f"{path}: line {line} is not all numbers: {fields!r}") from None
            continue  # a header
        if not all(math.isfinite(value) for value in values):
            # nan and inf parse as floats, but no model gives a meaningful answer to them
            raise ZooError(f"{path}: line {line} is not all finite numbers: {fields!r}")
        rows.append((line, values))
    if not rows:
        raise ZooError(f"{path}: empty: no rows of numbers")
    return rows


def window(trained: TrainedModel, path: str, rows: list[tuple[int, list[float]]]) -> list[float]:
    """The last window of a column of values: what the forecaster reads to forecast the next one."""
    columns = {len(row) for _, row in rows}
    if columns != {1}:
        raise ZooError(
            f"{path}: wrong number of columns: {max(columns)}; a forecaster reads one column of values"
        )
    values = [row[0] for _, row in rows]
    steps = trained.dataset.input_shape[0]
    if len(values) < steps:
        raise ZooError(
            f"{path}: wrong shape: {len(values)} values, but {trained.config.model} forecasts "
            f"from windows of {steps}"
        )
    return values[-steps:]


def predict_files(trained: TrainedModel, paths: list[str]) -> list[tuple[str, Prediction]]:
    """Every input of every file, predicted in one batch; any bad file fails before predicting."""
    inputs = [item for path in paths for item in read_inputs(trained, path)]
    tensors = []
    for item in inputs:
        try:
            tensors.append(trained.inputs([item.sample]))
        except (ValueError, ZooError) as exc:  # the transform refused it, or gave the wrong shape
            raise ZooError(f"{item.source}: wrong shape: {exc}") from None
    import torch

    predictions = trained.predict_tensor(torch.cat(tensors))
    return [(item.source, prediction) for item, prediction in zip(inputs, predictions, strict=True)]


def _check_not_empty(file: Path, path: str) -> None:
    if file.is_dir():
        raise ZooError(f"{path}: is a folder, not a file")
    if not file.exists():
        raise ZooError(f"{path}: no such file")
    if not file.is_file():
        raise ZooError(f"{path}: not a regular file")  # a FIFO or a device: reading it could hang
    if file.stat().st_size == 0:
        raise ZooError(f"{path}: empty")


def _reshaped(row: list[float], shape: tuple[int, ...]) -> Any:
    import numpy as np

    return np.asarray(row, dtype=np.float32).reshape(shape)
