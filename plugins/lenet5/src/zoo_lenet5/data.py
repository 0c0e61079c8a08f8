"""Loaders for the LeNet-5 lesson: MNIST and Fashion-MNIST through torchvision, digits from scikit-learn.

Every loader returns whole tensors shaped (N, 1, 32, 32), scaled as the lesson's
``Normalize((0.5,), (0.5,))`` does, so training never runs a per-image transform.
"""

from __future__ import annotations

import gzip
import shutil
import socket
from pathlib import Path
from typing import TYPE_CHECKING, Any

from zoo_core import DataCorrupt, DataUnavailable
from zoo_core.data import Split, Splits, offline
from zoo_core.datacache import cached

if TYPE_CHECKING:
    import numpy as np
    import torch

# The four files of both datasets, unpacked, as torchvision names them; both have ten classes.
IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
IDX_CLASSES = 10
# The decoded tensors, cached beside raw/. Change the recipe whenever _decode's output would change.
CACHE_FILE = "zoo-lenet5-splits.pt"
CACHE_RECIPE = "torchvision IDX readers; zero-pad 28x28 to 32x32; (x / 255 - 0.5) / 0.5; float32"
# Debian's dataset-fashion-mnist package installs the four .gz files here.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
# Without it torchvision's urlopen may wait forever on a network that drops packets.
DOWNLOAD_TIMEOUT_S = 30.0
SIDE = 32
# 450 of sklearn's 1,797 digits are held out for test.
DIGITS_TEST_FRACTION = 0.25


def to_lenet_input(images: torch.Tensor, field: int = 28) -> torch.Tensor:
    """Grayscale images (N, H, W), uint8 or floats in [0, 1] -> float32 (N, 1, 32, 32) in [-1, 1].

    Each image is resized to ``field`` x ``field`` unless it has that size, then zero-padded to
    32x32. MNIST's 28x28 strokes are padded 2 px, undistorted inside LeNet's 32x32 field, as in
    LeCun et al. (1998); the lesson's ``Resize(32)`` stretches them instead. Every loader and
    every transform of this lesson ends here, so training and prediction cannot drift.
    """
    import torch.nn.functional as F

    from zoo_core.transforms import resize

    x = images.unsqueeze(1)
    x = resize(x.float() if x.is_floating_point() else x.float() / 255.0, field)
    pad = (SIDE - field) // 2
    return (F.pad(x, (pad, pad, pad, pad)) - 0.5) / 0.5


def _unpack(gz: Path, target: Path) -> None:
    """Decompress ``gz`` to ``target`` through a temporary file, so a failure leaves no half file."""
    partial = target.with_name(target.name + ".part")
    try:
        with gzip.open(gz, "rb") as src, open(partial, "wb") as dst:
            shutil.copyfileobj(src, dst)
    except (OSError, EOFError) as error:
        partial.unlink(missing_ok=True)
        raise DataCorrupt(f"cannot decompress {gz}: {error}") from error
    partial.replace(target)


def _unpack_missing(raw: Path, names: list[str], gz_dirs: tuple[Path, ...]) -> None:
    """Fill in missing IDX files from ``<name>.gz`` found in ``raw`` or, failing that, in ``gz_dirs``."""
    for name in names:
        if (raw / name).is_file():
            continue
        for folder in (raw, *gz_dirs):
            if (folder / f"{name}.gz").is_file():
                raw.mkdir(parents=True, exist_ok=True)
                _unpack(folder / f"{name}.gz", raw / name)
                break


def _download(dataset_cls: type, data_dir: Path) -> str:
    """Let torchvision fetch the files; return why it failed, or "" on success."""
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(DOWNLOAD_TIMEOUT_S)
    try:
        dataset_cls(str(data_dir), train=False, download=True)
    except Exception as error:  # torchvision raises RuntimeError, URLError or OSError
        # torchvision lists every mirror it tried; the last line holds the underlying error.
        lines = str(error).strip().splitlines()
        return f"download failed: {lines[-1] if lines else type(error).__name__}"
    finally:
        socket.setdefaulttimeout(previous)
    return ""


def _read(path: Path, reader_name: str) -> torch.Tensor:
    """Read one IDX file with torchvision, turning its parser's errors into DataCorrupt."""
    from torchvision.datasets import mnist

    try:
        return getattr(mnist, reader_name)(str(path))
    except (AssertionError, RuntimeError, ValueError, TypeError, KeyError, IndexError) as error:
        raise DataCorrupt(f"{path} is not a valid IDX file ({type(error).__name__}: {error})") from error


