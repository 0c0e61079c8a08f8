"""Refresh the blocks of docs/writing-plugins.md that include what `zoo new-plugin example` writes.

    python docs/include.py

A block is ``<!-- include: PATH -->``, a fenced copy of the generated file PATH, then
``<!-- /include -->``. tests/test_docs.py fails when a block differs from the scaffold's output.
"""

from __future__ import annotations

import re
from pathlib import Path

from zoo_core.scaffold import render

DOC = Path(__file__).with_name("writing-plugins.md")
NAME = "example"
BLOCK = re.compile(r"(?P<open><!-- include: (?P<path>\S+) -->\n).*?(?P<close><!-- /include -->)", re.S)
LANGUAGES = {".py": "python", ".toml": "toml", ".md": "markdown"}


def fenced(path: str, text: str) -> str:
    # One backtick more than the longest run inside, so a README's own fences stay inside.
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}{LANGUAGES.get(Path(path).suffix, '')}\n{text}{fence}\n"


def included(doc: str) -> list[str]:
    """The generated files the doc includes, in order."""
    return [match["path"] for match in BLOCK.finditer(doc)]


def refreshed(doc: str, files: dict[str, str]) -> str:
    """``doc`` with every include block replaced by the current text of its file."""
    return BLOCK.sub(lambda m: m["open"] + fenced(m["path"], files[m["path"]]) + m["close"], doc)


if __name__ == "__main__":
    DOC.write_text(refreshed(DOC.read_text(), render(NAME)))
    print(f"refreshed {DOC}")
