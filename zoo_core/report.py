"""`zoo report`: the recorded runs as a static HTML site, to look at rather than read.

::

    index.html              one leaderboard per task, a bar chart per dataset, every run
    runs/<run>.html         a run: config, metrics, curves, plots, provenance
    runs/<run>/*.png        its images (copied from the run folder, or drawn here)
    charts/*.png            the bar charts (plots.leaderboard_bars)
    style.css, sort.js      from zoo_core/templates/report, with page.html

The site is self-contained and works offline from ``file://``: no CDN, no web font, nothing
fetched. Pages are plain string templates; everything that comes from the store, a plugin or
a user (names, settings, notes, errors) goes through :func:`html.escape`.

A run's curves come from its row's ``training`` column when the trainer stored them::

    {"loss": [0.9, 0.5, ...],                 # training loss per epoch (or iteration)
     "validation": {"accuracy": [0.8, ...]},   # each validation metric per epoch
     "best_epoch": 7, "stop_reason": "..."}    # optional

otherwise from the ``loss_curve.png`` the run wrote into its folder.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from hashlib import sha256
from html import escape
from importlib import resources
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Any, Iterable, Mapping
from urllib.parse import quote

from . import layout
from .errors import ZooError
from .leaderboard import KEYS, _number, boards, registry_defaults, runs_frame
from .names import suggest
from .records import ran_on
from .store import Store
from .version import __version__

if TYPE_CHECKING:
    import pandas as pd

    from .registry import Registry

# Marks a folder as a site this command wrote, so writing again may replace its files.
MARKER = ".zoo-report"
STATIC = ("style.css", "sort.js")
OWN = ("index.html", "runs", "charts", *STATIC)
SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
LOSS_CURVE = "loss_curve.png"
DEFAULTS = '<span class="legend">defaults</span>'


@dataclass(frozen=True)
class Site:
    """What `zoo report` wrote."""

    index: Path
    runs: int
    charts: int


def esc(value: Any) -> str:
    return escape(str(value), quote=True)


def href(*parts: str) -> str:
    """A relative link to a file of the site, quoted for a URL and escaped for an attribute."""
    return esc("/".join(quote(part) for part in parts))


def page_name(run_id: str) -> str:
    """The file name of a run's page: its id when that is a safe file name, else a hash of it."""
    if SAFE_NAME.match(run_id) and len(run_id) <= 200:
        return run_id
    return "run-" + sha256(run_id.encode()).hexdigest()[:16]


def build(home: Path, output: Path, registry: Registry, *, task: str | None = None) -> Site:
    """Write the site for the runs recorded in ``home`` into ``output``; ``task`` keeps one task's."""
    database = layout.database_path(home)
    recorded = Store(database).rows()
    rows = [row for row in recorded if task in (None, row["task"])]
    if recorded and not rows:
        raise ZooError(
            f"no runs of task {task!r} in {database}{suggest(str(task), {r['task'] for r in recorded})}"
        )
    tables = boards(rows, registry, str(database)) if rows else {}
    _prepare(output)
    (output / "runs").mkdir()
    (output / "charts").mkdir()
    root = resources.files("zoo_core") / "templates" / "report"
    for name in STATIC:
        (output / name).write_text(root.joinpath(name).read_text())
    template = Template(root.joinpath("page.html").read_text())
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")

    def write(path: Path, title: str, body: str, depth: int) -> None:
        fields = {"title": esc(title), "root": "../" * depth, "body": body, "version": esc(__version__)}
        path.write_text(template.substitute(fields, generated=esc(stamp)))

    seeds = _seed_links(rows, registry)
    charts = 0
    sections = []
    for task_name, board in tables.items():
        drawn = _charts(board, task_name, output / "charts")
        charts += len(drawn)
        sections.append(_board_section(task_name, board, registry, seeds, drawn))
    for row in rows:
        write(
            output / "runs" / f"{page_name(row['run_id'])}.html",
            row["run_id"],
            _run_page(row, registry, output),
            1,
        )
    body = _index(home, rows, tables, sections, registry)
    index = output / "index.html"
    write(index, "zoo report", body, 0)
    return Site(index, len(rows), charts)


