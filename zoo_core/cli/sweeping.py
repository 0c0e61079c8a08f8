"""`zoo sweep`: models × datasets × settings × seeds, in this process or on Dask workers."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from .output import registry, say


def register(commands: Any) -> None:
    from ..devices import DEVICES

    p = commands.add_parser(
        "sweep", help="run a grid of models, datasets, settings and seeds; resumable, on Dask workers"
    )
    p.add_argument("models", nargs="*", metavar="MODEL", help="model names (or --all)")
    p.add_argument("--all", action="store_true", help="every model")
    p.add_argument(
        "--dataset", nargs="+", action="extend", metavar="D", help="datasets (default: each model's own)"
    )
    p.add_argument("--all-datasets", action="store_true", help="every dataset each model fits")
    p.add_argument(
        "--grid",
        action="append",
        metavar="NAME=V1,V2",
        help="a setting and its values, one run each (repeatable: the product is swept)",
    )
    p.add_argument(
        "--set", action="append", metavar="NAME=VALUE", help="a setting every run gets (repeatable)"
    )
    p.add_argument("--seeds", help="seeds: 0-9, 0,1,2 or both (default 0)")
    p.add_argument("--file", type=Path, metavar="SWEEP.toml", help="read the sweep from a TOML file")
    p.add_argument("--dry-run", action="store_true", help="print the plan and run nothing")
    p.add_argument("--rerun", action="store_true", help="run again what is recorded already")
    p.add_argument(
        "--workers", type=int, default=1, help="N > 1: a local Dask cluster of N processes (default 1: here)"
    )
    p.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run on this Dask cluster's workers")
    p.add_argument("--device", default="auto", choices=DEVICES, help="default auto: CUDA, then MPS, then CPU")
    p.add_argument(
        "--threads", type=int, help="at most this many CPU threads per run (default: a worker's share)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--json", action="store_true", help="print one JSON object per run (the plan with --dry-run)"
    )
    p.set_defaults(handler=cmd_sweep)


def cmd_sweep(args: argparse.Namespace) -> int:
    from ..grid import describe, parse_grid, parse_seeds, plan_sweep, read_sweep_file, request_from
    from ..hparams import check_threads, parse_assignments
    from ..layout import database_path, zoo_home
    from ..store import Store
    from ..sweeper import check_workers

    check_workers(args.workers, args.scheduler)
    threads = check_threads(args.threads) if args.threads is not None else None
    request = request_from(
        read_sweep_file(args.file) if args.file else {},
        models=tuple(args.models),
        all_models=args.all,
        datasets=tuple(args.dataset or ()),
        all_datasets=args.all_datasets,
        grid=parse_grid(args.grid or []),
        fixed=parse_assignments(args.set or []),
        seeds=parse_seeds(args.seeds) if args.seeds is not None else None,
    )
    plan = plan_sweep(registry(), request)  # every value checked: nothing has started yet
    home = zoo_home(args.home)
    if args.dry_run:
        store = Store(database_path(home))
        summary = describe(plan, store.done_keys(key for run in plan.runs for key in run.keys))
        print_plan(summary, args.json)
        return 0
    return run(args, plan, home, threads)


def run(args: argparse.Namespace, plan: Any, home: Path, threads: int | None) -> int:
    from ..sweeper import echo, execute

    def report(result: Any, run: Any) -> None:
        if args.json:
            line = {**result.to_json(), "seed": run.seed, "settings": dict(run.overrides)}
            echo(json.dumps({**line, "sweep_id": plan.sweep_id}))
        elif result.status == "ok":
            scores = ", ".join(f"{name} {value:.4f}" for name, value in sorted(result.metrics.items()))
            echo(f"{run.label}: {scores} [{result.duration_s:.1f} s] -> {result.run_dir}")
        elif result.status == "failed":
            echo(f"{run.label}: FAILED, recorded as such: {result.error} -> {result.run_dir}")

    tally = execute(
        plan,
        home,
        workers=args.workers,
        scheduler=args.scheduler,
        device=args.device,
        rerun=args.rerun,
        threads=threads,
        progress=not args.quiet,
        report=report,
        say=say,
    )
    if tally.interrupted:
        say(
            f"{plan.sweep_id}: interrupted; {tally.ok + tally.failed} runs were recorded whole and "
            f"{tally.remaining} are left: run the same command again to finish them"
        )
    else:
        refused = f", {tally.refused} refused" if tally.refused else ""
        say(
            f"{plan.sweep_id}: {tally.ok} ok, {tally.failed} failed{refused}; "
            f"`zoo leaderboard --sweep {plan.sweep_id}` shows its results"
        )
    return tally.exit_code


def print_plan(summary: dict[str, Any], as_json: bool) -> None:
    if as_json:
        print(json.dumps(summary, indent=2))
        return
    print(
        f"{summary['sweep_id']}: {summary['runs']} runs, {summary['done']} recorded already, "
        f"{summary['to_run']} to run"
    )
    width = max(len(str(count)) for count in summary["pairs"].values())
    for pair, count in summary["pairs"].items():
        print(f"  {count:>{width}}  {pair}")
    for skip in summary["skipped"]:
        print(f"skipped {skip['what']}: {skip['why']}")
