"""The lesson's clean sine series, cut into windows of past values -> next value."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from zoo_core.data import window_series

if TYPE_CHECKING:
    from pathlib import Path

    from zoo_core.data import Splits

# The lesson's series: 200 samples of sin over [0, 100], read 10 at a time.
SERIES_LENGTH = 200
WINDOW = 10
# The last quarter of the series is held out as the test stretch.
TEST_POINTS = 50


def sine_series() -> np.ndarray:
    """Return the lesson's series, sin(linspace(0, 100, 200))."""
    return np.sin(np.linspace(0.0, 100.0, SERIES_LENGTH))


def load_sine(data_dir: Path) -> Splits:
    """Window the sine values themselves (not their x positions) and split chronologically.

    ``data_dir`` is unused: the series is generated, deterministically, on every load.
    """
    return window_series(sine_series(), window=WINDOW, test_points=TEST_POINTS)