def _prepare(output: Path) -> None:
    """An empty folder for the site: new, empty, or a site this command wrote before (replaced)."""
    if output.exists() and not output.is_dir():
        raise ZooError(f"--output {output} is a file; give a folder for the site")
    if output.is_dir() and any(output.iterdir()):
        if not (output / MARKER).exists():
            raise ZooError(
                f"--output {output} is not empty and holds no zoo report; give a new or empty folder"
            )
        for name in OWN:
            path = output / name
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            elif path.exists() or path.is_symlink():
                path.unlink()
    output.mkdir(parents=True, exist_ok=True)
    (output / MARKER).write_text("written by `zoo report`; writing it again replaces this folder's site\n")


def _seed_links(
    rows: list[dict[str, Any]], registry: Registry
) -> dict[tuple[str, ...], list[dict[str, Any]]]:
    """The successful runs behind each leaderboard row (task, dataset, model, settings), by seed."""
    frame = runs_frame(rows, registry_defaults(registry))
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    if frame.empty:
        return groups
    for record in frame[[*KEYS, "run_id", "seed"]].to_dict("records"):
        groups.setdefault(tuple(str(record[k]) for k in KEYS), []).append(record)
    for runs in groups.values():
        runs.sort(key=lambda record: (record["seed"], record["run_id"]))
    return groups


def _direction(registry: Registry, metric: str) -> tuple[str, str]:
    """The arrow and the words for a metric's direction ("", "" when no installed plugin knows it)."""
    entry = registry.metrics.get(metric)
    if entry is None:
        return "", ""
    return ("↑", "higher is better") if entry.spec.higher_is_better else ("↓", "lower is better")


def _is_baseline(registry: Registry, model: str) -> bool:
    entry = registry.models.get(model)
    return bool(entry and entry.spec.baseline)


def _charts(board: pd.DataFrame, task: str, folder: Path) -> dict[str, str]:
    """A bar chart per dataset that has a primary metric: dataset -> file name."""
    from .leaderboard import panels
    from .plots import leaderboard_bars

    drawn = {}
    for panel in panels({task: board}):
        name = f"{task}-{page_name(panel.dataset)}.png"
        (folder / name).write_bytes(leaderboard_bars([panel], "png"))
        drawn[panel.dataset] = name
    return drawn


def _header(label: str, *, numeric: bool = False, first: str = "", title: str = "", css: str = "") -> str:
    classes = " ".join(c for c in (css, "number" if numeric else "") if c)
    attributes = ' data-type="number"' if numeric else ""
    attributes += f' data-first="{first}"' if first else ""
    attributes += f' title="{esc(title)}"' if title else ""
    attributes += f' class="{classes}"' if classes else ""
    return f'<th scope="col"{attributes}><button type="button">{label}</button></th>'


