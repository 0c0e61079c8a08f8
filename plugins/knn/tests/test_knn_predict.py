"""A recorded KNN run loaded back: `zoo predict` on CSV rows of raw features, scaled as in training."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.datasets import load_breast_cancer as sklearn_breast_cancer
from zoo_knn.data import load_breast_cancer, raw_breast_cancer

from zoo_core.testing import invoke, invoke_json


def test_predict_on_csv_rows_of_raw_features(tmp_path: Path) -> None:
    runs = invoke_json("run", "knn", "--quiet", home=tmp_path, plugins="knn")
    run_id = runs[0]["run_id"]
    assert (Path(runs[0]["run_dir"]) / "transform.json").is_file()  # the training statistics
    _, raw_test = raw_breast_cancer(None)
    names = sklearn_breast_cancer().feature_names
    rows = tmp_path / "tumours.csv"
    np.savetxt(rows, raw_test[:20], delimiter=",", header=",".join(names), comments="")
    predicted = invoke_json("predict", run_id, str(rows), home=tmp_path, plugins="knn")
    assert [p["input"] for p in predicted] == [f"{rows}:{line}" for line in range(2, 22)]
    # The same labels as the run's own predictions on the loader's (scaled) test inputs.
    from zoo_core import load_run

    trained = load_run(run_id, device="cpu", home=tmp_path)
    expected = trained.model.predict(load_breast_cancer(None).test.x[:20]).tolist()
    assert [p["label"] for p in predicted] == expected
    assert {p["class"] for p in predicted} <= {"malignant", "benign"}
    assert "probability" not in predicted[0]  # KNN votes: labels only

    (tmp_path / "short.csv").write_text(",".join(["1"] * 29) + "\n")
    result = invoke("predict", run_id, str(tmp_path / "short.csv"), home=tmp_path, plugins="knn", check=False)
    assert result.returncode == 2
    assert result.stderr == (
        f"zoo: error: {tmp_path / 'short.csv'}: wrong number of columns: line 1 has 29, "
        "knn reads 30 features per row\n"
    )


def test_sklearn_knn_loads_back_too(tmp_path: Path) -> None:
    [run] = invoke_json("run", "sklearn-knn", "--quiet", home=tmp_path, plugins="knn")
    from zoo_core import load_run

    trained = load_run(run["run_id"], device="cpu", home=tmp_path)
    _, raw_test = raw_breast_cancer(None)
    labels = [p.label for p in trained.predict(raw_test)]
    accuracy = float(np.mean(np.array(labels) == load_breast_cancer(None).test.y.numpy()))
    assert accuracy == run["metrics"]["accuracy"]
