"""Every figure the zoo draws; the one module that imports matplotlib."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from .errors import ZooError

if TYPE_CHECKING:
    import numpy as np
    from matplotlib.figure import Figure

    from .data import Splits


# What the leaderboard hands the bar chart: plain data, so drawing needs no pandas.
@dataclass(frozen=True)
class Bar:
    """One row of a board as a plot draws it."""

    label: str  # the model, and its settings when they are not the defaults
    mean: float  # NaN when no run of the row has the metric
    std: float  # NaN with a single seed
    text: str  # the value written on the bar
    kind: str  # one of KINDS


# How a bar is coloured: a baseline, a model's own recipe, or other settings (a smoke run, a sweep).
KINDS = ("baseline", "default settings", "other settings")


@dataclass(frozen=True)
class Panel:
    """One dataset's ranking: its bars best first."""

    task: str
    dataset: str
    metric: str
    higher_is_better: bool
    bars: tuple[Bar, ...]


def _figure(width: float = 6.4, height: float = 4.8) -> Figure:
    # The object API with the Agg canvas needs no display and no global pyplot state.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def loss_curve(history: Sequence[float], path: Path, **labels: Any) -> None:
    """Draw :func:`loss_figure` into ``path``."""
    loss_figure(history, **labels).savefig(path, dpi=100)


def loss_figure(
    history: Sequence[float],
    *,
    title: str,
    xlabel: str = "epoch",
    ylabel: str = "training loss",
    validation: Mapping[str, Sequence[float]] | None = None,
    best_epoch: int | None = None,
) -> Figure:
    """``history`` (the training loss, or an estimator's ``ylabel``) per ``xlabel``; each validation
    metric on a second axis with its own scale, and the best epoch marked.

    Epochs and iterations are whole numbers, so are the ticks. A single point is drawn as a large
    marker in the middle of a unit-wide axis, not a dot on an axis spanning 0.96 to 1.04.
    """
    from matplotlib.ticker import MaxNLocator

    figure = _figure()
    ax = figure.add_subplot()
    steps = len(history)
    marker = "o" if steps < 30 else None
    size = 10 if steps == 1 else 5
    lines = ax.plot(range(1, steps + 1), history, marker=marker, markersize=size, label=ylabel)
    ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
    ax.grid(alpha=0.3)
    axes = [ax]
    if validation:
        right = ax.twinx()
        axes.append(right)
        for n, (name, values) in enumerate(sorted(validation.items()), start=1):
            points = range(1, len(values) + 1)
            lines += right.plot(
                points, values, marker=marker, markersize=size, color=f"C{n}", label=f"validation {name}"
            )
        right.set_ylabel("validation " + ", ".join(sorted(validation)))
    for axis in axes:
        # No tick at epoch 2.5, even when the axis holds a single whole number.
        axis.xaxis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=1))
        axis.ticklabel_format(axis="y", useOffset=False)  # no "+0.4" over an axis of nearly equal values
        _widen_flat(axis)
    if steps <= 2:
        ax.set_xlim(0.5, steps + 0.5)  # room either side of one or two points
    if steps == 1:  # one point per curve: say its value, left of the marker for the left axis
        for n, line in enumerate(lines):
            axis, side = (ax, -1) if n == 0 else (axes[-1], 1)
            value = line.get_ydata()[0]
            axis.annotate(
                f"{value:.4g}",
                (1, value),
                xytext=(side * 12, 0),
                textcoords="offset points",
                ha="right" if side < 0 else "left",
                va="center",
                color=line.get_color(),
            )
        best_epoch = None  # the only epoch is the best: a line through it says nothing
    if best_epoch:
        lines.append(ax.axvline(best_epoch, color="0.5", linestyle="--", label=f"best epoch ({best_epoch})"))
    if len(lines) > 1:
        ax.legend(handles=lines)
    return figure


