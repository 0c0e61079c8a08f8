"""Every figure the zoo draws; the one module that imports matplotlib."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

if TYPE_CHECKING:
    import numpy as np
    import pandas as pd
    from matplotlib.figure import Figure

    from .data import Splits


def _figure(width: float = 6.4, height: float = 4.8) -> Figure:
    # The object API with the Agg canvas needs no display and no global pyplot state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def loss_curve(
    history: Sequence[float],
    path: Path,
    *,
    title: str,
    xlabel: str = "epoch",
    validation: Mapping[str, Sequence[float]] | None = None,
    best_epoch: int | None = None,
) -> None:
    """The training loss per epoch; each validation metric on a second axis (its own scale), if any."""
    from matplotlib.ticker import MaxNLocator

    figure = _figure()
    ax = figure.add_subplot()
    marker = "o" if len(history) < 30 else None
    lines = ax.plot(range(1, len(history) + 1), history, marker=marker, label="training loss")
    ax.set(title=title, xlabel=xlabel, ylabel="training loss")
    ax.grid(alpha=0.3)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole: no tick at 2.5
    if validation:
        right = ax.twinx()
        for n, (name, values) in enumerate(sorted(validation.items()), start=1):
            steps = range(1, len(values) + 1)
            lines += right.plot(steps, values, marker=marker, color=f"C{n}", label=f"validation {name}")
        right.set_ylabel("validation " + ", ".join(sorted(validation)))
    if best_epoch:
        lines.append(ax.axvline(best_epoch, color="0.5", linestyle="--", label=f"best epoch ({best_epoch})"))
    if len(lines) > 1:
        ax.legend(handles=lines)
    figure.savefig(path, dpi=100)


def confusion_matrix(
    targets: np.ndarray, predictions: np.ndarray, classes: Sequence[str], path: Path, *, title: str
) -> None:
    import numpy as np

    n = max(len(classes), int(targets.max(initial=0)) + 1, int(predictions.max(initial=0)) + 1)
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (targets, predictions), 1)
    labels = list(classes) + [str(i) for i in range(len(classes), n)]
    figure = _figure(max(5.0, 1.5 + 0.55 * n), max(4.0, 1.2 + 0.5 * n))  # room for the title at 2 classes
    ax = figure.add_subplot()
    image = ax.imshow(counts, cmap="Blues")
    figure.colorbar(image, ax=ax)
    ax.set(title=title, xlabel="predicted", ylabel="true", xticks=range(n), yticks=range(n))
    ax.set_xticklabels(labels, rotation=45, ha="right")
    ax.set_yticklabels(labels)
    for (row, col), count in np.ndenumerate(counts):
        ax.text(
            col,
            row,
            str(count),
            ha="center",
            va="center",
            color="white" if count > counts.max() / 2 else "black",
            fontsize=8,
        )
    figure.savefig(path, dpi=100)


def forecast(splits: Splits, predictions: np.ndarray, path: Path, *, title: str) -> None:
    import numpy as np

    def positions(split_index: object, start: int, n: int) -> np.ndarray:
        return np.asarray(split_index) if split_index is not None else np.arange(start, start + n)

    train_t = positions(splits.train.index, 0, len(splits.train))
    test_t = positions(splits.test.index, len(splits.train), len(splits.test))
    figure = _figure(10, 4)
    ax = figure.add_subplot()
    ax.plot(train_t, splits.train.y.cpu().numpy(), color="0.6", label="train targets")
    ax.plot(test_t, splits.test.y.cpu().numpy(), color="black", label="test targets")
    ax.plot(test_t, predictions, color="tab:red", label="predictions")
    ax.axvline(test_t[0], color="0.8", linestyle="--")
    ax.set(title=title, xlabel="time step", ylabel="value")
    ax.legend()
    figure.savefig(path, dpi=100)


def clusters(inputs: np.ndarray, labels: np.ndarray, path: Path, *, title: str) -> None:
    """Points coloured by cluster (first two features), each cluster's centroid marked."""
    import numpy as np

    figure = _figure()
    ax = figure.add_subplot()
    ax.scatter(inputs[:, 0], inputs[:, 1], c=labels, cmap="viridis", s=12)
    centroids = np.array([inputs[labels == k].mean(axis=0) for k in np.unique(labels)])
    ax.scatter(
        centroids[:, 0], centroids[:, 1], c="red", marker="X", s=200, edgecolors="white", label="centroids"
    )
    ax.set(title=title, xlabel="feature 0", ylabel="feature 1")
    ax.legend()
    figure.savefig(path, dpi=100)


def leaderboard_bars(board: pd.DataFrame, primary: dict[str, str], path: Path) -> None:
    """One panel per dataset: each model's primary metric, mean with std as error bars."""
    datasets = list(dict.fromkeys(board["dataset"]))
    figure = _figure(7, 1.2 + sum(0.45 * (board["dataset"] == d).sum() + 0.8 for d in datasets))
    axes = figure.subplots(len(datasets), 1, squeeze=False)[:, 0]
    for ax, dataset in zip(axes, datasets, strict=True):
        rows = board[board["dataset"] == dataset].iloc[::-1]  # best at the top
        metric = primary[dataset]
        ax.barh(rows["model"], rows[f"{metric}_mean"], xerr=rows[f"{metric}_std"].fillna(0), color="tab:blue")
        ax.set(title=dataset, xlabel=metric)
        ax.grid(axis="x", alpha=0.3)
    figure.savefig(path, dpi=100)
