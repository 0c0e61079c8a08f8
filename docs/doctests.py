"""Run the examples of docs/python-api.md as doctests, one plugin's blocks at a time.

A block is ``<!-- doctest: PLUGIN -->`` followed by a fenced ``pycon`` block; the blocks of one
plugin run in order in one namespace, in the current folder, with only that plugin loaded.
Each lesson plugin whose name a block carries runs its blocks in its own tests (the core's
tests install no lesson plugin), and tests/test_docs.py checks that each one does.
"""

from __future__ import annotations

import doctest
import os
import re
from pathlib import Path

PAGE = Path(__file__).with_name("python-api.md")
BLOCK = re.compile(r"<!-- doctest: (?P<plugin>[\w-]+) -->\n```pycon\n(?P<code>.*?)```\n", re.S)
OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def plugins(text: str | None = None) -> list[str]:
    """The plugins the page's blocks need, in order of first use."""
    found = [m["plugin"] for m in BLOCK.finditer(text if text is not None else PAGE.read_text())]
    return list(dict.fromkeys(found))


def run(plugin: str, folder: Path) -> doctest.TestResults:
    """Run the page's blocks for ``plugin`` inside ``folder``, with a fresh zoo home in it and only
    that plugin loaded; failures are reported on stdout, as doctest does."""
    from zoo_core.plugins import reset
    from zoo_core.testing import environment

    text = PAGE.read_text()
    code = "\n".join(m["code"] for m in BLOCK.finditer(text) if m["plugin"] == plugin)
    test = doctest.DocTestParser().get_doctest(code, {}, f"python-api.md[{plugin}]", str(PAGE), 0)
    runner = doctest.DocTestRunner(optionflags=OPTIONS)
    values = {"ZOO_HOME": str(folder / "home"), "ZOO_PLUGINS": plugin, "ZOO_OFFLINE": "1"}
    before = Path.cwd()
    with environment(values):
        os.chdir(folder)
        reset()
        try:
            runner.run(test)
        finally:
            os.chdir(before)
            reset()
    return runner.summarize(verbose=False)
