"""`zoo report`: the recorded runs as a static HTML site."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .output import registry, say


def register(commands: Any) -> None:
    from ..specs import TASKS

    p = commands.add_parser("report", help="write the recorded runs as an HTML site that works offline")
    p.add_argument("--output", type=Path, metavar="DIR", help="folder for the site (default: <home>/report)")
    p.add_argument("--task", choices=TASKS, help="only this task's runs")
    p.add_argument("--open", action="store_true", help="open the site in a web browser when it is written")
    p.set_defaults(handler=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from ..layout import zoo_home
    from ..report import build

    home = zoo_home(args.home)
    site = build(home, args.output or home / "report", registry(), task=args.task)
    say(f"wrote {site.runs} run pages and {site.charts} charts; open {site.index}")
    print(site.index)
    if args.open:
        import webbrowser

        if not webbrowser.open(site.index.resolve().as_uri()):
            say("no web browser found to open it")
    return 0
