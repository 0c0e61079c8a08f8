"""The MNIST-format loaders on tiny IDX files written here, and the digits split."""

from __future__ import annotations

import gzip
import os
import struct
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision.datasets
from zoo_lenet5 import data, zoo_datasets

from zoo_core import DataCorrupt, DataUnavailable

NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any download attempt hits a closed local port, so it fails at once and never leaves the machine."""
    monkeypatch.delenv("ZOO_OFFLINE", raising=False)
    for cls in (torchvision.datasets.MNIST, torchvision.datasets.FashionMNIST):
        monkeypatch.setattr(cls, "mirrors", ["http://127.0.0.1:9/"])
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", Path("/nonexistent/fashion-mnist"))


def idx_images(images: np.ndarray) -> bytes:
    n, rows, cols = images.shape
    return struct.pack(">IIII", 2051, n, rows, cols) + images.astype(np.uint8).tobytes()


def idx_labels(labels: np.ndarray) -> bytes:
    return struct.pack(">II", 2049, len(labels)) + labels.astype(np.uint8).tobytes()


def fake_files(n_train: int = 20, n_test: int = 10) -> tuple[dict[str, bytes], dict[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)),
        "train-labels-idx1-ubyte": rng.integers(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)),
        "t10k-labels-idx1-ubyte": rng.integers(0, 10, n_test),
    }
    files = {name: (idx_images if "images" in name else idx_labels)(a) for name, a in arrays.items()}
    return files, arrays


def write(folder: Path, files: dict[str, bytes], *, gz: bool = False) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, payload in files.items():
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(payload))
        else:
            (folder / name).write_bytes(payload)


def test_lenet5_mnist_loads_padded_normalised_tensors(tmp_path: Path) -> None:
    files, arrays = fake_files()
    write(tmp_path / "MNIST" / "raw", files)
    splits = data.load_mnist(tmp_path)
    assert splits.train.x.shape == (20, 1, 32, 32) and splits.test.x.shape == (10, 1, 32, 32)
    assert splits.train.x.dtype == torch.float32 and splits.train.y.dtype == torch.int64
    # ToTensor then Normalize((0.5,), (0.5,)): v / 255 * 2 - 1, inside a 2-pixel border of background (-1).
    expected = torch.as_tensor(arrays["train-images-idx3-ubyte"], dtype=torch.float32) / 255 * 2 - 1
    torch.testing.assert_close(splits.train.x[:, 0, 2:30, 2:30], expected)
    border = torch.ones(32, 32, dtype=torch.bool)
    border[2:30, 2:30] = False
    assert bool((splits.train.x[:, 0, border] == -1).all())
    assert splits.test.y.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()


def test_lenet5_mnist_unpacks_gz_only_folder(tmp_path: Path) -> None:
    files, arrays = fake_files()
    raw = tmp_path / "MNIST" / "raw"
    write(raw, files, gz=True)
    splits = data.load_mnist(tmp_path)
    assert splits.train.y.tolist() == arrays["train-labels-idx1-ubyte"].tolist()
    assert sorted(p.name for p in raw.iterdir() if not p.name.endswith(".gz")) == sorted(NAMES)


def test_lenet5_fashion_mnist_unpacks_from_debian_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, arrays = fake_files()
    debian = tmp_path / "debian"
    write(debian, files, gz=True)
    monkeypatch.setattr(data, "DEBIAN_FASHION_MNIST", debian)
    splits = data.load_fashion_mnist(tmp_path / "data")
    assert splits.test.y.tolist() == arrays["t10k-labels-idx1-ubyte"].tolist()
    assert (tmp_path / "data" / "FashionMNIST" / "raw" / "train-images-idx3-ubyte").is_file()


def test_lenet5_truncated_file_is_corrupt_and_named(tmp_path: Path) -> None:
    files, _ = fake_files()
    files["train-images-idx3-ubyte"] = files["train-images-idx3-ubyte"][:-100]
    write(tmp_path / "MNIST" / "raw", files)
    with pytest.raises(DataCorrupt, match="train-images-idx3-ubyte"):
        data.load_mnist(tmp_path)


@pytest.mark.parametrize("magic", [0x12345678, 2049])
def test_lenet5_wrong_magic_is_corrupt_and_named(tmp_path: Path, magic: int) -> None:
    files, _ = fake_files()
    files["t10k-images-idx3-ubyte"] = struct.pack(">I", magic) + files["t10k-images-idx3-ubyte"][4:]
    write(tmp_path / "MNIST" / "raw", files)
    with pytest.raises(DataCorrupt, match="t10k-images-idx3-ubyte"):
        data.load_mnist(tmp_path)


def test_lenet5_image_label_count_mismatch_is_corrupt(tmp_path: Path) -> None:
    files, arrays = fake_files()
    files["train-labels-idx1-ubyte"] = idx_labels(arrays["train-labels-idx1-ubyte"][:15])
    write(tmp_path / "MNIST" / "raw", files)
    with pytest.raises(DataCorrupt, match="20 images .* 15 labels"):
        data.load_mnist(tmp_path)


def test_lenet5_broken_gz_is_corrupt_and_leaves_no_half_file(tmp_path: Path) -> None:
    files, _ = fake_files()
    raw = tmp_path / "MNIST" / "raw"
    write(raw, files, gz=True)
    (raw / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(files["train-images-idx3-ubyte"])[:200])
    with pytest.raises(DataCorrupt, match="train-images-idx3-ubyte.gz"):
        data.load_mnist(tmp_path)
    assert not (raw / "train-images-idx3-ubyte").exists()


def test_lenet5_missing_mnist_without_network_names_the_folder(tmp_path: Path) -> None:
    with pytest.raises(DataUnavailable) as caught:
        data.load_mnist(tmp_path)
    message = str(caught.value)
    assert "\n" not in message
    assert str(tmp_path / "MNIST" / "raw") in message and "train-images-idx3-ubyte.gz" in message
    assert "download failed" in message


def test_lenet5_zoo_offline_skips_the_download(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ZOO_OFFLINE", "1")
    monkeypatch.setattr(data, "_download", lambda *args: pytest.fail("download attempted"))
    with pytest.raises(DataUnavailable, match="ZOO_OFFLINE=1"):
        data.load_fashion_mnist(tmp_path)


def test_lenet5_fashion_classes_match_torchvision() -> None:
    spec = {s.name: s for s in zoo_datasets()}["fashion-mnist"]
    assert list(spec.classes) == torchvision.datasets.FashionMNIST.classes


def test_lenet5_digits_split_matches_spec_and_is_stratified() -> None:
    spec = {s.name: s for s in zoo_datasets()}["digits"]
    splits = data.load_digits(Path("unused"))
    assert (len(splits.train), len(splits.test)) == (spec.train_size, spec.test_size)
    assert splits.train.x.shape[1:] == spec.input_shape
    assert float(splits.train.x.min()) >= -1.0 and float(splits.train.x.max()) <= 1.0
    train, test = Counter(splits.train.y.tolist()), Counter(splits.test.y.tolist())
    assert sorted(test) == list(range(len(spec.classes)))
    for label, count in test.items():  # each class keeps the overall 25% test share, up to rounding
        assert abs(count - data.DIGITS_TEST_FRACTION * (count + train[label])) <= 1


def test_lenet5_digits_split_ignores_the_runs_seed() -> None:
    loaded = []
    for seed in (1, 2):  # the runner seeds the global generators differently for each run
        np.random.seed(seed)
        torch.manual_seed(seed)
        loaded.append(data.load_digits(Path("unused")))
    first, second = loaded
    assert torch.equal(first.train.x, second.train.x) and torch.equal(first.train.y, second.train.y)
    assert torch.equal(first.test.x, second.test.x) and torch.equal(first.test.y, second.test.y)


def test_lenet5_decoded_tensors_are_cached_until_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files, arrays = fake_files()
    raw = tmp_path / "MNIST" / "raw"
    write(raw, files)
    decoded = []
    decode = data._decode
    monkeypatch.setattr(data, "_decode", lambda folder: decoded.append(folder) or decode(folder))
    first = data.load_mnist(tmp_path)
    again = data.load_mnist(tmp_path)
    assert len(decoded) == 1 and (tmp_path / "MNIST" / data.CACHE_FILE).is_file()
    assert torch.equal(again.train.x, first.train.x) and again.fingerprint == first.fingerprint
    labels = raw / "t10k-labels-idx1-ubyte"
    mtime = labels.stat().st_mtime_ns
    labels.write_bytes(idx_labels((arrays["t10k-labels-idx1-ubyte"] + 1) % 10))  # same size
    os.utime(labels, ns=(mtime, mtime + 1_000_000))
    changed = data.load_mnist(tmp_path)
    assert len(decoded) == 2
    assert changed.test.y.tolist() == ((arrays["t10k-labels-idx1-ubyte"] + 1) % 10).tolist()
    assert changed.fingerprint != first.fingerprint
