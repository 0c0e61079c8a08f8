"""gru-cell end to end through the core's runner, on a dataset registered for this test only.

noisy-sine belongs to the gru plugin, which need not be installed next to this one.
"""

from __future__ import annotations

import math

import pytest

from zoo_core import DatasetSpec, ZooError, hookimpl
from zoo_core.testing import registered

LENGTH, WINDOW, TEST_POINTS = 120, 10, 30


def load_clean_sine(data_dir):
    import numpy as np

    from zoo_core.data import window_series

    return window_series(np.sin(0.5 * np.arange(LENGTH)), window=WINDOW, test_points=TEST_POINTS)


class CleanSine:
    @hookimpl
    def zoo_datasets(self):
        return [
            DatasetSpec(
                name="gru-cell-test-sine",
                task="forecasting",
                loader=load_clean_sine,
                description="sin(0.5 t), windows of 10 -> next value",
                source="generated in the test",
                license="public domain (synthetic)",
                input_shape=(WINDOW, 1),
                train_size=LENGTH - TEST_POINTS - WINDOW,
                test_size=TEST_POINTS - WINDOW,
            )
        ]


@pytest.fixture
def only_gru_cell(monkeypatch):
    monkeypatch.setenv("ZOO_PLUGINS", "gru-cell")
    with registered(CleanSine(), name="gru-cell-test-data"):
        yield


def test_a_short_run_learns_the_sine(only_gru_cell, tmp_path):
    from zoo_core import run

    result = run("gru-cell", "gru-cell-test-sine", seed=0, epochs=80, lr=1e-2, home=tmp_path)
    assert result.status == "ok"
    assert result.num_params == 3 * 16 * (1 + 16 + 2) + 17  # nn.GRUCell(1, 16) + Linear(16, 1)
    # The targets are sine values (variance 0.5). Guessing the last value errs by
    # sin(0.5 (t + 1)) - sin(0.5 t) = 2 cos(0.5 t + 0.25) sin(0.25), a mean square of 2 sin²(0.25).
    last_value_mse = 2 * math.sin(0.25) ** 2
    assert result.metrics["mse"] < last_value_mse / 10 < 0.5 / 40
    assert {"forecast.png", "weights.pt", "metrics.json"} <= {p.name for p in (tmp_path / "runs").glob("*/*")}


def test_default_dataset_missing_is_one_clear_error(only_gru_cell, tmp_path):
    from zoo_core import run

    with pytest.raises(ZooError, match="noisy-sine"):
        run("gru-cell", home=tmp_path)


def test_a_cpu_run_reproduces_exactly(only_gru_cell, tmp_path):
    from zoo_core import run
    from zoo_core.reproduce import reproduce

    original = run("gru-cell", "gru-cell-test-sine", seed=3, epochs=5, home=tmp_path)
    check = reproduce(original.run_id, tmp_path)
    assert check.matches and check.same_weights and check.same_data
    assert {m.name: m.reproduced for m in check.metrics} == dict(original.metrics)