def load_idx_dataset(class_name: str, data_dir: Path, gz_dirs: tuple[Path, ...] = ()) -> Splits:
    """Load a torchvision MNIST-format dataset (``MNIST``, ``FashionMNIST``) from ``data_dir``.

    Order: unpacked IDX files in ``<data_dir>/<class_name>/raw``; ``.gz`` files there or in
    ``gz_dirs``; torchvision's download (skipped when ``ZOO_OFFLINE=1``). The decoded, padded
    tensors are cached in ``<data_dir>/<class_name>/`` (``zoo_core.datacache``), so torchvision is
    imported and the files decoded only when they change.
    """
    data_dir = Path(data_dir)
    raw = data_dir / class_name / "raw"

    def missing() -> list[str]:
        return [name for name in IDX_FILES if not (raw / name).is_file()]

    _unpack_missing(raw, list(IDX_FILES), gz_dirs)
    if missing():
        import torchvision.datasets

        dataset_cls = getattr(torchvision.datasets, class_name)
        reason = "download skipped: ZOO_OFFLINE=1" if offline() else _download(dataset_cls, data_dir)
        if missing():
            wanted = ", ".join(f"{name}.gz" for name in missing())
            raise DataUnavailable(f"{class_name} not found: put {wanted} (or unpacked) into {raw} ({reason})")
    return cached(
        data_dir / class_name / CACHE_FILE,
        [raw / name for name in IDX_FILES],
        lambda: _decode(raw),
        recipe=CACHE_RECIPE,
    )


def _decode(raw: Path) -> Splits:
    """Both splits from the four IDX files in ``raw``, checked and turned into LeNet's input."""

    def split(prefix: str) -> Split:
        images = _read(raw / f"{prefix}-images-idx3-ubyte", "read_image_file")
        labels = _read(raw / f"{prefix}-labels-idx1-ubyte", "read_label_file")
        if len(images) != len(labels):
            raise DataCorrupt(
                f"{raw / f'{prefix}-images-idx3-ubyte'} has {len(images)} images but "
                f"{raw / f'{prefix}-labels-idx1-ubyte'} has {len(labels)} labels"
            )
        if len(labels) and not 0 <= int(labels.min()) <= int(labels.max()) < IDX_CLASSES:
            last = IDX_CLASSES - 1
            raise DataCorrupt(f"{raw / f'{prefix}-labels-idx1-ubyte'} has labels outside 0..{last}")
        return Split(to_lenet_input(images), labels)

    return Splits(split("train"), split("t10k"))


def load_mnist(data_dir: Path) -> Splits:
    """MNIST from ``<data_dir>/MNIST/raw``, downloaded by torchvision when missing."""
    return load_idx_dataset("MNIST", data_dir)


def load_fashion_mnist(data_dir: Path) -> Splits:
    """Fashion-MNIST from ``<data_dir>/FashionMNIST/raw``, Debian's package, or a download."""
    return load_idx_dataset("FashionMNIST", data_dir, gz_dirs=(DEBIAN_FASHION_MNIST,))


def load_digits(data_dir: Path) -> Splits:
    """scikit-learn's 8x8 digits, upsampled to 32x32 and scaled like MNIST; a fixed stratified split."""
    import torch

    x_train, x_test, y_train, y_test = _digits_split()

    def split(images: np.ndarray, labels: np.ndarray) -> Split:
        x = to_lenet_input(torch.from_numpy(images), field=SIDE)
        return Split(x, torch.as_tensor(labels, dtype=torch.int64))

    return Splits(split(x_train, y_train), split(x_test, y_test))


def _digits_split() -> list[np.ndarray]:
    """Train and test images as floats in [0, 1] (scikit-learn's 0..16 scaled), then their labels."""
    import numpy as np
    from sklearn.datasets import load_digits as sklearn_digits
    from sklearn.model_selection import train_test_split

    digits = sklearn_digits()
    images = (digits.images / 16.0).astype(np.float32)
    return train_test_split(
        images, digits.target, test_size=DIGITS_TEST_FRACTION, stratify=digits.target, random_state=0
    )


# -- one raw image at a time, for prediction; raw images for the conformance kit's check --------


def mnist_transform(image: Any) -> torch.Tensor:
    """One image of any size and colour mode -> LeNet's input (1, 32, 32), as MNIST's images are made.

    Grayscale, resized to 28x28 unless it is, padded to 32x32, scaled to [-1, 1]. Like MNIST's,
    the strokes should be light on a dark background. A PIL image, or an array: uint8 0..255,
    or floats in [0, 1].
    """
    from zoo_core.transforms import grayscale

    return to_lenet_input(grayscale(image).unsqueeze(0))[0]


def digits_transform(image: Any) -> torch.Tensor:
    """One image of any size and colour mode -> LeNet's input (1, 32, 32), as digits' images are made:
    grayscale, resized to 32x32, scaled to [-1, 1] (light strokes on a dark background)."""
    from zoo_core.transforms import grayscale

    return to_lenet_input(grayscale(image).unsqueeze(0), field=SIDE)[0]


def raw_idx_images(class_name: str, data_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    """The uint8 train and test images (N, 28, 28) of an IDX dataset whose files are in place."""
    raw = Path(data_dir) / class_name / "raw"
    paths = [raw / f"{prefix}-images-idx3-ubyte" for prefix in ("train", "t10k")]
    missing = [path.name for path in paths if not path.is_file()]
    if missing:
        raise DataUnavailable(f"{class_name} not found: {', '.join(missing)} missing from {raw}")
    train, test = (_read(path, "read_image_file") for path in paths)
    return train, test


def raw_mnist(data_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    return raw_idx_images("MNIST", data_dir)


def raw_fashion_mnist(data_dir: Path) -> tuple[torch.Tensor, torch.Tensor]:
    return raw_idx_images("FashionMNIST", data_dir)


def raw_digits(data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """The digits split's 8x8 images as floats in [0, 1]: train, test."""
    x_train, x_test, _, _ = _digits_split()
    return x_train, x_test
