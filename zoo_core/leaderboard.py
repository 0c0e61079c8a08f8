"""The leaderboard: a pure aggregation of the stored runs; the one module that imports pandas.

``runs_frame`` turns store rows into one row per successful run; ``boards`` filters them and
aggregates one table per task (their metrics differ), best rows first within each dataset.

Seeds, not runs, are the unit of a mean ± std. A seed run twice (the same recipe recorded
twice) is averaged first, so its duplicates count once: ``seeds`` is the number of distinct
seeds behind a row, ``runs`` the number of successful runs, and the std is over the seeds
(none with a single seed, which would otherwise show as a reassuring "± 0.0000").
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from .errors import ZooError
from .names import suggest
from .plots import Bar, Panel
from .recipe import recorded_trainer

if TYPE_CHECKING:
    import pandas as pd

    from .registry import Registry
    from .specs import MetricSpec

FORMATS = ("table", "markdown", "csv", "json", "html")
KEYS = ["task", "dataset", "model", "settings"]
COUNTS = ["seeds", "runs"]
FILTERS = ("task", "dataset", "model")
# Metric columns of a runs frame, kept apart from the run's own columns as MLflow does.
METRIC_PREFIX = "metrics."

Defaults = Callable[[str, str], Mapping[str, Any]]


def settings_label(settings: Mapping[str, Any], defaults: Mapping[str, Any]) -> str:
    """The settings that differ from ``defaults``, as ``k=v`` words: "" for a default run."""
    return " ".join(f"{k}={v}" for k, v in sorted(settings.items()) if defaults.get(k) != v)


def select(
    rows: Iterable[Mapping[str, Any]], where: str, what: str = "runs", **filters: str | None
) -> list[Mapping[str, Any]]:
    """The rows whose columns equal every filter given (None: any).

    A filter that matches no row is a ZooError with a suggestion, rather than an empty answer
    that reads like "nothing was recorded"; ``where`` names the database and ``what`` the rows.
    """
    kept = list(rows)
    for column, wanted in filters.items():
        if wanted is None:
            continue
        recorded = {row[column] for row in kept}
        if wanted not in recorded:
            raise ZooError(f"no {what} with {column} {wanted!r} in {where}{suggest(wanted, recorded)}")
        kept = [row for row in kept if row[column] == wanted]
    return kept


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
        # A run recorded before a trainer setting existed is labelled with what it did without it.
        settings = {**row["hparams"], **recorded_trainer(row.get("trainer") or {})}
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

    Duplicates of a seed are averaged before the seeds are (see the module's docstring).
    ``metrics`` gives each metric's direction; ``primary`` names the ranking metric per dataset.
    Rows tie-break by model and settings, and a row without the ranking metric comes last.
    """
    import pandas as pd

    names = [m for m in metric_columns(runs) if m in metrics] if not runs.empty else []
    if runs.empty or not names:
        return pd.DataFrame(columns=[*KEYS, *COUNTS])
    columns = [METRIC_PREFIX + m for m in names]
    per_seed = runs.groupby([*KEYS, "seed"], sort=True)[columns].mean()
    grouped = per_seed.groupby(level=KEYS, sort=True)
    board = grouped.agg(["mean", "std"])
    board.columns = [f"{metric[len(METRIC_PREFIX) :]}_{stat}" for metric, stat in board.columns]
    board["seeds"] = grouped.size()
    board["runs"] = runs.groupby(KEYS, sort=True).size()
    board = board.reset_index()
    pieces = []
    for dataset, rows in board.groupby("dataset", sort=True):
        metric = primary.get(dataset)
        if metric and f"{metric}_mean" in rows:
            rows = rows.sort_values(
                [f"{metric}_mean", "model", "settings"],
                ascending=[not metrics[metric].higher_is_better, True, True],
                na_position="last",
                kind="stable",
            )
        pieces.append(rows)
    board = pd.concat(pieces, ignore_index=True)
    return board[[*KEYS, *COUNTS, *[c for c in board.columns if c not in KEYS and c not in COUNTS]]]


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
    names the database in that message. Each board's ``attrs`` say what a plot needs:
    ``primary`` (dataset -> ranking metric), ``higher`` (metric -> higher is better) and
    ``baselines`` (its models that are baselines).
    """
    ok = [row for row in rows if row["status"] == "ok"]
    runs = runs_frame(select(ok, where, "successful runs", **filters), registry_defaults(registry))
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
        if board.empty:
            continue  # no metric of this task is installed any more: nothing to rank by
        board.attrs["primary"] = primary
        board.attrs["higher"] = {m: metrics[m].higher_is_better for m in set(primary.values())}
        board.attrs["baselines"] = sorted(
            m for m in set(board["model"]) if m in registry.models and registry.models[m].spec.baseline
        )
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
    """Every task's board in one text.

    For people (table, markdown, html) one table per task, each under its task's name. For
    programs the shape never depends on how many tasks were recorded: csv is one table whose
    columns are every task's, json one list of rows, each row naming its task.
    """
    import json

    import pandas as pd

    if fmt == "json":
        rows = [row for board in tables.values() for row in json.loads(render(board, "json"))]
        return json.dumps(rows, indent=2) + "\n"
    if fmt == "csv":
        return render(pd.concat(list(tables.values()), ignore_index=True), "csv")
    if len(tables) == 1:
        return render(next(iter(tables.values())), fmt)
    if fmt not in FORMATS:
        raise ZooError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    heading = {"markdown": "**{}**\n\n", "html": "<h2>{}</h2>\n", "table": "{}\n"}[fmt]
    # Under its task's heading a board needs no task column.
    return "\n".join(
        heading.format(task) + render(_without_task(board), fmt) for task, board in tables.items()
    )


def _without_task(board: pd.DataFrame) -> pd.DataFrame:
    narrower = board.drop(columns="task")
    narrower.attrs = board.attrs
    return narrower


def _readable(board: pd.DataFrame) -> pd.DataFrame:
    import pandas as pd

    out = board[[c for c in board.columns if not c.endswith(("_mean", "_std"))]].copy()
    for column in board.columns:
        if column.endswith("_mean"):
            metric = column[: -len("_mean")]
            out[metric] = [
                _mean_std(m, s) if not pd.isna(m) else ""
                for m, s in zip(board[column], board[f"{metric}_std"], strict=True)
            ]
    return out


def _mean_std(mean: float, std: float) -> str:
    return _number(mean) if math.isnan(std) else f"{_number(mean)} ± {_number(std)}"


def _number(value: float) -> str:
    # Four decimals read well for accuracies and inertias; tiny errors (MSE 4e-06) need significant figures.
    return f"{value:.4f}" if abs(value) >= 1e-3 or value == 0 else f"{value:.3g}"


def panels(tables: Mapping[str, pd.DataFrame]) -> list[Panel]:
    """A panel per dataset with a ranking metric, across every task, each row one bar, best first."""
    found = []
    for task, board in tables.items():
        primary, baselines = board.attrs["primary"], set(board.attrs["baselines"])
        for dataset in dict.fromkeys(board["dataset"]):
            metric = primary.get(dataset)
            if metric is None or f"{metric}_mean" not in board:
                continue
            bars = []
            for row in board[board["dataset"] == dataset].itertuples(index=False):
                row = row._asdict()
                mean, std = float(row[f"{metric}_mean"]), float(row[f"{metric}_std"])
                counted = f"{row['seeds']} seed{'s' if row['seeds'] != 1 else ''}"
                if row["runs"] != row["seeds"]:  # a seed recorded twice counts once; say both
                    counted += f", {row['runs']} runs"
                text = "no value" if math.isnan(mean) else f"{_mean_std(mean, std)} ({counted})"
                kind = (
                    "baseline"
                    if row["model"] in baselines
                    else "other settings"
                    if row["settings"]
                    else "default settings"
                )
                label = f"{row['model']} ({row['settings']})" if row["settings"] else row["model"]
                bars.append(Bar(label, mean, std, text, kind))
            found.append(Panel(task, dataset, metric, board.attrs["higher"][metric], tuple(bars)))
    return found


def check_destinations(output: Path | None, plot: Path | None, home: Path) -> str | None:
    """Refuse bad ``--output`` and ``--plot`` files before anything is computed or written.

    Returns the plot's image format, which its extension chooses.
    """
    from .paths import check_output

    if output is not None:
        check_output(output, "--output", home)
    if plot is None:
        return None
    from .plots import image_format

    check_output(plot, "--plot", home)
    if output is not None and _same_file(output, plot):
        raise ZooError(f"--output and --plot both name {plot}; give them different files")
    return image_format(plot, "--plot")


def _same_file(a: Path, b: Path) -> bool:
    import os

    return os.path.realpath(a) == os.path.realpath(b)


def write(text: str, output: Path | None) -> None:
    """``text`` to stdout, or whole into ``output`` (checked by :func:`check_destinations`)."""
    if output is None:
        print(text, end="")
        return
    from .paths import write_file

    write_file(output, text.encode("utf-8"))


def plot(tables: Mapping[str, pd.DataFrame], fmt: str) -> tuple[bytes, list[Panel]]:
    """The bar chart of ``tables`` as an image in ``fmt``, and the panels drawn in it."""
    from .plots import leaderboard_bars

    drawn = panels(tables)
    if not drawn:
        raise ZooError("nothing to plot: no recorded dataset has a metric to rank by")
    return leaderboard_bars(drawn, fmt), drawn
