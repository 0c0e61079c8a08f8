"""gru on noisy-sine through the real `zoo` command."""

from __future__ import annotations

from pathlib import Path

import pytest
from zoo_gru.data import load_noisy_sine

from zoo_core.testing import invoke, invoke_json


def test_a_short_run_beats_the_baseline_but_not_the_noise(tmp_path):
    [result] = invoke_json(
        "run", "gru", "--epochs", "50", "--set", "lr=0.01", "--quiet", home=tmp_path, plugins="gru"
    )
    assert result["status"] == "ok" and result["dataset"] == "noisy-sine"
    mse = result["metrics"]["mse"]
    test = load_noisy_sine(None).test
    variance = test.y.var().item()
    last_value = ((test.x[:, -1, 0] - test.y) ** 2).mean().item()
    assert mse < variance / 10
    assert mse < last_value / 5
    # The targets carry N(0, 0.1) noise: far below its variance 0.01 would mean a leak.
    assert mse > 0.005
    assert (Path(result["run_dir"]) / "forecast.png").is_file()


@pytest.mark.parametrize("setting", ["hidden_size=0", "num_layers=-1"])
def test_an_impossible_size_is_refused_before_training(tmp_path, setting):
    result = invoke("run", "gru", "--set", setting, home=tmp_path, plugins="gru", check=False)
    assert result.returncode == 2 and "must be at least 1" in result.stderr
    assert not (tmp_path / "runs").exists()
