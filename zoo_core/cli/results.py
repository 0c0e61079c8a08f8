"""`zoo leaderboard`, `zoo runs`, `zoo show`: what was recorded."""

from __future__ import annotations

import argparse
import json
from typing import Any

from ..errors import ZooError
from . import arguments
from .managing import add_filters, filters_of
from .output import print_table, registry, say, size


def register(commands: Any) -> None:
    from ..leaderboard import FORMATS
    from ..specs import TASKS

    p = commands.add_parser("leaderboard", help="aggregate recorded runs: mean ± std over seeds")
    p.add_argument("--task", choices=TASKS)
    p.add_argument("--dataset", type=arguments.name)
    p.add_argument("--model", type=arguments.name)
    p.add_argument(
        "--sweep", metavar="ID", help="only the runs of this sweep (an id, or a unique start of one)"
    )
    p.add_argument("--format", default="table", choices=FORMATS)
    p.add_argument("--output", type=arguments.file, metavar="FILE", help="write to FILE instead of stdout")
    p.add_argument(
        "--plot",
        type=arguments.file,
        metavar="FILE.png",
        help="one bar chart of every dataset's primary metric, a panel each (.png, .svg, .pdf, ...)",
    )
    p.add_argument("--tag", dest="tags", action="append", metavar="TAG", help="only runs with TAG")
    p.add_argument("--exclude-tag", dest="exclude_tags", action="append", metavar="TAG", help="leave out TAG")
    p.set_defaults(handler=cmd_leaderboard)

    p = commands.add_parser("runs", help="list recorded runs, oldest first")
    add_filters(p)
    p.add_argument(
        "--limit",
        type=int,
        help=f"show the last N runs (default: {TABLE_LIMIT} in the table, all with --json)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_runs)

    p = commands.add_parser("show", help="a stored run's config, provenance, metrics and files")
    p.add_argument("run_id", metavar="RUN_ID", help="a run id, or a unique start of one")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_show)


def cmd_leaderboard(args: argparse.Namespace) -> int:
    # By name: `from .. import leaderboard` gives zoo_core.leaderboard, the API function.
    from ..layout import database_path, zoo_home
    from ..leaderboard import boards, check_destinations, plot, render_all, write
    from ..queries import recorded_runs

    home = zoo_home(args.home)
    database = database_path(home)
    plot_format = check_destinations(args.output, args.plot, home)
    tables = boards(
        recorded_runs(home, tags=args.tags, exclude_tags=args.exclude_tags, sweep=args.sweep),
        registry(),
        str(database),
        task=args.task,
        dataset=args.dataset,
        model=args.model,
    )
    if not tables:
        say(f"no successful runs recorded in {database} yet; try `zoo run lenet5`")
        return 0
    text = render_all(tables, args.format)
    if plot_format:  # the riskier write first: a table already printed could not be taken back
        from ..paths import write_file

        image, panels = plot(tables, plot_format)
        write_file(args.plot, image)
    write(text, args.output)
    if plot_format:
        say(f"wrote {args.plot}: {len(panels)} panel{'s' if len(panels) > 1 else ''}, one per dataset")
    return 0


# `zoo runs` without --limit: a screenful in the table; --json gives every run unless told otherwise.
TABLE_LIMIT = 20


def cmd_runs(args: argparse.Namespace) -> int:
    from ..layout import zoo_home
    from ..queries import no_match_hint, recorded_runs

    if args.limit is not None and args.limit < 1:
        raise ZooError(f"--limit must be positive, got {args.limit}")
    home = zoo_home(args.home)
    filters = filters_of(args)
    runs = recorded_runs(home, **filters)
    limit = args.limit or (None if args.json else TABLE_LIMIT)
    shown = runs[-limit:] if limit else runs
    if not runs and filters:
        # A filter naming what no run has is a typo more often than not: say so, and suggest.
        hint = no_match_hint(recorded_runs(home), args.model, args.dataset, args.tags)
        if hint:
            raise ZooError(f"no recorded runs match{hint}")
        say("no recorded runs match")
        return 0
    if args.json:
        print(json.dumps(shown, indent=2))  # a program asked for these: no note on what it left out
        return 0
    if not runs:
        say("no recorded runs yet; try `zoo run lenet5`")
        return 0
    labels = _settings_labels(shown)
    print_table(
        [
            [
                r["run_id"],
                r["status"],
                r["started_at"],
                labels[r["run_id"]],
                ", ".join(r["tags"]),
                ", ".join(f"{k} {v:.4g}" for k, v in sorted(r["metrics"].items())) or r["error"],
            ]
            for r in shown
        ],
        ["run id", "status", "started", "settings", "tags", "metrics / error"],
    )
    if len(shown) < len(runs):
        say(f"showing the last {len(shown)} of {len(runs)} runs (--limit N for more)")
    return 0


