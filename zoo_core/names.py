"""The rules for names, and "did you mean" suggestions. Depends on nothing else in the zoo."""

from __future__ import annotations

import difflib
import re
from typing import Any, Iterable

# Models, datasets and plugins: lowercase kebab-case, so a name is also a safe folder name.
KEBAB = re.compile(r"^[a-z0-9]+(-[a-z0-9]+)*$")
# Metrics may also use underscores (e.g. ``r2_score``), as long as they read as one word.
METRIC_NAME = re.compile(r"^[a-z][a-z0-9]*([-_][a-z0-9]+)*$")
# Run ids and tags end up in folder names: no separators, no dot files, nothing a shell mangles.
MAX_LENGTH = 64


def suggest(name: str, choices: Iterable[str]) -> str:
    """``"; did you mean 'x'?"`` for the closest choices, or "" when none is close."""
    close = difflib.get_close_matches(str(name), list(choices), n=3, cutoff=0.6)
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def name_problem(name: Any, pattern: re.Pattern[str] = KEBAB, example: str = "my-net") -> str | None:
    """Why ``name`` cannot name a model, dataset or metric, or None when it can."""
    if not isinstance(name, str) or not name:
        return f"name {name!r} must be a non-empty string"
    if len(name) > MAX_LENGTH:
        return f"name {name[:20]!r}… is {len(name)} characters long; at most {MAX_LENGTH}"
    if not pattern.match(name):
        return f"name {name!r} must be lowercase kebab-case like {example!r} (no spaces, dots or slashes)"
    return None
