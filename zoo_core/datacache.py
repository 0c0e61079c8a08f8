"""A dataset's decoded and preprocessed tensors, kept beside its files so a run pays for them once.

A loader that decodes files wraps that work in :func:`cached`::

    def load_mnist(data_dir):
        raw = data_dir / "MNIST" / "raw"
        sources = [raw / name for name in FILES]
        return cached(raw / "lenet5-splits.pt", sources, lambda: decode(raw), recipe="pad to 32x32, [-1, 1]")

The first run calls ``build()``, computes the splits' fingerprint (the SHA-256 that provenance
records) and saves both; later runs load the tensors and take the stored fingerprint, without
decoding or hashing. The cache is rebuilt whenever

- a source file's size or modification time (to the nanosecond) differs from when it was built,
  or a source is added or removed, or ``recipe`` (the loader's preprocessing, in words or a
  version) changes: bump it whenever the loader's output would change;
- the file cannot be read, is not what this module writes, or its tensors fail their CRC-32
  (stored at build time; checking it costs about 0.1 s per 300 MB, a third of hashing them).

The format is ``torch.save`` of tensors, strings and integers only, read back with
``weights_only=True``: loading a cache never runs pickled code. Writes go through a temporary file
and a rename, so an interrupted or concurrent run never leaves half a cache. A folder that cannot
be written (a read-only data directory) just goes uncached.
"""

from __future__ import annotations

import json
import os
import warnings
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .data import Split, Splits
from .provenance import hash_splits

# Bump when the file's layout changes: older caches are then rebuilt, never misread.
FORMAT = 1
PARTS = ("train", "test")


def cached(path: Path, sources: Sequence[Path], build: Callable[[], Splits], *, recipe: str) -> Splits:
    """``build()``'s splits, with their fingerprint, from the cache at ``path`` when it is still valid.

    :param path: the cache file, in the dataset's own folder (e.g. ``<data>/MNIST/raw/zoo-splits.pt``).
    :param sources: the files ``build`` reads; a change to any of them invalidates the cache.
    :param build: decodes and preprocesses the sources; called only on a miss.
    :param recipe: what ``build`` does to them (words or a version); changing it invalidates the cache.
    """
    path = Path(path)
    key = cache_key(sources, recipe)
    if key is None:  # a source is missing: let build() report it (or fetch it)
        return with_fingerprint(build())
    splits = read(path, key)
    if splits is None:
        splits = with_fingerprint(build())
        write(path, key, splits)
    return splits


def cache_key(sources: Sequence[Path], recipe: str) -> str | None:
    """What a cache must have been built from: each source's name, size and mtime; None if one is missing."""
    stats = []
    for source in sources:
        try:
            stat = Path(source).stat()
        except OSError:
            return None
        stats.append([Path(source).name, stat.st_size, stat.st_mtime_ns])
    return json.dumps({"format": FORMAT, "recipe": recipe, "sources": stats})


def with_fingerprint(splits: Splits) -> Splits:
    return Splits(splits.train, splits.test, fingerprint=hash_splits(splits))


def tensors(splits: Splits) -> dict[str, Any]:
    """The splits' tensors under flat names (``train_x``, ..., ``test_index``); an absent index is None."""
    return {
        f"{part}_{field}": getattr(getattr(splits, part), field)
        for part in PARTS
        for field in ("x", "y", "index")
    }


def checksum(named: dict[str, Any]) -> int:
    """CRC-32 over every tensor's bytes, in name order; it catches a flipped or truncated payload."""
    crc = 0
    for name in sorted(named):
        if named[name] is not None:
            crc = zlib.crc32(named[name].detach().cpu().contiguous().numpy(), crc)
    return crc


def write(path: Path, key: str, splits: Splits) -> None:
    import torch

    named = {name: t if t is None else t.detach().cpu().contiguous() for name, t in tensors(splits).items()}
    blob = {"key": key, "fingerprint": splits.fingerprint, "crc32": checksum(named), **named}
    partial = path.with_name(f".{path.name}.{os.getpid()}.part")
    try:
        torch.save(blob, partial)
        partial.replace(path)
    except OSError:  # a read-only or full data folder: run uncached
        partial.unlink(missing_ok=True)


def read(path: Path, key: str) -> Splits | None:
    """The cached splits if ``path`` holds a sound cache built under ``key``; None otherwise."""
    import torch

    try:
        with warnings.catch_warnings():  # torch warns about the pickle protocol of a foreign file
            warnings.simplefilter("ignore")
            blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception:  # missing, unreadable, truncated or foreign: any failure here means "rebuild"
        return None
    if not _sound(blob, key):
        return None
    split = {part: Split(blob[f"{part}_x"], blob[f"{part}_y"], blob[f"{part}_index"]) for part in PARTS}
    return Splits(split["train"], split["test"], fingerprint=blob["fingerprint"])


def _sound(blob: Any, key: str) -> bool:
    import torch

    if not isinstance(blob, dict) or blob.get("key") != key:
        return False
    fingerprint, crc = blob.get("fingerprint"), blob.get("crc32")
    if not (isinstance(fingerprint, str) and fingerprint.startswith("sha256:") and isinstance(crc, int)):
        return False
    named = {}
    for part in PARTS:
        for field in ("x", "y", "index"):
            value = blob.get(f"{part}_{field}")
            if not (isinstance(value, torch.Tensor) or (field == "index" and value is None)):
                return False
            named[f"{part}_{field}"] = value
    return checksum(named) == crc
