"""The `zoo` command. Everything is built inside main(); nothing heavy runs at import.

Each module of this package adds one group of commands (``register``) and holds their
handlers, which parse arguments, call the library and print; policy lives in the library.
`zoo --help` and `zoo list` never import torch: the registry holds only spec records.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import NoReturn, Sequence

from ..errors import Diverged, ZooError
from ..version import __version__
from . import catalog, managing, reporting, results, running, scaffolding, sweeping, using

# In the order `zoo --help` lists their commands.
GROUPS = (catalog, running, sweeping, results, reporting, managing, using, scaffolding)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        # One line, like every other input error, instead of argparse's usage dump.
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="zoo", description="A plugin-based model zoo for PyTorch lessons.")
    parser.add_argument("--version", action="version", version=f"zoo-core {__version__}")
    parser.add_argument(
        "--home", help="zoo home folder for results and data (default: $ZOO_HOME or per-user)"
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND", parser_class=Parser)
    for group in GROUPS:
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except ZooError as exc:
        print(f"zoo: error: {exc}", file=sys.stderr)
        return 2
    except Diverged as exc:
        print(f"zoo: {exc}; the run was recorded as failed", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("zoo: interrupted; nothing was recorded for the unfinished run", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # `zoo list | head`: the reader left; silence the flush at exit, as Python's docs advise.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
