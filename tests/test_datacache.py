"""The dataset cache: reused while its sources are unchanged, rebuilt when they change or it is damaged."""

from __future__ import annotations

import os
import pickle
from pathlib import Path

import pytest
import torch

from zoo_core import datacache, provenance
from zoo_core.data import Split, Splits


class Source:
    """A loader over one file: it counts its builds and decodes the file's bytes into splits."""

    def __init__(self, folder: Path) -> None:
        self.file = folder / "raw.bin"
        self.file.write_bytes(bytes(range(40)))
        self.cache = folder / "splits.pt"
        self.builds = 0

    def build(self) -> Splits:
        self.builds += 1
        values = torch.tensor(list(self.file.read_bytes()), dtype=torch.float32)
        train = Split(values[:30].reshape(10, 3), torch.arange(10), torch.arange(10) * 2)
        return Splits(train, Split(values[30:40].reshape(5, 2), torch.zeros(5, dtype=torch.int64)))

    def load(self, recipe: str = "v1") -> Splits:
        return datacache.cached(self.cache, [self.file], self.build, recipe=recipe)


@pytest.fixture
def source(tmp_path: Path) -> Source:
    return Source(tmp_path)


def same(a: Splits, b: Splits) -> bool:
    return all(
        (x is None and y is None) or torch.equal(x, y)
        for x, y in zip(datacache.tensors(a).values(), datacache.tensors(b).values(), strict=True)
    )


def test_second_load_reads_the_cache_with_its_fingerprint(
    source: Source, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = source.load()
    assert first.fingerprint == provenance.hash_splits(first)
    monkeypatch.setattr(provenance, "hash_splits", lambda splits: pytest.fail("hashed again"))
    second = source.load()
    assert source.builds == 1
    assert same(first, second) and second.train.index is not None
    assert provenance.fingerprint(second) == first.fingerprint


def test_fingerprint_without_a_cache_is_computed_from_the_tensors(source: Source) -> None:
    splits = source.build()
    assert splits.fingerprint is None
    assert provenance.fingerprint(splits) == datacache.with_fingerprint(splits).fingerprint


@pytest.mark.parametrize("change", ["content", "size", "recipe"])
def test_a_changed_source_or_recipe_rebuilds(source: Source, change: str) -> None:
    source.load()
    stat = source.file.stat()
    if change == "content":  # same size; only the modification time tells
        source.file.write_bytes(bytes(range(1, 41)))
        os.utime(source.file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    elif change == "size":  # the same modification time; only the size tells
        source.file.write_bytes(bytes(range(40)) + b"\0")
        os.utime(source.file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    splits = source.load(recipe="v2" if change == "recipe" else "v1")
    assert source.builds == 2
    assert same(splits, source.build())
    assert splits.fingerprint == provenance.hash_splits(splits)
    source.load(recipe="v2" if change == "recipe" else "v1")
    assert source.builds == 3  # the rebuilt cache is used from then on (the extra build() above counts)


def flip_payload_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    # The train inputs are the bytes 0..29 as float32: change one deep inside the file.
    at = bytes(data).index(torch.tensor([7.0]).numpy().tobytes())
    data[at + 2] ^= 0x40
    path.write_bytes(bytes(data))


def foreign(path: Path) -> None:
    torch.save({"key": "something else", "train_x": torch.zeros(3)}, path)


def pickled_code(path: Path) -> None:
    path.write_bytes(pickle.dumps(os.system))  # weights_only refuses it; it must never run


@pytest.mark.parametrize(
    "damage",
    [
        lambda p: p.write_bytes(b"not a cache"),
        lambda p: p.write_bytes(p.read_bytes()[: len(p.read_bytes()) // 2]),
        lambda p: p.write_bytes(b""),
        flip_payload_byte,
        foreign,
        pickled_code,
    ],
    ids=["garbage", "truncated", "empty", "flipped-byte", "foreign", "pickled-code"],
)
def test_a_damaged_cache_is_rebuilt_not_trusted(source: Source, damage) -> None:
    good = source.load()
    damage(source.cache)
    splits = source.load()
    assert source.builds == 2
    assert same(splits, good) and splits.fingerprint == good.fingerprint
    source.load()
    assert source.builds == 2  # and the rebuilt file is sound again


def test_a_missing_source_goes_to_build(source: Source, tmp_path: Path) -> None:
    def fail() -> Splits:
        raise FileNotFoundError("no data")

    with pytest.raises(FileNotFoundError, match="no data"):
        datacache.cached(source.cache, [tmp_path / "absent.bin"], fail, recipe="v1")
    assert not source.cache.exists()


def test_an_unwritable_folder_runs_uncached(source: Source, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs) -> None:
        raise PermissionError("read-only")

    monkeypatch.setattr(torch, "save", refuse)
    splits = source.load()
    assert splits.fingerprint == provenance.hash_splits(splits)
    assert not source.cache.exists() and list(source.cache.parent.glob("*.part")) == []