def _board_section(
    task: str,
    board: pd.DataFrame,
    registry: Registry,
    seeds: Mapping[tuple[str, ...], list[dict[str, Any]]],
    charts: Mapping[str, str],
) -> str:
    import pandas as pd

    primary: dict[str, str] = board.attrs.get("primary", {})
    metrics = [c[: -len("_mean")] for c in board.columns if c.endswith("_mean")]
    headers = [
        _header("dataset"),
        _header("model"),
        _header("settings"),
        _header("runs", numeric=True, title="seeds; each links to its run"),
    ]
    for metric in metrics:
        arrow, words = _direction(registry, metric)
        chosen = " (primary on " + ", ".join(d for d, m in primary.items() if m == metric) + ")"
        title = words + (chosen if metric in primary.values() else "")
        css = "primary" if metric in primary.values() else ""
        first = "descending" if arrow == "↑" else ""
        headers.append(
            _header(f"{esc(metric)} {arrow}".strip(), numeric=True, first=first, title=title, css=css)
        )
    body = []
    seen: set[str] = set()
    for record in board.to_dict("records"):
        dataset, model = str(record["dataset"]), str(record["model"])
        best = dataset not in seen and dataset in primary  # rows come best first within a dataset
        seen.add(dataset)
        baseline = _is_baseline(registry, model)
        classes = " ".join(c for c, on in (("best", best), ("baseline", baseline)) if on)
        star = '<span class="star" title="best on this dataset">★</span> ' if best else ""
        badge = ' <span class="badge">baseline</span>' if baseline else ""
        key = tuple(str(record[k]) for k in KEYS)
        links = " ".join(
            f'<a href="{href("runs", page_name(str(run["run_id"])) + ".html")}" '
            f'title="{esc(run["run_id"])}">s{esc(run["seed"])}</a>'
            for run in seeds.get(key, [])
        )
        cells = [
            f"<td>{esc(dataset)}</td>",
            f'<td data-sort="{esc(model)}">{star}{esc(model)}{badge}</td>',
            f"<td>{esc(record['settings']) or DEFAULTS}</td>",
            f'<td class="number seeds" data-sort="{int(record["runs"])}">{links}</td>',
        ]
        for metric in metrics:
            mean, std = record.get(f"{metric}_mean"), record.get(f"{metric}_std")
            if mean is None or pd.isna(mean):
                cells.append('<td class="number"></td>')
                continue
            text = _number(mean) if std is None or pd.isna(std) else f"{_number(mean)} ± {_number(std)}"
            cells.append(f'<td class="number" data-sort="{float(mean)!r}">{esc(text)}</td>')
        attributes = f' class="{classes}"' if classes else ""
        body.append(f"<tr{attributes}>{''.join(cells)}</tr>")
    figures = "".join(
        f'<figure><img src="{href("charts", name)}" alt="{esc(dataset)}: {esc(primary[dataset])} per model">'
        f"<figcaption>{esc(dataset)}: {esc(primary[dataset])} "
        f"{_direction(registry, primary[dataset])[0]}, mean over seeds, with their spread</figcaption>"
        "</figure>"
        for dataset, name in charts.items()
    )
    ranking = ", ".join(f"{esc(d)} by {esc(m)}" for d, m in sorted(primary.items()))
    return f"""<section id="task-{esc(task)}">
<h2>{esc(task)}</h2>
<p class="legend">Mean ± standard deviation over seeds, on the test set. <span class="star">★</span> the
best on its dataset by its primary metric ({ranking}); <span class="badge">baseline</span> a naive floor;
↑ higher is better, ↓ lower is better. Click a column to sort; the seeds link to their runs.</p>
<table class="board sortable" id="board-{esc(task)}">
<thead><tr>{"".join(headers)}</tr></thead>
<tbody>
{chr(10).join(body)}
</tbody>
</table>
<div class="charts">{figures}</div>
</section>"""


def _index(
    home: Path,
    rows: list[dict[str, Any]],
    tables: Mapping[str, Any],
    sections: list[str],
    registry: Registry,
) -> str:
    ok = sum(row["status"] == "ok" for row in rows)
    nav = " ".join(f'<a href="#task-{esc(task)}">{esc(task)}</a>' for task in tables)
    nav += ' <a href="#runs">every run</a>' if rows else ""
    if not rows:
        sections = [
            "<p>No runs are recorded yet: try <code>zoo run lenet5</code>, then write the report again.</p>"
        ]
    elif not tables:
        sections = ["<p>No run has succeeded yet, so there is no leaderboard; the runs are listed below.</p>"]
    return f"""<header>
<h1>zoo report</h1>
<p class="lede">{len(rows)} runs recorded in <code>{esc(home)}</code>, {ok} successful.</p>
<nav>{nav}</nav>
</header>
{chr(10).join(sections)}
{_runs_section(rows, registry) if rows else ""}"""


