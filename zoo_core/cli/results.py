"""`zoo leaderboard`, `zoo runs`, `zoo show`: what was recorded."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from ..errors import ZooError
from .output import print_table, registry, say


def register(commands: Any) -> None:
    from ..leaderboard import FORMATS
    from ..specs import TASKS

    p = commands.add_parser("leaderboard", help="aggregate recorded runs: mean ± std over seeds")
    p.add_argument("--task", choices=TASKS)
    p.add_argument("--dataset")
    p.add_argument("--model")
    p.add_argument("--format", default="table", choices=FORMATS)
    p.add_argument("--output", type=Path, help="write to FILE instead of stdout")
    p.add_argument("--plot", type=Path, metavar="FILE.png", help="bar chart of each dataset's primary metric")
    p.set_defaults(handler=cmd_leaderboard)

    p = commands.add_parser("runs", help="list recorded runs, oldest first")
    p.add_argument("--model")
    p.add_argument("--dataset")
    p.add_argument("--limit", type=int, default=20, help="show the last N runs (default 20)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_runs)

    p = commands.add_parser("show", help="a stored run's config, provenance, metrics and files")
    p.add_argument("run_id", metavar="RUN_ID", help="a run id, or a unique start of one")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_show)


def cmd_leaderboard(args: argparse.Namespace) -> int:
    from .. import leaderboard
    from ..layout import database_path, zoo_home
    from ..store import Store

    database = database_path(zoo_home(args.home))
    tables = leaderboard.boards(
        Store(database).rows(),
        registry(),
        str(database),
        task=args.task,
        dataset=args.dataset,
        model=args.model,
    )
    if not tables:
        say(f"no successful runs recorded in {database} yet; try `zoo run lenet5`")
        return 0
    leaderboard.write(leaderboard.render_all(tables, args.format), args.output)
    if args.plot:
        from ..plots import leaderboard_bars

        for task, board in tables.items():
            primary = board.attrs["primary"]
            path = (
                args.plot
                if len(tables) == 1
                else args.plot.with_name(f"{args.plot.stem}-{task}{args.plot.suffix}")
            )
            leaderboard_bars(board[board["dataset"].isin(primary)], primary, path)
            say(f"wrote {path}")
    return 0


def cmd_runs(args: argparse.Namespace) -> int:
    from ..layout import database_path, zoo_home
    from ..store import Store

    if args.limit < 1:
        raise ZooError(f"--limit must be positive, got {args.limit}")
    runs = [
        r
        for r in Store(database_path(zoo_home(args.home))).rows()
        if args.model in (None, r["model"]) and args.dataset in (None, r["dataset"])
    ][-args.limit :]
    if args.json:
        print(json.dumps(runs, indent=2))
        return 0
    print_table(
        [
            [
                r["run_id"],
                r["status"],
                r["started_at"],
                ", ".join(f"{k} {v:.4g}" for k, v in sorted(r["metrics"].items())) or r["error"],
            ]
            for r in runs
        ],
        ["run id", "status", "started", "metrics / error"],
    )
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    from ..layout import INCOMPLETE, zoo_home
    from ..records import artefacts, find_run, ran_on

    row = find_run(zoo_home(args.home), args.run_id)
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
        ("parameters", f"{row['num_params']:,}"),
        ("versions", versions),
        ("git commit", row["git_commit"] or "-"),
        ("core commit", row["core_git_commit"] or "-"),
        ("data", row["dataset_fingerprint"] or "-"),
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
