"""The examples of docs/python-api.md that use lenet5 run as written."""

from __future__ import annotations

import importlib.util
from pathlib import Path

DOCTESTS = Path(__file__).parents[3] / "docs" / "doctests.py"


def test_the_python_api_page_runs(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("docs_doctests", DOCTESTS)
    doctests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(doctests)
    failed, attempted = doctests.run("lenet5", tmp_path)
    assert attempted > 10 and failed == 0, "docs/python-api.md is wrong: see the doctest report above"
