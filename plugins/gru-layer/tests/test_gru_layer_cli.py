"""The plugin through the real `zoo` command: valid specs, learnable waveforms, random data at chance."""

from __future__ import annotations

import math
from pathlib import Path

import zoo_gru_layer

from zoo_core.testing import invoke_json

# The model is tiny: on a busy machine extra threads only contend.
ONE_THREAD = {"OMP_NUM_THREADS": "1"}
TEST_SIZES = {spec.name: spec.test_size for spec in zoo_gru_layer.zoo_datasets()}


def at_chance(accuracy: float, dataset: str) -> bool:
    """Within three standard errors of 0.25 on the dataset's test split (± 0.092 for 200 samples)."""
    return abs(accuracy - 0.25) <= 3 * math.sqrt(0.25 * 0.75 / TEST_SIZES[dataset])


def test_my_gru_learns_waveforms_and_the_baseline_does_not(tmp_path: Path) -> None:
    # --all runs my-gru on its default dataset, then the baselines on that dataset.
    runs = invoke_json("run", "--all", "--quiet", home=tmp_path, plugins="gru-layer", env=ONE_THREAD)
    by_model = {run["model"]: run for run in runs}
    assert set(by_model) == {"my-gru", "majority-class"}
    for run in runs:
        assert run["status"] == "ok", run["error"]
        assert run["dataset"] == "waveforms"
    assert by_model["my-gru"]["metrics"]["accuracy"] >= 0.8
    assert at_chance(by_model["majority-class"]["metrics"]["accuracy"], "waveforms")


def test_my_gru_stays_at_chance_on_random_sequences(tmp_path: Path) -> None:
    # Labels are drawn independently of the inputs: anything clearly above chance is a leak.
    (run,) = invoke_json(
        *("run", "my-gru", "--dataset", "random-sequences", "--quiet"),
        home=tmp_path,
        plugins="gru-layer",
        env=ONE_THREAD,
    )
    assert run["status"] == "ok", run["error"]
    assert at_chance(run["metrics"]["accuracy"], "random-sequences")
