"""`zoo compare`: why recorded runs differ, side by side.

What was asked (model, dataset, seed, settings), what came out (every metric, with the way it
should go), and where each run came from (versions, data, device, threads, source commits).
Only what differs is listed, apart from the metrics, which are always shown.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from .errors import ZooError
from .queries import settings_of

# What a run is, besides its settings; and where it came from. (row column, label)
IDENTITY = (("model", "model"), ("dataset", "dataset"), ("seed", "seed"), ("status", "status"))
PROVENANCE = (
    ("dataset_fingerprint", "data fingerprint"),
    ("device", "device"),
    ("threads", "threads"),
    ("zoo_version", "zoo-core version"),
    ("plugin", "plugin"),
    ("plugin_version", "plugin version"),
    ("torch_version", "torch version"),
    ("numpy_version", "numpy version"),
    ("python_version", "python version"),
    ("git_commit", "plugin git commit"),
    ("core_git_commit", "core git commit"),
)


@dataclass(frozen=True)
class MetricLine:
    """One metric across the runs: its values (None: not recorded) and its direction."""

    name: str
    values: list[float | None]
    higher_is_better: bool | None  # None: no installed plugin defines the metric

    @property
    def best(self) -> list[int]:
        """The positions of the best value (ties all count); empty without a direction or a difference."""
        known = [v for v in self.values if v is not None]
        if self.higher_is_better is None or len(set(known)) < 2:
            return []
        target = max(known) if self.higher_is_better else min(known)
        return [i for i, v in enumerate(self.values) if v == target]


@dataclass(frozen=True)
class Comparison:
    runs: list[dict[str, Any]]
    identity: dict[str, list[Any]]  # label -> value per run, for what differs only
    settings: dict[str, list[Any]]
    metrics: list[MetricLine]
    provenance: dict[str, list[Any]]

    @property
    def same(self) -> list[str]:
        """What the runs share, for a summary line: the identity and provenance that do not differ."""
        differing = {*self.identity, *self.provenance}
        return [label for _, label in (*IDENTITY, *PROVENANCE) if label not in differing]

    def to_json(self) -> dict[str, Any]:
        return {
            "runs": [row["run_id"] for row in self.runs],
            "differences": {
                "run": self.identity,
                "settings": self.settings,
                "provenance": self.provenance,
            },
            "metrics": [
                {
                    "name": line.name,
                    "better": {True: "higher", False: "lower", None: None}[line.higher_is_better],
                    "values": line.values,
                    "best": [self.runs[i]["run_id"] for i in line.best],
                }
                for line in self.metrics
            ],
            "same": self.same,
        }


def _differing(values: list[Any]) -> bool:
    return any(value != values[0] for value in values[1:])


def compare(rows: Sequence[Mapping[str, Any]], directions: Mapping[str, bool]) -> Comparison:
    """Compare the recorded runs ``rows``; ``directions`` says which metrics are higher-is-better."""
    if len({row["run_id"] for row in rows}) < 2:
        raise ZooError("zoo compare needs two different runs or more")
    identity = {label: [row[key] for row in rows] for key, label in IDENTITY}
    provenance = {label: [row.get(key, "") for row in rows] for key, label in PROVENANCE}
    flat = [settings_of(row) for row in rows]
    keys = sorted({key for settings in flat for key in settings})
    settings = {key: [settings.get(key) for settings in flat] for key in keys}
    names = sorted({name for row in rows for name in row["metrics"]})
    metrics = [
        MetricLine(name, [row["metrics"].get(name) for row in rows], directions.get(name)) for name in names
    ]
    return Comparison(
        runs=[dict(row) for row in rows],
        identity={k: v for k, v in identity.items() if _differing(v)},
        settings={k: v for k, v in settings.items() if _differing(v)},
        metrics=metrics,
        provenance={k: v for k, v in provenance.items() if _differing(v)},
    )