def _runs_section(rows: list[dict[str, Any]], registry: Registry) -> str:
    lines = []
    for row in sorted(rows, key=lambda r: r["started_at"], reverse=True):
        metric = (
            registry.primary_metric(row["dataset"], row["task"])
            if row["dataset"] in registry.datasets
            else None
        )
        value = row["metrics"].get(metric.name) if metric else None
        if row["status"] != "ok":
            score = f'<td class="number"></td><td>{esc(row["error"])}</td>'
        elif value is None:
            score = '<td class="number"></td><td></td>'
        else:
            score = (
                f'<td class="number" data-sort="{float(value)!r}">{esc(_number(value))}</td>'
                f"<td>{esc(metric.name)}</td>"
            )
        lines.append(
            "<tr>"
            f'<td><a href="{href("runs", page_name(row["run_id"]) + ".html")}">{esc(row["run_id"])}</a></td>'
            f'<td class="status-{esc(row["status"])}">{esc(row["status"])}</td>'
            f"<td>{esc(row['model'])}</td><td>{esc(row['dataset'])}</td>"
            f'<td class="number">{esc(row["seed"])}</td>{score}'
            f'<td class="when">{esc(_when(row["started_at"]))}</td>'
            "</tr>"
        )
    headers = "".join(
        [
            _header("run"),
            _header("status"),
            _header("model"),
            _header("dataset"),
            _header("seed", numeric=True),
            _header("score", numeric=True, title="the dataset's primary metric, on the test set"),
            _header("metric / error"),
            _header("started"),
        ]
    )
    return f"""<section id="runs">
<h2>Every run</h2>
<p class="legend">Newest first. Click a column to sort.</p>
<table class="sortable" id="runs-table">
<thead><tr>{headers}</tr></thead>
<tbody>
{chr(10).join(lines)}
</tbody>
</table>
</section>"""


def _facts(pairs: Iterable[tuple[str, Any]]) -> str:
    rows = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{v}</td></tr>' for k, v in pairs)
    return f'<table class="facts">{rows}</table>'


def _settings_table(title: str, values: Mapping[str, Any]) -> str:
    if not values:
        return ""
    return f"<h3>{esc(title)}</h3>" + _facts((k, f"<code>{esc(v)}</code>") for k, v in sorted(values.items()))


def _run_page(row: dict[str, Any], registry: Registry, output: Path) -> str:
    name = page_name(row["run_id"])
    images = output / "runs" / name
    status = f'<span class="status-{esc(row["status"])}">{esc(row["status"])}</span>'
    parts = [
        '<nav><a href="../index.html">← the report</a></nav>',
        f"<h1>{esc(row['run_id'])}</h1>",
        f'<p class="lede">{esc(row["model"])} on {esc(row["dataset"])}, seed {esc(row["seed"])}: '
        f"{status}</p>",
    ]
    if row["error"]:
        parts.append(f"<pre>{esc(row['error'])}</pre>")
    if row.get("note"):
        parts.append(f"<h2>Note</h2><p>{esc(row['note'])}</p>")

    parts.append("<h2>Metrics</h2>")
    if row["metrics"]:
        lines = []
        for metric, value in sorted(row["metrics"].items()):
            arrow, words = _direction(registry, metric)
            lines.append(
                f'<tr><td>{esc(metric)}</td><td class="number">{esc(_number(value))}</td>'
                f"<td>{arrow} {esc(words)}</td></tr>"
            )
        parts.append(
            '<table><thead><tr><th>metric (test set)</th><th class="number">value</th><th>direction</th></tr>'
            f"</thead><tbody>{''.join(lines)}</tbody></table>"
        )
    else:
        parts.append("<p>None recorded.</p>")

    folder = Path(row["run_dir"]) if row["run_dir"] else None
    pictures = sorted(folder.glob("*.png")) if folder and folder.is_dir() else []
    curves = _curves(row, registry, images)
    parts.append("<h2>Training</h2>")
    if curves:
        parts.append(curves)
    elif any(p.name == LOSS_CURVE for p in pictures):
        parts.append(_picture(name, _copy(folder / LOSS_CURVE, images), "the training loss per epoch"))
    else:
        parts.append("<p>No curve recorded (models that fit in one step have none).</p>")
    others = [p for p in pictures if p.name != LOSS_CURVE]
    if others:
        parts.append("<h2>Plots</h2>")
        parts.append(
            '<div class="plots">'
            + "".join(_picture(name, _copy(p, images), p.stem.replace("_", " ")) for p in others)
            + "</div>"
        )

    parts.append("<h2>Config</h2>")
    parts.append(
        _facts(
            [
                ("model", f"{esc(row['model'])} (plugin {esc(row['plugin'])} {esc(row['plugin_version'])})"),
                ("dataset", esc(row["dataset"])),
                ("task", esc(row["task"])),
                ("seed", esc(row["seed"])),
                (
                    "device",
                    esc(row["device"]) + (f", {esc(row['threads'])} threads" if row.get("threads") else ""),
                ),
                ("parameters", f"{row['num_params']:,}"),
                ("duration", f"{row['duration_s']:.1f} s"),
            ]
        )
    )
    parts.append(_settings_table("The model's hyperparameters", row["hparams"]))
    parts.append(_settings_table("The trainer's settings", row.get("trainer", {})))

    parts.append("<h2>Provenance</h2>")
    versions = esc(", ".join(ran_on(row)))
    parts.append(
        _facts(
            [
                ("started", esc(_when(row["started_at"]))),
                ("versions", versions or "-"),
                ("plugin commit", f"<code>{esc(row.get('git_commit') or '-')}</code>"),
                ("core commit", f"<code>{esc(row.get('core_git_commit') or '-')}</code>"),
                ("data", f"<code>{esc(row.get('dataset_fingerprint') or '-')}</code>"),
                ("sweep", esc(row.get("sweep_id") or "-")),
                ("run folder", f"<code>{esc(row['run_dir'] or '-')}</code>"),
            ]
        )
    )
    if row.get("warnings"):
        items = "".join(f"<li>{esc(line)}</li>" for line in row["warnings"])
        parts.append(f'<h2>Warnings</h2><ul class="warnings">{items}</ul>')
    return "\n".join(part for part in parts if part)


