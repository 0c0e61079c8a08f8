"""Choosing recorded runs: the filters `zoo runs`, `zoo leaderboard`, `zoo rm` and the Python API share.

:func:`recorded_runs` reads the store and keeps the runs that match; :func:`select` applies
the same filters to rows already read. Every filter is optional and they all must hold:

- ``model``, ``dataset``, ``status``: equal to the run's;
- ``tags``: the run carries every one; ``exclude_tags``: it carries none of them;
- ``since``: started at or after it (a datetime or date, an ISO date or time, or ``3d``, ``12h``,
  ``30m``, ``2w`` ago);
- ``settings``: each setting (model or trainer) has this value (``{"k": 3}``, or ``["k=3"]``).

It also checks what `zoo tag` and `zoo note` write: :func:`check_tag`, :func:`check_note`.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from . import layout
from .errors import ZooError
from .hparams import coerce, parse_assignments
from .names import KEBAB, name_problem, suggest
from .store import Store

RECORDED_STATUSES = ("ok", "failed")
RELATIVE = re.compile(r"^(\d+)\s*([mhdw])$")
UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}

Tags = str | Sequence[str] | None


def check_tag(tag: Any) -> str:
    """``tag`` when it can be one (lowercase kebab-case, like model names); else a ZooError."""
    problem = name_problem(tag, KEBAB, example="smoke-test")
    if problem:
        raise ZooError(f"tag{problem[len('name') :]}")
    return str(tag)


def check_tags(tags: Tags) -> list[str]:
    """``tags`` (one tag or several) as a checked list."""
    if tags is None:
        return []
    return [check_tag(tag) for tag in ([tags] if isinstance(tags, str) else tags)]


# A note is a line or a paragraph about a run, printed by `zoo show`.
NOTE_LIMIT = 5000


def check_note(text: str) -> str:
    """``text`` when it can be a note: UTF-8 without control characters (tabs and newlines are
    text), at most NOTE_LIMIT characters; else a ZooError."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ZooError("the note is not valid UTF-8") from None
    if any((ord(c) < 32 and c not in "\t\n") or ord(c) == 127 for c in text):
        raise ZooError("the note contains control characters; give plain text")
    if len(text) > NOTE_LIMIT:
        raise ZooError(f"the note is {len(text)} characters long; notes have at most {NOTE_LIMIT}")
    return text


def parse_since(since: str | datetime | date | None, now: datetime | None = None) -> datetime | None:
    """The moment ``since`` names, timezone-aware (UTC unless it says otherwise)."""
    if since is None or isinstance(since, datetime):
        return _aware(since) if since else None
    if isinstance(since, date):
        return datetime(since.year, since.month, since.day, tzinfo=timezone.utc)
    text = since.strip()
    relative = RELATIVE.match(text)
    if relative:
        amount, unit = int(relative.group(1)), UNITS[relative.group(2)]
        try:
            return (now or datetime.now(timezone.utc)) - timedelta(**{unit: amount})
        except OverflowError:  # before the year 1: every run was started since
            return datetime.min.replace(tzinfo=timezone.utc)
    try:
        return _aware(datetime.fromisoformat(text))
    except ValueError:
        raise ZooError(
            f"--since expects a date (2026-11-21), a time (2026-11-21T12:00) or an age (30m, 12h, 3d, 2w), "
            f"got {since!r}"
        ) from None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def started(row: Mapping[str, Any]) -> datetime | None:
    try:
        return _aware(datetime.fromisoformat(row["started_at"]))
    except (TypeError, ValueError):
        return None


def settings_of(row: Mapping[str, Any]) -> dict[str, Any]:
    """A run's settings in one mapping: the model's hyperparameters and the trainer's."""
    return {**row["hparams"], **(row.get("trainer") or {})}


def parse_settings(settings: Mapping[str, Any] | Sequence[str] | None) -> dict[str, Any]:
    if settings is None:
        return {}
    if isinstance(settings, Mapping):
        return dict(settings)
    return dict(parse_assignments(list(settings), option="--settings"))


def _has_setting(row: Mapping[str, Any], key: str, wanted: Any) -> bool:
    values = settings_of(row)
    if key not in values:
        return False
    try:
        return coerce(key, wanted, values[key]) == values[key]
    except ZooError:  # "abc" for a number: not this run's value
        return False


def select(
    rows: Iterable[Mapping[str, Any]],
    *,
    model: str | None = None,
    dataset: str | None = None,
    status: str | None = None,
    tags: Tags = None,
    exclude_tags: Tags = None,
    since: str | datetime | date | None = None,
    settings: Mapping[str, Any] | Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The ``rows`` that match every filter given, in their order (see the module docstring).

    Rows carry their tags as ``row["tags"]`` (:func:`recorded_runs` adds them). A malformed
    filter (a tag that cannot be one, an unknown status, a setting no run has) is a ZooError.
    """
    rows = list(rows)
    if status is not None and status not in RECORDED_STATUSES:
        raise ZooError(f"status must be one of {', '.join(RECORDED_STATUSES)}, got {status!r}")
    required, excluded = set(check_tags(tags)), set(check_tags(exclude_tags))
    moment = parse_since(since)
    wanted = parse_settings(settings)
    known = {key for row in rows for key in settings_of(row)}
    for key in wanted:
        if key not in known:
            raise ZooError(
                f"no recorded run has a setting {key!r}{suggest(key, known)} "
                f"(recorded: {', '.join(sorted(known)) or 'none'})"
            )
    chosen = []
    for row in rows:
        carried = set(row.get("tags", ()))
        when = started(row) if moment is not None else None
        if (
            model not in (None, row["model"])
            or dataset not in (None, row["dataset"])
            or status not in (None, row["status"])
            or not required <= carried
            or excluded & carried
            or (moment is not None and (when is None or when < moment))
            or not all(_has_setting(row, key, value) for key, value in wanted.items())
        ):
            continue
        chosen.append(dict(row))
    return chosen


def with_tags(rows: list[dict[str, Any]], store: Store) -> list[dict[str, Any]]:
    """``rows`` with each run's tags, sorted, as ``row["tags"]``."""
    tagged = store.tags() if rows else {}
    return [{**row, "tags": tagged.get(row["run_id"], [])} for row in rows]


def recorded_runs(home: Path, sweep: str | None = None, **filters: Any) -> list[dict[str, Any]]:
    """The runs recorded in ``home``, oldest first, with their tags, that match ``filters`` (select).

    ``sweep`` (an id, or a unique start of one) keeps one row per run that sweep planned.
    """
    store = Store(layout.database_path(home))
    rows = store.sweep_rows(sweep) if sweep else store.rows()
    return select(with_tags(rows, store), **filters)


def no_match_hint(
    rows: Sequence[Mapping[str, Any]], model: str | None, dataset: str | None, tags: Tags
) -> str:
    """A did-you-mean for a model, dataset or tag filter that no recorded run has ("" if none)."""
    for name, wanted, recorded in (
        ("model", [model] if model else [], {row["model"] for row in rows}),
        ("dataset", [dataset] if dataset else [], {row["dataset"] for row in rows}),
        ("tag", check_tags(tags), {tag for row in rows for tag in row.get("tags", ())}),
    ):
        for value in wanted:
            if value not in recorded:
                return f"; no run has {name} {value!r}{suggest(value, recorded)}"
    return ""