def _settings_labels(runs: list[dict[str, Any]]) -> dict[str, str]:
    """Each run's settings that differ from its model's defaults ("-" for none), as on the leaderboard."""
    from ..hparams import defaults_for
    from ..leaderboard import settings_label
    from ..queries import settings_of

    models = registry().models
    labels = {}
    for r in runs:
        entry = models.get(r["model"])
        defaults = defaults_for(entry.spec, r["dataset"]).flat if entry else {}
        labels[r["run_id"]] = settings_label(settings_of(r), defaults) or "-"
    return labels


def cmd_show(args: argparse.Namespace) -> int:
    from ..layout import INCOMPLETE, database_path, zoo_home
    from ..records import artefacts, find_run, parameters_text, ran_on
    from ..store import Store

    home = zoo_home(args.home)
    row = find_run(home, args.run_id)
    row["tags"] = Store(database_path(home)).tags().get(row["run_id"], [])
    folder, files = artefacts(row)
    if args.json:
        print(json.dumps({**row, "artefacts": files}, indent=2))
        return 0
    settings = ", ".join(f"{k}={v}" for k, v in sorted({**row["hparams"], **row["trainer"]}.items())) or "-"
    versions = ", ".join(ran_on(row))
    fields = [
        ("run", row["run_id"]),
        ("status", row["status"] + (f" ({row['error']})" if row["error"] else "")),
        ("model", f"{row['model']} (plugin {row['plugin']})"),
        ("dataset", row["dataset"]),
        ("seed", row["seed"]),
        ("device", row["device"] + (f", {row['threads']} threads" if row["threads"] else "")),
        ("settings", settings),
        ("started", f"{row['started_at']}, took {row['duration_s']:.1f} s"),
        ("parameters", parameters_text(row)),
        ("folder", f"{size(row['folder_bytes'])}" if row["folder_bytes"] else "-"),
        ("tags", ", ".join(row["tags"]) or "-"),
        ("note", row["note"] or "-"),
        ("versions", versions),
        ("git commit", row["git_commit"] or "-"),
        ("core commit", row["core_git_commit"] or "-"),
        ("data", row["dataset_fingerprint"] or "-"),
        *training_fields(row.get("training") or {}),
    ]
    width = max(len(key) for key, _ in fields)
    for key, value in fields:
        print(f"{key:<{width}}  {value}")
    print("metrics")
    for name, value in sorted(row["metrics"].items()):
        print(f"  {name:<{width - 2}}  {value:.6g}")
    for line in row["warnings"]:
        print(f"warning  {line}")
    print(f"artefacts{' (folder missing)' if folder and not files else ''}")
    for path in files:
        print(f"  {path}")
    if folder and (folder / INCOMPLETE).exists():
        say(
            f"note: {folder} still carries an {INCOMPLETE} marker, but the run is recorded: the process "
            "was stopped right after recording it"
        )
    return 0


def training_fields(training: dict[str, Any]) -> list[tuple[str, Any]]:
    """What training went through, as `zoo show` lines: epochs run, the best epoch, why it stopped."""
    fields: list[tuple[str, Any]] = []
    if "epochs" in training:
        fields.append(("epochs run", training["epochs"]))
    if training.get("best_epoch") is not None:
        scores = [
            f"validation {name} {values[training['best_epoch'] - 1]:.6g}"
            for name, values in sorted((training.get("validation") or {}).items())
            if len(values) >= training["best_epoch"]
        ]
        fields.append(("best epoch", ", ".join([str(training["best_epoch"]), *scores])))
    if training.get("stop_reason"):
        fields.append(("stopped", training["stop_reason"]))
    return fields
