"""Run folders stay small: a state that is the training data is kept by reference, and sized."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
import torch

# An estimator whose state is its training data, as KNN's is, plus one learned number: the core
# must find the data in its state whatever the plugin calls it.
MEMO = """
from zoo_core import ModelSpec, hookimpl


@hookimpl
def zoo_models():
    return [
        ModelSpec(
            name="memo",
            task="classification",
            factory="zoo_memo:build",
            summary="one nearest neighbour",
            reference="core tests",
            default_dataset="toy-points",
            gradient=False,
            input_shape=(2,),
        )
    ]


class Memo:
    def __init__(self):
        import torch

        self.points = torch.empty(0, 0)
        self.labels = torch.empty(0, dtype=torch.int64)
        self.scale = torch.ones(1)

    def fit(self, x, y):
        self.points, self.labels = x.flatten(1), y

    def predict(self, x):
        import torch

        return self.labels[torch.cdist(x.flatten(1) * self.scale, self.points).argmin(1)]

    def state_dict(self):
        return {"points": self.points, "labels": self.labels, "scale": self.scale}


def build(dataset):
    return Memo()
"""
PLUGINS = {"ZOO_PLUGINS": "toy,memo"}


@pytest.fixture
def memo(install, zoo):
    install("zoo-memo", "1.0", {"memo": "zoo_memo"}, {"zoo_memo": MEMO})
    return zoo


def test_a_state_that_is_the_training_data_is_kept_by_reference(home, memo):
    from zoo_core.records import load_run_state

    [result] = memo.json("run", "memo", "--quiet", env=PLUGINS)
    folder = Path(result["run_dir"])
    assert result["num_params"] == 1 and result["fitted_points"] == 160 and result["data_reference"]
    reference = json.loads((folder / "data-reference.json").read_text())
    [row] = json.loads(memo("runs", "--json", env=PLUGINS).stdout)
    assert reference == {
        "dataset": "toy-points",
        "fingerprint": row["dataset_fingerprint"],
        "tensors": {
            "labels": {"view": "train.y", "shape": [160], "dtype": "int64"},
            "points": {"view": "train.x", "shape": [160, 2], "dtype": "float32"},
        },
    }
    assert set(torch.load(folder / "weights.pt", weights_only=True)) == {"scale"}
    assert row["training"] == {"fitted_points": 160, "data_reference": True} and row["num_params"] == 1
    assert row["folder_bytes"] == result["folder_bytes"] == sum(p.stat().st_size for p in folder.iterdir())
    shown = memo("show", result["run_id"], env=PLUGINS).stdout
    assert "parameters   1 + fitted: 160 training points (data reference)" in shown
    assert f"folder       {result['folder_bytes'] / 1000:.1f} kB" in shown

    state = load_run_state(row, home)
    from zoo_toy import load_points

    train = load_points(home).train
    assert set(state) == {"points", "labels", "scale"}
    assert torch.equal(state["points"], train.x) and torch.equal(state["labels"], train.y)
    check = memo("reproduce", result["run_id"], env=PLUGINS)
    assert "weights: identical" in check.stdout and "reproduced exactly" in check.stdout


def test_store_data_keeps_a_copy_and_still_reproduces(home, memo):
    [result] = memo.json("run", "memo", "--store-data", "--quiet", env=PLUGINS)
    folder = Path(result["run_dir"])
    assert not (folder / "data-reference.json").exists() and not result["data_reference"]
    assert set(torch.load(folder / "weights.pt", weights_only=True)) == {"points", "labels", "scale"}
    assert (
        "fitted: 160 training points (stored in the run folder)"
        in memo("show", result["run_id"], env=PLUGINS).stdout
    )
    assert "reproduced exactly" in memo("reproduce", result["run_id"], env=PLUGINS).stdout


def test_a_referenced_dataset_that_changed_is_refused_in_one_line(home, memo):
    from zoo_core.errors import ZooError
    from zoo_core.records import load_run_state
    from zoo_core.store import Store

    data = home / "data"
    data.mkdir()
    (data / "toy.csv").write_text("0,0,0\n1,1,1\n2,2,1\n")
    [result] = memo.json("run", "memo", "--dataset", "toy-file", "--quiet", env=PLUGINS)
    (data / "toy.csv").write_text("0,0,0\n1,1,1\n2,3,1\n")  # one number changed
    [row] = Store(home / "results.sqlite").rows()
    with pytest.raises(ZooError, match="changed since the run") as refused:
        load_run_state(row, home)
    assert "\n" not in str(refused.value) and "--store-data" in str(refused.value)
    again = memo("reproduce", result["run_id"], env=PLUGINS, check=False)
    assert again.returncode == 2 and len(again.stderr.strip().splitlines()) == 1
    assert f"run {result['run_id']} refers to its training data in toy-file" in again.stderr
    assert len(list((home / "runs").iterdir())) == 1  # refused before re-running anything


def test_a_damaged_data_reference_is_refused_in_one_line(home, memo):
    from zoo_core.errors import ZooError
    from zoo_core.records import load_run_state
    from zoo_core.store import Store

    [result] = memo.json("run", "memo", "--quiet", env=PLUGINS)
    path = Path(result["run_dir"]) / "data-reference.json"
    [row] = Store(home / "results.sqlite").rows()
    for damage in (
        '{"dataset": "toy-points"}',
        '{"dataset": 1, "fingerprint": "x", "tensors": {}}',
        "not json",
    ):
        path.write_text(damage)
        with pytest.raises(ZooError, match="data-reference.json") as refused:
            load_run_state(row, home)
        assert "\n" not in str(refused.value)
    reference = {"dataset": "toy-points", "fingerprint": row["dataset_fingerprint"], "tensors": {}}
    reference["tensors"]["points"] = {"view": "train.x", "shape": [3, 2], "dtype": "float32"}
    path.write_text(json.dumps(reference))
    with pytest.raises(ZooError, match=r"says 'points' is train.x shaped \[3, 2\]"):
        load_run_state(row, home)


def test_a_model_with_learned_weights_keeps_them_all(home, zoo):
    [result] = zoo.json("run", "toy-mlp", "--quiet", "--threads", "1")
    folder = Path(result["run_dir"])
    assert not (folder / "data-reference.json").exists()
    assert result["fitted_points"] == 0 and result["num_params"] == 42
    assert result["folder_bytes"] == sum(p.stat().st_size for p in folder.iterdir()) > 0
    assert "parameters   42\n" in zoo("show", result["run_id"]).stdout


def test_folder_bytes_counts_every_file_but_the_marker(tmp_path):
    from zoo_core.layout import folder_bytes

    (tmp_path / "sub").mkdir()
    (tmp_path / "a").write_bytes(b"1" * 10)
    (tmp_path / "sub" / "b").write_bytes(b"1" * 5)
    (tmp_path / "INCOMPLETE").write_text("running\n")
    os.symlink("/etc/passwd", tmp_path / "link")
    assert folder_bytes(tmp_path) == 15 + os.lstat(tmp_path / "link").st_size
    assert folder_bytes(tmp_path / "missing") == 0
