"""`zoo tag`, `zoo note`, `zoo compare`, `zoo rm`, `zoo gc`: keeping the recorded runs in order."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..errors import ZooError
from . import arguments
from .output import print_table, say, size

FILTERS = ("model", "dataset", "status", "tags", "exclude_tags", "since", "settings")


def add_filters(p: argparse.ArgumentParser, exclude_tag: bool = True) -> None:
    """The options that choose recorded runs (zoo_core.queries.select), on ``p``."""
    from ..queries import RECORDED_STATUSES

    p.add_argument("--model", type=arguments.name)
    p.add_argument("--dataset", type=arguments.name)
    p.add_argument("--status", choices=RECORDED_STATUSES)
    p.add_argument("--tag", dest="tags", action="append", metavar="TAG", help="runs with TAG (repeatable)")
    if exclude_tag:
        p.add_argument(
            "--exclude-tag", dest="exclude_tags", action="append", metavar="TAG", help="runs without TAG"
        )
    p.add_argument(
        "--since", metavar="WHEN", help="started since: 2026-11-21, 2026-11-21T12:00, 3d, 12h, 30m"
    )
    p.add_argument(
        "--settings", action="append", metavar="KEY=VALUE", help="runs with this setting (repeatable)"
    )


def filters_of(args: argparse.Namespace) -> dict[str, Any]:
    """The filters given on the command line, for zoo_core.queries.select."""
    return {name: getattr(args, name) for name in FILTERS if getattr(args, name, None) is not None}


def register(commands: Any) -> None:
    p = commands.add_parser("tag", help="add or remove tags on recorded runs")
    p.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="run ids, or unique starts of them")
    p.add_argument("--add", action="append", default=[], metavar="TAG", help="a tag to add (repeatable)")
    p.add_argument("--remove", action="append", default=[], metavar="TAG", help="a tag to take off")
    p.set_defaults(handler=cmd_tag)

    p = commands.add_parser("note", help="keep a note on a recorded run (an empty note clears it)")
    p.add_argument("run_id", metavar="RUN_ID")
    p.add_argument("text")
    p.set_defaults(handler=cmd_note)

    p = commands.add_parser(
        "compare", help="what differs between recorded runs: settings, metrics, provenance"
    )
    p.add_argument("run_ids", nargs="+", metavar="RUN_ID", help="two run ids or more")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_compare)

    p = commands.add_parser("rm", help="remove recorded runs, their rows and their folders")
    p.add_argument("run_ids", nargs="*", metavar="RUN_ID", help="run ids, or unique starts of them")
    add_filters(p, exclude_tag=False)
    p.add_argument("--yes", action="store_true", help="remove without asking")
    p.set_defaults(handler=cmd_rm)

    p = commands.add_parser(
        "gc", help="remove folders of killed runs, folders with no row, half-done removals"
    )
    p.add_argument("--dry-run", action="store_true", help="show what would be removed, remove nothing")
    p.set_defaults(handler=cmd_gc)


def _home(args: argparse.Namespace) -> Path:
    from ..layout import zoo_home

    return zoo_home(args.home)


def _find(home: Path, run_ids: list[str]) -> list[dict[str, Any]]:
    """The recorded runs ``run_ids`` name, each once, in the order given."""
    from ..records import find_run

    found: dict[str, dict[str, Any]] = {}
    for run_id in run_ids:
        row = find_run(home, run_id)
        found.setdefault(row["run_id"], row)
    return list(found.values())


def cmd_tag(args: argparse.Namespace) -> int:
    from ..layout import database_path
    from ..queries import check_tags
    from ..store import Store

    add, remove = check_tags(args.add), check_tags(args.remove)
    if set(add) & set(remove):
        raise ZooError(f"tag {sorted(set(add) & set(remove))[0]!r} is both added and removed")
    home = _home(args)
    runs = _find(home, args.run_ids)
    store = Store(database_path(home))
    if add or remove:
        store.retag([row["run_id"] for row in runs], add, remove)
    tags = store.tags()
    for row in runs:
        print(f"{row['run_id']}  {', '.join(tags.get(row['run_id'], [])) or '(no tags)'}")
    return 0


def cmd_note(args: argparse.Namespace) -> int:
    from ..layout import database_path
    from ..queries import check_note
    from ..store import Store

    text = check_note(args.text).strip()
    home = _home(args)
    [row] = _find(home, [args.run_id])
    Store(database_path(home)).set_note(row["run_id"], text)
    say(f"{'noted' if text else 'cleared the note of'} {row['run_id']}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    from ..comparing import compare
    from ..records import short
    from .output import registry

    runs = _find(_home(args), args.run_ids)
    found = registry()
    directions = {name: entry.spec.higher_is_better for name, entry in found.metrics.items()}
    comparison = compare(runs, directions)
    if args.json:
        print(json.dumps(comparison.to_json(), indent=2))
        return 0
    labels = [chr(ord("A") + i) if i < 26 else str(i + 1) for i in range(len(runs))]
    for label, row in zip(labels, runs, strict=True):
        print(f"{label}  {row['run_id']}")

    def shown(key: str, value: Any) -> str:
        if value is None or value == "":
            return "-"
        return short(value) if key == "data fingerprint" else str(value)

    def section(title: str, values: dict[str, list[Any]]) -> None:
        print(f"\n{title}")
        if values:
            print_table([[key, *(shown(key, v) for v in vs)] for key, vs in values.items()], ["", *labels])
        else:
            print("  none")

    section("run: what differs", comparison.identity)
    section("settings that differ", comparison.settings)
    print("\nmetrics (↑ higher is better, ↓ lower; * the best)")
    arrows = {True: "↑", False: "↓", None: "?"}
    print_table(
        [
            [
                f"{line.name} {arrows[line.higher_is_better]}",
                *(
                    "-" if v is None else f"{v:.6g}{' *' if i in line.best else ''}"
                    for i, v in enumerate(line.values)
                ),
            ]
            for line in comparison.metrics
        ],
        ["", *labels],
    )
    section("provenance that differs", comparison.provenance)
    if comparison.same:
        print(f"\nthe same in every run: {', '.join(comparison.same)}")
    return 0


def cmd_rm(args: argparse.Namespace) -> int:
    from ..housekeeping import remove
    from ..queries import recorded_runs

    home = _home(args)
    filters = filters_of(args)
    if args.run_ids and filters:
        raise ZooError("give run ids or filters (--tag, --status, ...), not both")
    if not args.run_ids and not filters:
        raise ZooError("say which runs to remove: run ids, or filters such as --tag smoke or --status failed")
    runs = _find(home, args.run_ids) if args.run_ids else recorded_runs(home, **filters)
    if not runs:
        say("no recorded run matches; nothing removed")
        return 0
    total = sum(row["folder_bytes"] for row in runs)
    print_table(
        [[row["run_id"], row["status"], row["started_at"], size(row["folder_bytes"])] for row in runs],
        ["run id", "status", "started", "folder"],
    )
    question = f"remove these {len(runs)} runs and their folders ({size(total)})?"
    if not args.yes:
        if not sys.stdin.isatty():
            raise ZooError(
                f"zoo rm would remove {len(runs)} runs; there is no terminal to ask, so pass --yes"
            )
        answer = input(f"{question} [y/N] ").strip().lower()
        if answer not in ("y", "yes"):
            say("nothing removed")
            return 1
    deleted = remove(home, runs)
    say(f"removed {len(runs)} runs and {len(deleted)} folders ({size(total)})")
    return 0


def cmd_gc(args: argparse.Namespace) -> int:
    from ..housekeeping import collect, plan_gc

    home = _home(args)
    plan = plan_gc(home)
    for row in plan.missing:
        run_id = row["run_id"]
        say(f"warning: run {run_id} is recorded but its folder is gone; `zoo rm {run_id}` forgets it")
    for folder, reason in plan.kept:
        say(f"kept {folder}: {reason}")
    if not plan.cleanups and not plan.removals:
        say("nothing to clean up")
        return 0
    verbs = {False: ("removing", "would remove"), True: ("unmarking", "would unmark")}
    for cleanup in plan.cleanups:
        print(f"{verbs[cleanup.unmark_only][args.dry_run]} {cleanup.folder}: {cleanup.reason}")
    if args.dry_run:
        say(f"dry run: {size(plan.size)} would be freed; nothing was removed")
        return 0
    done = collect(home, plan)
    freed = sum(cleanup.size for cleanup in done if not cleanup.unmark_only)
    say(f"cleaned up {len(done)} of {len(plan.cleanups)} folders, {size(freed)} freed")
    return 0
