"""Preprocessing a dataset declares: one raw sample in, one model input out.

A :class:`~zoo_core.specs.DatasetSpec` may name ``transform(sample, **state)``, as torchvision's
``weights.transforms()`` gives a model's preprocessing. Its loader runs the same code on the
whole dataset, so training and prediction cannot drift. What a transform fits on the training
split (standardisation statistics) is its ``state``: the loader returns it in
``Splits.transform_state``, each run stores it as ``transform.json`` beside its weights, and
:func:`bind` gives it back to the transform of a loaded run.

The helpers below are what lessons share: images of any size and colour mode as grayscale
arrays, resizing, and standardisation with fitted statistics.
"""

from __future__ import annotations

import inspect
import json
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

from . import layout
from .errors import ZooError
from .specs import resolve

if TYPE_CHECKING:
    import numpy as np
    import torch

    from .specs import DatasetSpec

Transform = Callable[[Any], "torch.Tensor"]
# ITU-R 601-2 luma, the weights Pillow's convert("L") uses.
LUMA = (0.299, 0.587, 0.114)


def grayscale(sample: Any) -> torch.Tensor:
    """One image as a 2-D tensor (H, W): uint8 (0..255) for PIL images and integer arrays, else
    float32 (taken to lie in [0, 1]).

    Takes a PIL image of any mode, or an array or tensor shaped (H, W), (H, W, C) or (C, H, W)
    with C of 1, 3 or 4 (alpha is ignored). Colour becomes luma; uint8 colour goes through
    Pillow, so an array and the same image opened from a file give the same pixels.
    """
    import numpy as np
    import torch

    if _is_pil_image(sample):
        return torch.from_numpy(np.array(sample.convert("L")))
    array = sample.detach().cpu().numpy() if isinstance(sample, torch.Tensor) else np.asarray(sample)
    if array.ndim == 3 and array.shape[0] in (1, 3, 4) and array.shape[-1] not in (1, 3, 4):
        array = np.moveaxis(array, 0, -1)  # channels first, as torch keeps images
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        if array.dtype == np.uint8:
            from PIL import Image

            return torch.from_numpy(np.array(Image.fromarray(array[..., :3]).convert("L")))
        array = array[..., :3].astype(np.float32) @ np.asarray(LUMA, dtype=np.float32)
    if array.ndim != 2 or 0 in array.shape:
        raise ValueError(f"an image must be shaped (H, W) or (H, W, channels), not {array.shape}")
    if array.dtype.kind in "iu":  # integer pixels are 0..255, as in an 8-bit image
        if array.min() < 0 or array.max() > 255:
            raise ValueError("integer pixels must lie in 0..255; give floats in [0, 1] otherwise")
        return torch.from_numpy(np.ascontiguousarray(array, dtype=np.uint8))
    if array.dtype.kind != "f":
        raise ValueError(f"an image holds numbers, not {array.dtype}")
    return torch.from_numpy(np.ascontiguousarray(array, dtype=np.float32))


def resize(images: torch.Tensor, side: int) -> torch.Tensor:
    """Float images (N, C, H, W) resized to side x side: bilinear, antialiased when shrinking."""
    import torch.nn.functional as F

    if tuple(images.shape[-2:]) == (side, side):
        return images
    shrinking = images.shape[-1] > side or images.shape[-2] > side
    return F.interpolate(images, size=(side, side), mode="bilinear", align_corners=False, antialias=shrinking)


def fit_standardization(x_train: np.ndarray) -> dict[str, list[float]]:
    """Per-feature mean and standard deviation of the training rows (1 where a feature is constant)."""
    from sklearn.preprocessing import StandardScaler

    scaler = StandardScaler().fit(x_train)
    return {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()}


def standardize(rows: Any, *, mean: list[float], scale: list[float]) -> torch.Tensor:
    """A row of features, or rows of them, scaled with fitted statistics, as float32.

    The arithmetic is scikit-learn's StandardScaler's, in float64, so the loader's bulk call
    and a loaded run's call on one row give the same numbers.
    """
    import numpy as np
    import torch

    x = np.asarray(rows, dtype=np.float64)
    if x.ndim not in (1, 2) or x.shape[-1] != len(mean):
        raise ValueError(f"expected rows of {len(mean)} features, got an array shaped {x.shape}")
    return torch.as_tensor((x - np.asarray(mean)) / np.asarray(scale), dtype=torch.float32)


def as_input(sample: Any, *, input_shape: tuple[int, ...]) -> torch.Tensor:
    """The transform of a dataset that declares none: the sample as float32, of the declared shape.

    A window of values (T,) for inputs shaped (T, 1) gains its feature axis.
    """
    import numpy as np
    import torch

    x = torch.as_tensor(np.asarray(sample, dtype=np.float32))
    if (*x.shape, 1) == tuple(input_shape):
        x = x.unsqueeze(-1)
    if tuple(x.shape) != tuple(input_shape):
        shape = "×".join(map(str, input_shape))
        raise ValueError(f"an input shaped {'×'.join(map(str, x.shape)) or 'scalar'}, not {shape}")
    return x


def bind(spec: DatasetSpec, state: Mapping[str, Any]) -> Transform:
    """The dataset's transform for one raw sample, with the state a run fitted."""
    if spec.transform is None:
        return partial(as_input, input_shape=tuple(spec.input_shape))
    transform = resolve(spec.transform)
    missing = [
        name
        for name, parameter in inspect.signature(transform).parameters.items()
        if parameter.kind == parameter.KEYWORD_ONLY and parameter.default is parameter.empty
        if name not in state
    ]
    if missing:
        raise ZooError(
            f"the transform of {spec.name} needs {', '.join(missing)}, which this run did not store "
            "(it was recorded before datasets stored their preprocessing); run it again"
        )
    return partial(transform, **state)


def save_state(folder: Path, state: Mapping[str, Any]) -> None:
    """Write what the transform fitted into the run folder; nothing when it fitted nothing."""
    if state:
        (folder / layout.TRANSFORM).write_text(json.dumps(dict(state), indent=2) + "\n")


def load_state(folder: Path) -> dict[str, Any]:
    path = folder / layout.TRANSFORM
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise ZooError(f"cannot read {path}: {exc}") from None


def _is_pil_image(sample: Any) -> bool:
    # Pillow is imported only when a caller has already made an image with it.
    return type(sample).__module__.startswith("PIL.") and hasattr(sample, "convert")
