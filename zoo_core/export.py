"""`zoo export`: a recorded run's trained network as TorchScript or ONNX, checked before it is kept.

The export is written next to its final name, loaded back with its own runtime (``torch.jit``
or ONNX Runtime), run on the run's test inputs and compared with the original model. Only an
export whose largest difference is within :data:`TOLERANCE` is moved into place.
"""

from __future__ import annotations

import contextlib
import io
import os
import warnings
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import ZooError

if TYPE_CHECKING:
    import numpy as np
    import torch


# What each format needs besides torch; ONNX comes with the extra zoo-core[onnx].
FORMATS = {"torchscript": (), "onnx": ("onnx", "onnxruntime", "onnxscript")}
SUFFIXES = {"torchscript": ".pt", "onnx": ".onnx"}
TOLERANCE = 1e-5
# Traced with a few inputs; the check then runs the whole test split through the export.
EXAMPLE_BATCH = 2


@dataclass(frozen=True)
class Exported:
    """Where the export went, and how far its outputs are from the model's on the test inputs."""

    path: Path
    format: str
    max_difference: float
    inputs: int


def check_format(fmt: str) -> None:
    """Refuse an unknown format, or one whose packages are not installed, in one line."""
    if fmt not in FORMATS:
        raise ZooError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    missing = [package for package in FORMATS[fmt] if find_spec(package) is None]
    if missing:
        raise ZooError(
            f"--format {fmt} needs {', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
            f"not installed: pip install 'zoo-core[{fmt}]'"
        )


def export_run(
    run_id: str, fmt: str, output: Path | None = None, *, home: Path | str | None = None
) -> Exported:
    """Export the network of run ``run_id`` as ``fmt`` to ``output`` (default: its run folder)."""
    import torch

    from .trained import batched, load_run

    check_format(fmt)
    trained = load_run(run_id, device="cpu", home=home)
    if not trained.spec.gradient:
        raise ZooError(
            f"{trained.spec.name} is not a network trained by gradient descent (it fits itself), so "
            "it has no TorchScript or ONNX form; only gradient-trained models can be exported"
        )
    path = Path(output) if output else trained.config.run_dir / f"model{SUFFIXES[fmt]}"
    if path.is_dir():
        raise ZooError(f"--output {path} is a folder; give a file name")
    x = trained.test_inputs(home)
    with torch.no_grad():
        expected = batched(trained.model, x).numpy()
    partial = path.with_name(f".{path.name}.part")
    try:
        with torch.no_grad():
            _EXPORTERS[fmt](trained.model, x[:EXAMPLE_BATCH], partial)
            got = _RUNNERS[fmt](partial, x)
        difference = float(abs(got - expected).max())
        if not difference <= TOLERANCE:  # NaN fails too
            raise ZooError(
                f"the {fmt} export of run {trained.config.run_id} differs from the model by {difference:.3g} "
                f"(more than {TOLERANCE:g}) on its test inputs; nothing was written"
            )
        os.replace(partial, path)
    finally:
        partial.unlink(missing_ok=True)
    return Exported(path, fmt, difference, len(x))


def _quietly() -> contextlib.ExitStack:
    """Silence the exporters' deprecation notes, tracer warnings and progress prints: the check
    that follows says whether the export is right."""
    stack = contextlib.ExitStack()
    stack.enter_context(warnings.catch_warnings())
    warnings.simplefilter("ignore")
    stack.enter_context(contextlib.redirect_stdout(io.StringIO()))
    return stack


def _torchscript(model: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    import torch

    with _quietly():
        torch.jit.trace(model, example, check_trace=False).save(str(path))


def _run_torchscript(path: Path, x: torch.Tensor) -> np.ndarray:
    import torch

    from .trained import batched

    with _quietly():
        loaded = torch.jit.load(str(path), map_location="cpu")
    return batched(loaded, x).numpy()


def _onnx(model: torch.nn.Module, example: torch.Tensor, path: Path) -> None:
    import torch

    batch = torch.export.Dim("batch", min=1)
    with _quietly():
        torch.onnx.export(
            model,
            (example,),
            str(path),
            dynamo=True,
            external_data=False,
            input_names=["input"],
            output_names=["output"],
            dynamic_shapes=({0: batch},),
        )


def _run_onnx(path: Path, x: torch.Tensor) -> Any:
    import onnxruntime

    from .trained import batched

    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    return batched(lambda part: session.run(None, {name: part.numpy()})[0], x)


_EXPORTERS = {"torchscript": _torchscript, "onnx": _onnx}
_RUNNERS = {"torchscript": _run_torchscript, "onnx": _run_onnx}
