"""The kmeans plugin as the zoo sees it: well-formed specs and a real `zoo run`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from sklearn.cluster import KMeans as SkKMeans
from zoo_kmeans.data import blob_points

from zoo_core.testing import invoke, invoke_json


def test_zoo_run_recovers_blobs_like_sklearn(tmp_path: Path) -> None:
    (run,) = invoke_json("run", "kmeans", "--seed", "3", "--quiet", home=tmp_path, plugins="kmeans")
    assert run["status"] == "ok"
    assert run["metrics"]["ari"] == 1.0
    reference = SkKMeans(n_clusters=3, n_init=10, random_state=3).fit(blob_points()[0])
    assert run["metrics"]["inertia"] == pytest.approx(reference.inertia_, rel=1e-3)
    run_dir = Path(run["run_dir"])
    assert (run_dir / "clusters.png").is_file() and (run_dir / "loss_curve.png").is_file()
    assert torch.load(run_dir / "weights.pt")["centroids"].shape == (3, 2)


def test_the_run_keeps_its_inertia_per_iteration(tmp_path: Path) -> None:
    (run,) = invoke_json("run", "kmeans", "--quiet", home=tmp_path, plugins="kmeans")
    training = json.loads(invoke("show", run["run_id"], "--json", home=tmp_path, plugins="kmeans").stdout)[
        "training"
    ]
    assert training["loss_name"] == "inertia" and training["unit"] == "iteration"
    assert "epochs" not in training and "validation" not in training  # no epochs, nothing held out
    assert training["loss"][-1] == pytest.approx(run["metrics"]["inertia"], rel=1e-6)


@pytest.mark.parametrize(
    ("setting", "message"),
    [
        ("k=0", "k must be at least 1, got 0"),
        ("tol=-1e-4", "tol must be at least 0.0"),
        ("max_iter=0", "max_iter must be at least 1"),
        ("tol=nan", "tol must be a finite number, got nan"),
        ("tol=inf", "tol must be a finite number, got inf"),
        (f"max_iter={10**20}", "max_iter must fit in a 64-bit integer"),
        ("k=nan", "k expects int, got 'nan'"),
    ],
)
def test_out_of_range_settings_exit_2_before_any_data_loads(tmp_path: Path, setting, message) -> None:
    result = invoke("run", "kmeans", "--set", setting, home=tmp_path, plugins="kmeans", check=False)
    assert result.returncode == 2 and result.stderr.startswith("zoo: error: ") and message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not (tmp_path / "runs").exists()
