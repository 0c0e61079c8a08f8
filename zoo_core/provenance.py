"""Where a run's code and data came from, so that it can be re-run and checked."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, distribution
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse


@dataclass(frozen=True)
class Provenance:
    """The versions, threads, data and source commit behind one run."""

    numpy_version: str
    python_version: str
    threads: int
    dataset_fingerprint: str
    git_commit: str  # of the plugin's source
    core_git_commit: str


def collect(splits: Any, plugin_distribution: str, threads: int) -> Provenance:
    """The provenance of a run that uses ``splits`` and ``threads``, with the plugin's source commit."""
    import numpy

    return Provenance(
        numpy_version=numpy.__version__,
        python_version=platform.python_version(),
        threads=threads,
        dataset_fingerprint=fingerprint(splits),
        git_commit=git_commit(plugin_distribution),
        core_git_commit=git_commit("zoo-core"),
    )


def fingerprint(splits: Any) -> str:
    """SHA-256 over the data a run actually used: every tensor's dtype, shape and bytes.

    Splits that carry their fingerprint already (``zoo_core.datacache`` stores it with the cached
    tensors) are not hashed again.
    """
    return getattr(splits, "fingerprint", None) or hash_splits(splits)


def hash_splits(splits: Any) -> str:
    """The fingerprint computed from the tensors themselves."""
    digest = hashlib.sha256()
    for part in (splits.train, splits.test):
        for tensor in (part.x, part.y):
            array = tensor.detach().cpu().contiguous().numpy()
            digest.update(f"{array.dtype}{array.shape}".encode())
            digest.update(array.reshape(-1).view("uint8"))  # the bytes in place, not a 300 MB copy
    return f"sha256:{digest.hexdigest()}"


def git_commit(distribution_name: str) -> str:
    """The commit a distribution was installed from, when there is one; "" otherwise.

    pip and uv record it (PEP 610) for installs from a VCS URL; for an install from a local
    folder, the folder's own git checkout says. A checkout with uncommitted changes gets a
    ``-dirty`` suffix, since its commit alone does not pin the code.
    """
    try:
        text = distribution(distribution_name).read_text("direct_url.json")
    except PackageNotFoundError:
        return ""
    if not text:
        return ""
    origin = json.loads(text)
    commit = origin.get("vcs_info", {}).get("commit_id")
    if commit:
        return str(commit)
    url = urlparse(origin.get("url", ""))
    if url.scheme != "file":
        return ""
    return _checkout_commit(Path(unquote(url.path)))


def _checkout_commit(folder: Path) -> str:
    def git(*args: str) -> str:
        result = subprocess.run(
            ["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10, check=False
        )
        return result.stdout.strip() if result.returncode == 0 else ""

    try:
        commit = git("rev-parse", "HEAD")
        if not commit:
            return ""
        dirty = git("status", "--porcelain", "--untracked-files=no", "--", ".")
    except (OSError, subprocess.TimeoutExpired):  # no git on this machine, or a hung filesystem
        return ""
    return f"{commit}-dirty" if dirty else commit
