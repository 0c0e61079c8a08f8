"""LeNet-5 through the real `zoo` command: training on digits, and the MNIST fallback."""

from __future__ import annotations

import json
from pathlib import Path

from zoo_core.testing import invoke, invoke_json

# No test may try the network: the loaders skip torchvision's download when this is set.
OFFLINE = {"ZOO_OFFLINE": "1"}


def test_lenet5_learns_digits_in_three_epochs(tmp_path: Path) -> None:
    (row,) = invoke_json(
        "run", "lenet5", "--dataset", "digits", "--epochs", "3", "--quiet",
        home=tmp_path, plugins="lenet5", env=OFFLINE,
    )  # fmt: skip
    assert row["status"] == "ok" and row["num_params"] == 61_706
    assert row["metrics"]["accuracy"] >= 0.8  # chance is 0.1


def test_lenet5_falls_back_to_digits_without_mnist(tmp_path: Path) -> None:
    result = invoke(
        "run", "lenet5", "--epochs", "1", "--quiet", "--json", home=tmp_path, plugins="lenet5", env=OFFLINE
    )
    (row,) = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert row["status"] == "ok" and row["dataset"] == "digits"
    notices = [line for line in result.stderr.splitlines() if "digits" in line]
    assert len(notices) == 1 and str(tmp_path / "data" / "MNIST" / "raw") in notices[0]
    config = json.loads((Path(row["run_dir"]) / "config.json").read_text())
    assert config["dataset"] == "digits"


def test_lenet5_explicit_mnist_fails_naming_the_folder(tmp_path: Path) -> None:
    result = invoke(
        "run", "lenet5", "--dataset", "mnist", "--epochs", "1",
        home=tmp_path, plugins="lenet5", env=OFFLINE, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert str(tmp_path / "data" / "MNIST" / "raw") in result.stderr
