"""Every ``ZOO_*`` environment variable the zoo reads, read here and nowhere else.

Each is read when asked, not at import, so a test or a notebook can change it between calls.

========================  ================================================================
``ZOO_HOME``              the zoo home: results database, run folders, data (else per-user)
``ZOO_DATA``              dataset files (default ``$ZOO_HOME/data``)
``ZOO_PLUGINS``           comma-separated plugins to load; unset loads all, empty loads none
``ZOO_STRICT_PLUGINS``    ``1``: a broken or clashing plugin is an error, not a warning
``ZOO_TRACE``             ``1``: print every hook call to stderr
``ZOO_OFFLINE``           ``1``: loaders must not download anything
========================  ================================================================
"""

from __future__ import annotations

import os
from pathlib import Path

VARIABLES = ("ZOO_HOME", "ZOO_DATA", "ZOO_PLUGINS", "ZOO_STRICT_PLUGINS", "ZOO_TRACE", "ZOO_OFFLINE")


def _flag(name: str) -> bool:
    return os.environ.get(name, "") not in ("", "0")


def _path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None


def home() -> Path | None:
    return _path("ZOO_HOME")


def data() -> Path | None:
    return _path("ZOO_DATA")


def selected_plugins() -> set[str] | None:
    """The plugins ``ZOO_PLUGINS`` names, or None when it is unset (load every plugin)."""
    value = os.environ.get("ZOO_PLUGINS")
    if value is None:
        return None
    return {name.strip() for name in value.split(",") if name.strip()}


def strict_plugins() -> bool:
    return _flag("ZOO_STRICT_PLUGINS")


def trace() -> bool:
    return _flag("ZOO_TRACE")


def offline() -> bool:
    return _flag("ZOO_OFFLINE")
