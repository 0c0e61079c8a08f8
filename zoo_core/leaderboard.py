"""The leaderboard: a pure aggregation of the stored runs; the one module that imports pandas.

``runs_frame`` turns store rows into one row per successful run; ``boards`` filters them and
aggregates one table per task (their metrics differ), best rows first within each dataset.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from .errors import ZooError
from .names import suggest

if TYPE_CHECKING:
    import pandas as pd

    from .registry import Registry
    from .specs import MetricSpec

FORMATS = ("table", "markdown", "csv", "json", "html")
KEYS = ["task", "dataset", "model", "settings"]
FILTERS = ("task", "dataset", "model")
# Metric columns of a runs frame, kept apart from the run's own columns as MLflow does.
METRIC_PREFIX = "metrics."

Defaults = Callable[[str, str], Mapping[str, Any]]


def settings_label(settings: Mapping[str, Any], defaults: Mapping[str, Any]) -> str:
    """The settings that differ from ``defaults``, as ``k=v`` words: "" for a default run."""
    return " ".join(f"{k}={v}" for k, v in sorted(settings.items()) if defaults.get(k) != v)


def runs_frame(rows: Iterable[Mapping[str, Any]], defaults: Defaults) -> pd.DataFrame:
    """One row per successful run: its columns, ``settings``, and a ``metrics.<name>`` column per metric.

    ``settings`` names the settings that differ from ``defaults(model, dataset)``, so runs with
    different recipes are ranked side by side instead of being averaged together.
    """
    import pandas as pd

    records = []
    for row in rows:
        if row["status"] != "ok":
            continue
        settings = {**row["hparams"], **row.get("trainer", {})}
        record = {k: v for k, v in row.items() if k != "metrics"}
        record["settings"] = settings_label(settings, defaults(row["model"], row["dataset"]))
        record.update({METRIC_PREFIX + name: value for name, value in row["metrics"].items()})
        records.append(record)
    return pd.DataFrame(records)


def metric_columns(runs: pd.DataFrame) -> list[str]:
    """The metric names that have a value in ``runs``."""
    return [
        column[len(METRIC_PREFIX) :]
        for column in runs.columns
        if column.startswith(METRIC_PREFIX) and runs[column].notna().any()
    ]


def aggregate(
    runs: pd.DataFrame, metrics: Mapping[str, MetricSpec], primary: Mapping[str, str]
) -> pd.DataFrame:
    """Mean and std over seeds per model × dataset × settings, best rows first within each dataset.

    ``metrics`` gives each metric's direction; ``primary`` names the ranking metric per dataset.
    """
    import pandas as pd

    names = [m for m in metric_columns(runs) if m in metrics] if not runs.empty else []
    if runs.empty or not names:
        return pd.DataFrame(columns=[*KEYS, "runs"])
    grouped = runs.groupby(KEYS, sort=True)
    board = grouped[[METRIC_PREFIX + m for m in names]].agg(["mean", "std"])
    board.columns = [f"{metric[len(METRIC_PREFIX) :]}_{stat}" for metric, stat in board.columns]
    board["runs"] = grouped.size()
    board = board.reset_index()
    pieces = []
    for dataset, rows in board.groupby("dataset", sort=True):
        metric = primary.get(dataset)
        if metric and f"{metric}_mean" in rows:
            rows = rows.sort_values(
                [f"{metric}_mean", "model", "settings"],
                ascending=[not metrics[metric].higher_is_better, True, True],
            )
        pieces.append(rows)
    board = pd.concat(pieces, ignore_index=True)
    return board[[*KEYS, "runs", *[c for c in board.columns if c not in KEYS and c != "runs"]]]


def registry_defaults(registry: Registry) -> Defaults:
    """The installed models' default settings on a dataset ({} for a model no plugin offers now)."""
    from .hparams import defaults_for

    def defaults(model: str, dataset: str) -> dict[str, Any]:
        entry = registry.models.get(model)
        return defaults_for(entry.spec, dataset).flat if entry else {}

    return defaults


def boards(
    rows: Iterable[Mapping[str, Any]], registry: Registry, where: str, **filters: str | None
) -> dict[str, pd.DataFrame]:
    """One leaderboard per task, from the store's ``rows``, keeping the runs that match ``filters``.

    A filter naming a value no successful run has is a ZooError with a suggestion; ``where``
    names the database in that message.
    """
    runs = runs_frame(rows, registry_defaults(registry))
    for column in FILTERS:
        wanted = filters.get(column)
        if wanted is None:
            continue
        recorded = set(runs[column]) if not runs.empty else set()
        if wanted not in recorded:
            raise ZooError(
                f"no successful runs with {column} {wanted!r} in {where}{suggest(wanted, recorded)}"
            )
        runs = runs[runs[column] == wanted]
    if runs.empty:
        return {}
    metrics = {name: entry.spec for name, entry in registry.metrics.items()}
    result = {}
    for task, task_runs in runs.groupby("task", sort=True):
        primary = {}
        for dataset in sorted(set(task_runs["dataset"])):
            chosen = registry.primary_metric(dataset, str(task))
            if chosen is not None:
                primary[dataset] = chosen.name
        board = aggregate(task_runs.dropna(axis=1, how="all"), metrics, primary)
        board.attrs["primary"] = primary
        result[str(task)] = board
    return result


def render(board: pd.DataFrame, fmt: str) -> str:
    """Text of the board: numbers stay numbers in csv/json; people get "mean ± std"."""
    if fmt == "csv":
        return board.to_csv(index=False)
    if fmt == "json":
        return board.to_json(orient="records", indent=2) + "\n"
    readable = _readable(board)
    if fmt == "markdown":
        return readable.to_markdown(index=False) + "\n"
    if fmt == "html":
        return readable.to_html(index=False) + "\n"
    if fmt == "table":
        return readable.to_string(index=False) + "\n"
    raise ZooError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")


def render_all(tables: Mapping[str, pd.DataFrame], fmt: str) -> str:
    """Every task's board in one text: one table after another, each under its task's name."""
    if len(tables) == 1:
        return render(next(iter(tables.values())), fmt)
    if fmt == "json":
        import json

        return (
            json.dumps({task: json.loads(render(b, "json")) for task, b in tables.items()}, indent=2) + "\n"
        )
    if fmt == "csv":
        import pandas as pd

        return render(pd.concat(list(tables.values()), ignore_index=True), "csv")
    heading = {"markdown": "**{}**\n\n", "html": "<h2>{}</h2>\n", "table": "{}\n"}[fmt]
    return "\n".join(heading.format(task) + render(board, fmt) for task, board in tables.items())


def _readable(board: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    out = board[[c for c in board.columns if not c.endswith(("_mean", "_std"))]].copy()
    for column in board.columns:
        if column.endswith("_mean"):
            metric = column[: -len("_mean")]
            mean, std = board[column], board[f"{metric}_std"]
            out[metric] = [
                "" if pd.isna(m) else _number(m) if pd.isna(s) else f"{_number(m)} ± {_number(s)}"
                for m, s in zip(mean, std, strict=True)
            ]
    return out


def _number(value: float) -> str:
    # Four decimals read well for accuracies and inertias; tiny errors (MSE 4e-06) need significant figures.
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3g}"


def write(text: str, output: Path | None) -> None:
    if output is None:
        print(text, end="")
        return
    if output.is_dir():
        raise ZooError(f"--output {output} is a folder; give a file name")
    try:
        output.write_text(text)
    except OSError as exc:
        raise ZooError(f"cannot write {output}: {exc.strerror}") from None
