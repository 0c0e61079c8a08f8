"""Printing for the commands: tables, one-line messages, warnings about plugins."""

from __future__ import annotations

import sys
from typing import Any


def say(message: str) -> None:
    """One line to stderr, prefixed like every message of the command."""
    print(f"zoo: {message}", file=sys.stderr, flush=True)


def print_table(rows: list[list[Any]], headers: list[str]) -> None:
    from tabulate import tabulate

    print(tabulate(rows, headers=headers, tablefmt="simple", disable_numparse=True))


def registry() -> Any:
    """The registry, after saying what it refused and which plugins are broken (call it once)."""
    from ..plugins import load_plugins
    from ..registry import get_registry

    built = get_registry()
    for info in load_plugins().broken:
        say(f"warning: plugin {info.name!r} ({info.distribution} {info.version}) is broken: {info.error}")
    for line in built.warnings:
        say(f"warning: {line}")
    return built


def number(value: float | None) -> str:
    return "-" if value is None else repr(value)


def size(count: int) -> str:
    """A number of bytes as people read it: 812 B, 20.3 kB, 235.1 MB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if count >= scale:
            return f"{count / scale:.1f} {unit}"
    return f"{count} B"
