"""The installed version of zoo-core; a module of its own so that any module may import it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("zoo-core")
except PackageNotFoundError:  # running from a source tree that is not installed
    __version__ = "0+unknown"
