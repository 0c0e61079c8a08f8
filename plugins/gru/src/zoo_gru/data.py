"""The lesson's series: a sine sampled 200 times over [0, 100], with Gaussian noise."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from zoo_core.data import Splits

LENGTH = 200
WINDOW = 10
# The last quarter of the series is the test set: 50 values give 40 test windows.
TEST_POINTS = 50
NOISE_STD = 0.1
# Fixed, so the data is the same whatever seed a run uses.
NOISE_SEED = 0


def noisy_sine() -> np.ndarray:
    """The whole series, float32 of shape (LENGTH,)."""
    import numpy as np

    t = np.linspace(0, 100, LENGTH)
    noise = np.random.default_rng(NOISE_SEED).normal(scale=NOISE_STD, size=LENGTH)
    return (np.sin(t) + noise).astype(np.float32)


def load_noisy_sine(data_dir: Path) -> Splits:
    """Windows of 10 values -> the next value; the end of the series is held out as test."""
    from zoo_core.data import window_series

    del data_dir  # generated, nothing to read
    return window_series(noisy_sine(), window=WINDOW, test_points=TEST_POINTS)
