"""Hyperparameters: defaults from the trainer and the model, overrides from the command line."""

from __future__ import annotations

from typing import Any, Mapping

from .errors import ZooError
from .registry import suggest
from .specs import ModelSpec

# The trainer's recipe for every gradient-trained model; a ModelSpec may override any of it.
TRAINER_DEFAULTS: dict[str, Any] = {
    "epochs": 5,
    "batch_size": 64,
    "lr": 1e-3,
    "weight_decay": 0.0,
    "optimizer": "adam",
    # "onecycle" warms the learning rate up to ``lr`` and anneals it to near zero over the run.
    "schedule": "constant",
}
OPTIMIZERS = ("adam", "adamw", "sgd")
SCHEDULES = ("constant", "onecycle")
POSITIVE = ("epochs", "batch_size", "lr")
TRAINER_BOUNDS: dict[str, tuple[float | None, float | None]] = {"weight_decay": (0.0, None)}


def defaults_for(model: ModelSpec, dataset: str | None = None) -> dict[str, Any]:
    """The trainer's recipe, the model's defaults, then the model's defaults for ``dataset``."""
    trainer = TRAINER_DEFAULTS if model.gradient else {}
    return {**trainer, **model.defaults, **model.dataset_defaults.get(dataset or "", {})}


def parse_assignments(pairs: list[str]) -> dict[str, str]:
    """Turn ``["k=v", ...]`` from ``--set`` into a dict, rejecting malformed pairs."""
    parsed: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ZooError(f"--set expects key=value, got {pair!r}")
        parsed[key.strip()] = value.strip()
    return parsed


def _coerce(key: str, raw: Any, default: Any) -> Any:
    if not isinstance(raw, str):
        return raw
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
        raise ZooError(f"hyperparameter {key} expects {type(default).__name__}, got {raw!r}") from None
    return raw


def resolve_hparams(
    model: ModelSpec, overrides: Mapping[str, Any], dataset: str | None = None
) -> dict[str, Any]:
    """Merge overrides into the model's defaults (for ``dataset``), checking names, types and ranges."""
    hparams = defaults_for(model, dataset)
    for key, raw in overrides.items():
        if key not in hparams:
            if key in TRAINER_DEFAULTS:
                raise ZooError(f"{model.name} is not trained by gradient descent, so it takes no {key!r}")
            known = ", ".join(sorted(hparams)) or "none"
            raise ZooError(
                f"unknown hyperparameter {key!r} for {model.name}{suggest(key, hparams)} (known: {known})"
            )
        hparams[key] = _coerce(key, raw, hparams[key])
    for key in POSITIVE:
        if key in hparams and not hparams[key] > 0:
            raise ZooError(f"{key} must be positive, got {hparams[key]}")
    check_bounds(model, hparams)
    trainer_choices = {"optimizer": OPTIMIZERS, "schedule": SCHEDULES} if model.gradient else {}
    choices = {**trainer_choices, **model.choices}
    for key, allowed in choices.items():
        if hparams.get(key) not in allowed:
            raise ZooError(f"{key} must be one of {', '.join(allowed)}, got {hparams.get(key)!r}")
    return hparams


def check_bounds(model: ModelSpec, hparams: Mapping[str, Any]) -> None:
    """Refuse values outside the trainer's or the model's declared limits, e.g. ``k=-1``."""
    for key, (low, high) in {**TRAINER_BOUNDS, **model.bounds}.items():
        value = hparams.get(key)
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            continue
        if (low is not None and value < low) or (high is not None and value > high):
            if high is None:
                limit = f"at least {low}"
            elif low is None:
                limit = f"at most {high}"
            else:
                limit = f"between {low} and {high}"
            raise ZooError(f"{key} must be {limit}, got {value}")


def split_trainer(hparams: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Separate trainer settings from the model's own hyperparameters."""
    trainer = {k: v for k, v in hparams.items() if k in TRAINER_DEFAULTS}
    model = {k: v for k, v in hparams.items() if k not in TRAINER_DEFAULTS}
    return trainer, model
