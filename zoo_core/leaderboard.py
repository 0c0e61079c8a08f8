"""The leaderboard: a pure aggregation of the stored runs; the one module that imports pandas."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterable, Mapping

from .errors import ZooError

if TYPE_CHECKING:
    import pandas as pd

    from .specs import MetricSpec

FORMATS = ("table", "markdown", "csv", "json", "html")
KEYS = ["task", "dataset", "model", "settings"]


def runs_frame(
    rows: Iterable[Mapping[str, Any]], defaults: Callable[[str, str], Mapping[str, Any]]
) -> pd.DataFrame:
    """One row per successful run: its identity columns and one column per metric.

    ``settings`` names the hyperparameters that differ from ``defaults(model, dataset)``, so runs
    with different recipes are ranked side by side instead of being averaged together.
    """
    import pandas as pd

    frame = pd.DataFrame(list(rows))
    if frame.empty:
        return frame
    frame = frame[frame["status"] == "ok"].reset_index(drop=True)
    frame["settings"] = [
        " ".join(f"{k}={v}" for k, v in sorted(hparams.items()) if defaults(model, dataset).get(k) != v)
        for model, dataset, hparams in zip(frame["model"], frame["dataset"], frame["hparams"], strict=True)
    ]
    return frame


def aggregate(
    runs: pd.DataFrame, metrics: Mapping[str, MetricSpec], primary: Mapping[str, str]
) -> pd.DataFrame:
    """Mean and std over seeds per model × dataset, best rows first within each dataset.

    ``metrics`` gives each metric's direction; ``primary`` names the ranking metric per dataset.
    """
    import pandas as pd

    names = [m for m in metrics if not runs.empty and m in runs.columns and runs[m].notna().any()]
    if runs.empty or not names:
        return pd.DataFrame(columns=[*KEYS, "runs"])
    grouped = runs.groupby(KEYS, sort=True)
    board = grouped[names].agg(["mean", "std"])
    board.columns = [f"{metric}_{stat}" for metric, stat in board.columns]
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
    return pd.concat(pieces, ignore_index=True)


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
