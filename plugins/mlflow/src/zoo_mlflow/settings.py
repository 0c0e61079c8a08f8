"""The plugin's settings: environment variables, read when a run starts (never at import).

=============================  ==============================================================
``MLFLOW_TRACKING_URI``        MLflow's own: the tracking server or store to log to. Unset: a
                               SQLite store in the zoo home, ``<home>/mlflow/mlflow.db``, with
                               artifacts in ``<home>/mlflow/artifacts``
``ZOO_MLFLOW_EXPERIMENT``      the MLflow experiment of the runs (default ``zoo``)
``ZOO_MLFLOW_TIMEOUT``         whole seconds one request to a tracking server may take (default 10)
``ZOO_MLFLOW_RETRIES``         retries of a request that failed (default 1)
``ZOO_MLFLOW_ARTIFACTS``       ``0``: do not upload the run folder (plots, weights) as artifacts
=============================  ==============================================================

``ZOO_MLFLOW_TIMEOUT`` and ``ZOO_MLFLOW_RETRIES`` set MLflow's ``MLFLOW_HTTP_REQUEST_TIMEOUT`` and
``MLFLOW_HTTP_REQUEST_MAX_RETRIES`` while the plugin talks to MLflow; when you set those yourself,
yours win. MLflow's defaults (120 s, 7 retries with exponential backoff) let one unreachable server
hold a run for minutes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

DEFAULT_EXPERIMENT = "zoo"
DEFAULT_TIMEOUT = 10
DEFAULT_RETRIES = 1


class SettingError(ValueError):
    """An environment variable of this plugin has a value it cannot use."""


@dataclass(frozen=True)
class Settings:
    """Where and how to log the runs of one zoo home."""

    tracking_uri: str
    # Where a local store keeps artifacts; None for a server, which decides for itself.
    artifact_root: Path | None
    experiment: str
    timeout: int
    retries: int
    artifacts: bool

    @property
    def shown_uri(self) -> str:
        """The tracking URI without any user name or password in it, for messages."""
        parts = urlsplit(self.tracking_uri)
        if parts.username is None and parts.password is None:
            return self.tracking_uri
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit(parts._replace(netloc=netloc))


def read(home: Path) -> Settings:
    """The settings for runs recorded in ``home``, from the environment as it is now."""
    uri = os.environ.get("MLFLOW_TRACKING_URI", "").strip()
    artifact_root = None
    if not uri:
        folder = (home / "mlflow").resolve()
        uri = f"sqlite:///{folder / 'mlflow.db'}"
        # Left unset, MLflow would put a local store's artifacts in ./mlruns, wherever `zoo` runs.
        artifact_root = folder / "artifacts"
    experiment = os.environ.get("ZOO_MLFLOW_EXPERIMENT", "").strip() or DEFAULT_EXPERIMENT
    return Settings(
        tracking_uri=uri,
        artifact_root=artifact_root,
        experiment=experiment,
        timeout=_whole("ZOO_MLFLOW_TIMEOUT", DEFAULT_TIMEOUT, minimum=1),
        retries=_whole("ZOO_MLFLOW_RETRIES", DEFAULT_RETRIES, minimum=0),
        artifacts=os.environ.get("ZOO_MLFLOW_ARTIFACTS", "1").strip() not in ("0", "false", "no"),
    )


def _whole(name: str, default: int, *, minimum: int) -> int:
    # Whole numbers: MLflow reads its own timeout and retry variables as integers.
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < minimum:
        raise SettingError(f"{name} must be a whole number, {minimum} or more; got {text!r}")
    return int(text)