def _widen_flat(ax: Any) -> None:
    """Give a curve with (nearly) one value a visible range around it instead of a hairline one."""
    low, high = ax.get_ylim()
    middle = (low + high) / 2
    spread = max(abs(middle) * 0.05, 1e-3)
    if high - low < spread:
        ax.set_ylim(middle - spread, middle + spread)


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


def image_format(path: Path, option: str) -> str:
    """The image format ``path``'s extension names (any case); a ZooError when it names none.

    The format is chosen here, once, and given to matplotlib: it never guesses or appends one.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    # pgf needs a LaTeX install, and raw/rgba are headerless pixels no viewer opens.
    formats = sorted(set(FigureCanvasAgg.get_supported_filetypes()) - {"pgf", "raw", "rgba"})
    extension = path.suffix[1:].lower()
    if extension in formats:
        return extension
    found = f".{path.suffix[1:]} is not an image format" if extension else "no extension names its format"
    others = ", ".join(f".{f}" for f in formats if f not in ("png", "svg", "pdf"))
    raise ZooError(f"{option} {path}: {found}; end it with .png, .svg or .pdf (or {others})")


# Baselines stand apart; a model's own recipe and other settings (a smoke run, a sweep) never share a colour.
BAR_COLOURS = {"baseline": "0.6", "default settings": "tab:blue", "other settings": "tab:orange"}


def leaderboard_bars(panels: Sequence[Panel], fmt: str) -> bytes:
    """One panel per dataset, across tasks: a bar per model and settings, best at the top.

    Each bar is the ranking metric's mean over seeds, with the std as its error bar and both
    written beside it; each panel says whether lower or higher is better. Returns the image.
    """
    import io
    import math

    from matplotlib.patches import Patch

    heights = [0.9 + 0.32 * len(panel.bars) for panel in panels]
    figure = _figure(8, 0.6 + sum(heights))
    axes = figure.subplots(len(panels), 1, squeeze=False, height_ratios=heights)[:, 0]
    for ax, panel in zip(axes, panels, strict=True):
        n = len(panel.bars)
        rows = [n - 1 - i for i in range(n)]  # the first bar (the best) at the top
        means = [0.0 if math.isnan(b.mean) else b.mean for b in panel.bars]
        errors = [0.0 if math.isnan(b.std) else b.std for b in panel.bars]
        ax.barh(rows, means, height=0.7, color=[BAR_COLOURS[b.kind] for b in panel.bars])
        spread = [(r, m, e) for r, m, e in zip(rows, means, errors, strict=True) if e > 0]
        if spread:  # one seed has no spread: no error bar, rather than a cap that reads as "± 0"
            ys, xs, es = zip(*spread, strict=True)
            ax.errorbar(xs, ys, xerr=es, fmt="none", ecolor="0.25", capsize=3, elinewidth=1)
        ax.set_yticks(rows, [b.label for b in panel.bars])
        ends = [m + e for m, e in zip(means, errors, strict=True)]
        low, high = min(0.0, *(m - e for m, e in zip(means, errors, strict=True))), max(0.0, *ends)
        span = (high - low) or 1.0
        for row, end, bar in zip(rows, ends, panel.bars, strict=True):
            ax.text(max(end, 0.0) + 0.01 * span, row, bar.text, va="center", fontsize=8)
        ax.set_xlim(low, high + 0.45 * span)  # room for the values written after the bars
        ax.set_ylim(-0.6, n - 0.4)
        better = "higher" if panel.higher_is_better else "lower"
        ax.set_title(f"{panel.task}: {panel.dataset}", loc="left", fontsize=10)
        ax.set_xlabel(f"{panel.metric} ({better} is better)", fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    kinds = [kind for kind in BAR_COLOURS if any(b.kind == kind for p in panels for b in p.bars)]
    figure.legend(
        handles=[Patch(color=BAR_COLOURS[kind], label=kind) for kind in kinds],
        loc="outside upper right",
        ncols=len(kinds),
        fontsize=8,
        frameon=False,
    )
    image = io.BytesIO()
    figure.savefig(image, format=fmt, dpi=100)
    return image.getvalue()
