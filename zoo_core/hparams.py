"""Settings of a run, and every number a user gives, checked in one place before anything loads.

A run's settings come in two namespaces that never mix: the model's own hyperparameters
(what its factory receives) and, for gradient-trained models, the core trainer's settings.
Each name belongs to one of them, so ``--set`` needs no prefix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from .errors import ZooError
from .names import suggest
from .recipe import BELOW_ONE, POSITIVE, TRAINER_BOUNDS, TRAINER_CHOICES, TRAINER_DEFAULTS
from .specs import ModelSpec

# Limits on the numbers a command line gives outside of a model's settings.
SEED_RANGE = (0, 2**32 - 1)  # what NumPy's and torch's seeding accept alike
THREADS_RANGE = (1, 1024)
# Any integer setting must fit a 64-bit integer, whatever its model declares.
INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True)
class Settings:
    """A model's resolved hyperparameters and, when it trains by gradient descent, the trainer's."""

    model: Mapping[str, Any]
    trainer: Mapping[str, Any]

    @property
    def flat(self) -> dict[str, Any]:
        return {**self.model, **self.trainer}


def parse_assignments(pairs: list[str], option: str = "--set") -> dict[str, str]:
    """Turn ``["k=v", ...]`` into a dict, rejecting malformed pairs."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ZooError(f"{option} expects key=value, got {pair!r}")
        parsed[key.strip()] = value.strip()
    return parsed


def coerce(key: str, raw: Any, default: Any) -> Any:
    """``raw`` (a string from the command line, or a value) as the type of ``default``."""
    if isinstance(raw, str) and not isinstance(default, str):
        try:
            if isinstance(default, bool):
                lowered = raw.lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no"):
                    raise ValueError
                return lowered in ("true", "1", "yes")
            if isinstance(default, int):
                return int(raw)
            if isinstance(default, float):
                return float(raw)
        except ValueError:
            raise ZooError(f"{key} expects {type(default).__name__}, got {raw!r}") from None
    if isinstance(default, float) and isinstance(raw, int) and not isinstance(raw, bool):
        return float(raw)
    if type(raw) is not type(default) and not (isinstance(default, float) and isinstance(raw, float)):
        raise ZooError(f"{key} expects {type(default).__name__}, got {raw!r}")
    return raw


def check_number(key: str, value: Any, low: float | None, high: float | None) -> None:
    """Refuse NaN, infinity and values outside ``[low, high]`` (None: no limit on that side)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return
    if isinstance(value, float) and not math.isfinite(value):
        raise ZooError(f"{key} must be a finite number, got {value}")
    if (low is not None and value < low) or (high is not None and value > high):
        if high is None:
            limit = f"at least {low}"
        elif low is None:
            limit = f"at most {high}"
        else:
            limit = f"between {low} and {high}"
        raise ZooError(f"{key} must be {limit}, got {value}")
    if isinstance(value, int) and not INT64[0] <= value <= INT64[1]:
        raise ZooError(f"{key} must fit in a 64-bit integer, got {value}")


def check_seed(seed: Any) -> int:
    check_number("seed", seed, *SEED_RANGE)
    return int(seed)


def check_threads(threads: Any) -> int:
    check_number("--threads", threads, *THREADS_RANGE)
    return int(threads)


def defaults_for(model: ModelSpec, dataset: str | None = None) -> Settings:
    """The model's defaults for ``dataset``, each in its namespace (the trainer's recipe included)."""
    trainer = {**TRAINER_DEFAULTS, **model.trainer} if model.gradient else {}
    hparams = dict(model.defaults)
    for key, value in model.dataset_defaults.get(dataset or "", {}).items():
        (trainer if key in trainer else hparams)[key] = value
    return Settings(hparams, trainer)


def resolve_settings(model: ModelSpec, overrides: Mapping[str, Any], dataset: str | None = None) -> Settings:
    """Merge ``overrides`` into the model's defaults for ``dataset``, checking names, types and ranges."""
    defaults = defaults_for(model, dataset)
    hparams, trainer = dict(defaults.model), dict(defaults.trainer)
    for key, raw in overrides.items():
        target = hparams if key in hparams else trainer if key in trainer else None
        if target is None:
            if key in TRAINER_DEFAULTS:
                raise ZooError(f"{model.name} is not trained by gradient descent, so it takes no {key!r}")
            known = sorted({*hparams, *trainer})
            raise ZooError(
                f"unknown hyperparameter {key!r} for {model.name}{suggest(key, known)} "
                f"(known: {', '.join(known) or 'none'})"
            )
        target[key] = coerce(key, raw, target[key])
    check_settings(model, {**hparams, **trainer})
    return Settings(hparams, trainer)


def check_settings(model: ModelSpec, settings: Mapping[str, Any]) -> None:
    """Finiteness, the trainer's and the model's limits, and the allowed strings."""
    limits = {**TRAINER_BOUNDS, **model.bounds} if model.gradient else dict(model.bounds)
    for key, value in settings.items():
        check_number(key, value, *limits.get(key, (None, None)))
    if model.gradient:
        for key in POSITIVE:
            if key in settings and not settings[key] > 0:
                raise ZooError(f"{key} must be positive, got {settings[key]}")
        for key in BELOW_ONE:
            if key in settings and not settings[key] < 1:
                raise ZooError(f"{key} must be at least 0 and below 1, got {settings[key]}")
        if settings.get("patience") and not settings.get("val_fraction"):
            raise ZooError(
                f"patience={settings['patience']} stops on the validation score, but val_fraction is 0, "
                "so nothing is held out to score: add --set val_fraction=0.1"
            )
    choices = {**TRAINER_CHOICES, **model.choices} if model.gradient else dict(model.choices)
    for key, allowed in choices.items():
        if key in settings and settings[key] not in allowed:
            raise ZooError(f"{key} must be one of {', '.join(allowed)}, got {settings[key]!r}")
