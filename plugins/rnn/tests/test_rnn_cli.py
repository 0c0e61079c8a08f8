"""The plugin as the `zoo` command sees it: well-formed specs and a short real training run."""

from __future__ import annotations

from pathlib import Path

from zoo_rnn.data import load_sine

from zoo_core.testing import invoke_json


def test_short_run_on_sine_beats_the_series_variance(tmp_path: Path) -> None:
    # One thread: the model is tiny, and on a busy machine extra threads only contend.
    (run,) = invoke_json(
        *("run", "rnn-cell", "--epochs", "20", "--seed", "0", "--quiet"),
        home=tmp_path,
        plugins="rnn",
        env={"OMP_NUM_THREADS": "1"},
    )
    assert run["status"] == "ok", run["error"]
    assert run["dataset"] == "sine"
    # Predicting the mean would score the variance of the test targets (about 0.5);
    # 20 epochs already land around 1e-3.
    variance = float(load_sine(None).test.y.var(unbiased=False))
    assert run["metrics"]["mse"] < variance / 100
    assert (Path(run["run_dir"]) / "weights.pt").is_file()
