"""The examples of docs/python-api.md that use knn run as written."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer as sklearn_breast_cancer
from zoo_knn.data import raw_breast_cancer

DOCTESTS = Path(__file__).parents[3] / "docs" / "doctests.py"


def test_the_python_api_page_runs(tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("docs_doctests", DOCTESTS)
    doctests = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(doctests)
    # The page's tumours.csv: three raw rows of the test split, with the feature names.
    header = ",".join(sklearn_breast_cancer().feature_names)
    np.savetxt(
        tmp_path / "tumours.csv", raw_breast_cancer(None)[1][:3], delimiter=",", header=header, comments=""
    )
    failed, attempted = doctests.run("knn", tmp_path)
    assert attempted > 10 and failed == 0, "docs/python-api.md is wrong: see the doctest report above"
