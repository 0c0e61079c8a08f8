"""The plugin as the `zoo` command sees it: well-formed specs that build, and a real run."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import zoo_knn
import zoo_knn.data
from sklearn.neighbors import KNeighborsClassifier
from zoo_knn.data import load_breast_cancer

from zoo_core import ZooError
from zoo_core.data import Split, Splits
from zoo_core.records import load_run_state
from zoo_core.store import Store
from zoo_core.testing import invoke, invoke_json


@pytest.fixture(scope="module")
def splits():
    return load_breast_cancer(None)


def sklearn_accuracy(splits) -> float:
    reference = KNeighborsClassifier(n_neighbors=3).fit(splits.train.x.numpy(), splits.train.y.numpy())
    return float((reference.predict(splits.test.x.numpy()) == splits.test.y.numpy()).mean())


@pytest.mark.parametrize("name", ["knn", "sklearn-knn"])
def test_each_model_builds_from_its_spec_defaults(splits, name: str) -> None:
    (spec,) = [model for model in zoo_knn.zoo_models() if model.name == name]
    (dataset,) = [d for d in zoo_knn.zoo_datasets() if d.name == spec.default_dataset]
    model = spec.build(dataset, **spec.defaults)
    assert all(value.numel() == 0 for value in model.state_dict().values())  # nothing fitted yet
    model.fit(splits.train.x, splits.train.y)
    accuracy = (model.predict(splits.test.x) == splits.test.y).double().mean().item()
    assert accuracy == sklearn_accuracy(splits)
    assert model.state_dict()["x"].shape == (dataset.train_size, *dataset.input_shape)


def test_zoo_run_knn_scores_like_sklearn_for_every_seed(tmp_path: Path, splits) -> None:
    runs = invoke_json("run", "knn", "--seeds", "0,1", "--quiet", home=tmp_path, plugins="knn")
    assert [run["status"] for run in runs] == ["ok", "ok"], [run["error"] for run in runs]
    assert {run["dataset"] for run in runs} == {"breast-cancer"}
    # KNN has no randomness: every seed gives the same scores, and they are scikit-learn's.
    assert runs[0]["metrics"] == runs[1]["metrics"]
    assert runs[0]["metrics"]["accuracy"] == sklearn_accuracy(splits)
    # The state is the training set: the run folder refers to the dataset instead of copying it.
    assert runs[0]["num_params"] == 0 and runs[0]["fitted_points"] == len(splits.train)
    assert torch.load(Path(runs[0]["run_dir"]) / "weights.pt", weights_only=True) == {}
    [row] = [r for r in Store(tmp_path / "results.sqlite").rows() if r["run_id"] == runs[0]["run_id"]]
    state = load_run_state(row, tmp_path)
    assert torch.equal(state["x"], splits.train.x) and torch.equal(state["y"], splits.train.y)


def test_a_run_whose_data_changed_is_refused_when_loaded(tmp_path: Path, splits, monkeypatch) -> None:
    [run] = invoke_json("run", "knn", "--quiet", home=tmp_path, plugins="knn")
    [row] = Store(tmp_path / "results.sqlite").rows()
    changed = Splits(Split(splits.train.x * 1.01, splits.train.y), splits.test)
    monkeypatch.setattr(zoo_knn.data, "load_breast_cancer", lambda data_dir: changed)
    with pytest.raises(ZooError, match="the data changed since the run"):
        load_run_state(row, tmp_path)
    result = invoke("reproduce", run["run_id"], home=tmp_path, plugins="knn", check=False)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert f"run {run['run_id']} refers to its training data in breast-cancer (sha256:" in result.stderr


BAD_SETTINGS = [
    ("k=-1", "k must be at least 1, got -1"),
    ("k=0", "k must be at least 1, got 0"),
    ("p=0.5", "p must be at least 1.0, got 0.5"),
    ("p=nan", "p must be a finite number, got nan"),
    ("metric=cosine", "metric must be one of euclidean, manhattan, minkowski, got 'cosine'"),
]


@pytest.mark.parametrize(
    ("model", "setting", "message"),
    [
        *[(model, *case) for model in ("knn", "sklearn-knn") for case in BAD_SETTINGS],
        ("knn", "chunk_size=0", "chunk_size must be at least 1, got 0"),
        ("knn", f"chunk_size={2**63}", f"chunk_size must fit in a 64-bit integer, got {2**63}"),
    ],
)
def test_out_of_range_settings_exit_2_before_any_data_loads(tmp_path: Path, model, setting, message) -> None:
    result = invoke("run", model, "--set", setting, home=tmp_path, plugins="knn", check=False)
    assert result.returncode == 2 and result.stderr.strip() == f"zoo: error: {message}"
    assert not (tmp_path / "runs").exists()