def _curves(row: Mapping[str, Any], registry: Registry, images: Path) -> str:
    """The run's stored curves drawn as one figure, with what the trainer said; "" when it stored none."""
    from .plots import loss_curve

    training = row.get("training") or {}
    loss = [float(v) for v in training.get("loss") or []]
    if not loss:
        return ""
    validation = {
        str(k): [float(v) for v in values] for k, values in (training.get("validation") or {}).items()
    }
    entry = registry.models.get(row["model"])
    xlabel = "iteration" if entry is not None and not entry.spec.gradient else "epoch"
    xlabel = training.get("unit") or xlabel
    ylabel = training.get("loss_name") or "training loss"
    best = training.get("best_epoch")
    images.mkdir(parents=True, exist_ok=True)
    loss_curve(
        loss,
        images / "curves.png",
        title=f"{row['model']} on {row['dataset']} (seed {row['seed']})",
        xlabel=xlabel,
        ylabel=ylabel,
        validation=validation,
        best_epoch=int(best) if best else None,
    )
    said = [
        (label, esc(training[key]))
        for label, key in (("epochs run", "epochs"), ("best epoch", "best_epoch"), ("stopped", "stop_reason"))
        if training.get(key) not in (None, "")
    ]
    caption = ylabel + (" and validation " + ", ".join(sorted(validation)) if validation else "")
    return _picture(page_name(row["run_id"]), "curves.png", caption) + (_facts(said) if said else "")


def _copy(source: Path, folder: Path) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    name = (
        source.name
        if SAFE_NAME.match(source.name)
        else f"plot-{sha256(source.name.encode()).hexdigest()[:12]}.png"
    )
    shutil.copyfile(source, folder / name)
    return name


def _picture(page: str, file: str, caption: str) -> str:
    return (
        f'<figure><img src="{href(page, file)}" alt="{esc(caption)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
    )


def _when(stamp: str) -> str:
    """A stored UTC time as people read it: 2026-01-01 12:00:00 UTC."""
    return stamp.replace("T", " ").removesuffix("+00:00") + (" UTC" if stamp.endswith("+00:00") else "")
