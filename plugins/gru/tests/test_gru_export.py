"""gru exported as TorchScript and ONNX: each export checks itself on the run's test windows."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from zoo_gru.data import load_noisy_sine

from zoo_core.testing import export_checked, invoke_json


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> tuple[Path, str]:
    home = tmp_path_factory.mktemp("home")
    [result] = invoke_json("run", "gru", "--epochs", "5", "--quiet", home=home, plugins="gru")
    return home, result["run_id"]


@pytest.mark.parametrize("fmt", ["torchscript", "onnx"])
def test_export_gru(run, tmp_path, fmt) -> None:
    home, run_id = run
    path = tmp_path / f"gru.{fmt}"
    assert export_checked(run_id, fmt, path, home=home, plugins="gru") <= 1e-5
    if fmt == "torchscript":
        windows = load_noisy_sine(None).test.x
        from zoo_core import load_run

        original = load_run(run_id, device="cpu", home=home).model
        with torch.no_grad():
            assert torch.allclose(torch.jit.load(str(path))(windows), original(windows), atol=1e-5)


def test_predict_continues_a_column_of_values(run, tmp_path) -> None:
    home, run_id = run
    series = load_noisy_sine(None).test
    (tmp_path / "series.csv").write_text("".join(f"{v}\n" for v in series.x[0, :, 0].tolist()))
    [predicted] = invoke_json("predict", run_id, str(tmp_path / "series.csv"), home=home, plugins="gru")
    from zoo_core import load_run

    with torch.no_grad():
        expected = load_run(run_id, device="cpu", home=home).model(series.x[:1]).item()
    assert predicted["value"] == pytest.approx(expected, abs=1e-6)
