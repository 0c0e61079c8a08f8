"""`zoo new-plugin`: write a minimal working plugin package to start from."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from . import arguments


def register(commands: Any) -> None:
    p = commands.add_parser("new-plugin", help="write a minimal working plugin package to start from")
    p.add_argument("name", help="the plugin's name, lowercase kebab-case (distribution zoo-NAME)")
    p.add_argument(
        "--dir",
        type=arguments.path,
        default=Path("."),
        help="where to create the NAME folder (default: here)",
    )
    p.set_defaults(handler=cmd_new_plugin)


def cmd_new_plugin(args: argparse.Namespace) -> int:
    from ..scaffold import create

    target, files = create(args.name, args.dir)
    print(f"zoo: wrote a plugin to start from, {target}/:")
    for name in files:
        print(f"  {name}")
    print(f"next: pip install -e {target} && zoo run {args.name} && pytest {target}/tests")
    return 0
