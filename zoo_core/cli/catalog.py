"""`zoo list`, `zoo plugins`, `zoo info`: what is installed."""

from __future__ import annotations

import argparse
import json
import textwrap
from typing import Any

from . import arguments
from .output import print_table, registry


def register(commands: Any) -> None:
    from ..specs import TASKS

    p = commands.add_parser("list", help="list models, datasets and metrics")
    p.add_argument("--task", choices=TASKS)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_list)

    p = commands.add_parser("plugins", help="list installed plugins and their status")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_plugins)

    p = commands.add_parser("info", help="everything known about a model, dataset or metric")
    p.add_argument("name", type=arguments.name)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(handler=cmd_info)


def cmd_list(args: argparse.Namespace) -> int:
    from ..catalog import listing
    from ..plugins import load_plugins

    found = listing(registry(), args.task)
    if args.json:
        broken = [
            {"name": i.name, "distribution": i.distribution, "error": i.error} for i in load_plugins().broken
        ]
        print(json.dumps({**found, "broken_plugins": broken}, indent=2))
        return 0
    print("Models")
    print_table(
        [
            [m["name"], m["task"], m["plugin"], m["default_dataset"] or "-", first_sentence(m["summary"])]
            for m in found["models"]
        ],
        ["name", "task", "plugin", "default dataset", "summary"],
    )
    print("\nDatasets")
    print_table(
        [
            [
                d["name"],
                d["task"],
                d["plugin"],
                f"{d['train_size']}/{d['test_size']}",
                "yes" if d["offline"] else "no",
                first_sentence(d["summary"]),
            ]
            for d in found["datasets"]
        ],
        ["name", "task", "plugin", "train/test", "offline", "summary"],
    )
    print("\nMetrics")
    print_table(
        [
            [m["name"], m["task"], m["plugin"], "higher" if m["higher_is_better"] else "lower", m["summary"]]
            for m in found["metrics"]
        ],
        ["name", "task", "plugin", "better", "summary"],
    )
    return 0


def first_sentence(text: str, width: int = 72) -> str:
    """A table cell: the first sentence, shortened to fit a terminal (--json keeps it all)."""
    return textwrap.shorten(text.split(". ")[0].split("; ")[0].rstrip("."), width=width, placeholder=" …")


def cmd_plugins(args: argparse.Namespace) -> int:
    from ..plugins import load_plugins
    from ..registry import get_registry

    get_registry(strict=False)  # a plugin can also break, or have specs refused, inside its hooks
    infos = sorted(load_plugins().infos.values(), key=lambda i: i.name)
    if args.json:
        print(
            json.dumps(
                [
                    {
                        "name": i.name,
                        "distribution": i.distribution,
                        "version": i.version,
                        "hooks": list(i.hooks),
                        "status": i.status,
                        "error": i.error,
                        "warnings": list(i.warnings),
                    }
                    for i in infos
                ],
                indent=2,
            )
        )
        get_registry()
        return 0
    print_table(
        [
            [
                i.name,
                i.distribution,
                i.version,
                i.status,
                i.error or "\n".join(i.warnings) or ", ".join(i.hooks),
            ]
            for i in infos
        ],
        ["name", "distribution", "version", "status", "hooks / problems"],
    )
    get_registry()  # with ZOO_STRICT_PLUGINS=1, any problem shown above is an error
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    from ..catalog import info

    fields = info(registry(), args.name)
    if args.json:
        print(json.dumps({key.replace(" ", "_"): value for key, value in fields}, indent=2, default=str))
        return 0
    width = max(len(key) for key, _ in fields)
    for key, value in fields:
        print(f"{key:<{width}}  {value}")
    return 0
