"""The README stays a newcomer's page: small, one table row per `zoo` command, the leaderboard in place."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zoo_core.cli import main

README = Path(__file__).parent.parent / "README.md"


def test_the_readme_stays_under_10_kb_leaderboard_included():
    assert len(README.read_bytes()) < 10_000, "README.md is too long: move detail to a page in docs/"


def zoo_commands(capsys: pytest.CaptureFixture[str]) -> list[str]:
    """The commands `zoo --help` lists: argparse indents each name by four spaces."""
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    listing = capsys.readouterr().out.split("positional arguments:", 1)[1].split("options:", 1)[0]
    return re.findall(r"^ {4}([a-z][\w-]*)", listing, re.M)


def test_the_command_table_has_one_row_per_zoo_command(capsys):
    rows = re.findall(r"^\| `zoo ([\w-]+)[^`]*` \|", README.read_text(), re.M)
    commands = zoo_commands(capsys)
    assert sorted(rows) == sorted(commands), "README's command table and `zoo --help` list other commands"


def test_the_leaderboard_block_is_there_for_nox_to_rewrite():
    text = README.read_text()
    assert text.count("<!-- leaderboard:start -->") == 1 and text.count("<!-- leaderboard:end -->") == 1
    assert text.index("<!-- leaderboard:start -->") < text.index("<!-- leaderboard:end -->")


def test_ci_runs_the_readmes_test_command():
    block = re.search(r"^Run the tests.*?```bash\n(.*?)\n```", README.read_text(), re.S | re.M)
    assert block, "README.md lost its test command"
    install, command = block.group(1).split(" && ", 1)
    assert install == "python3 -m pip install uv nox"
    ci = (README.parent / ".ci" / "run").read_text().splitlines()
    assert [line for line in ci if line and not line.startswith("#")][-1] == command
