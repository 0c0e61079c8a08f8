"""Timing shared by the benchmark scripts."""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable


def interleaved_medians(
    runs: dict[str, Callable[[], Any]], repeats: int
) -> tuple[dict[str, float], dict[str, Any]]:
    """Median wall time of each run, and what each run returned last.

    Repeats are interleaved (a, b, a, b, ...) so a shared machine's load hits every run alike.
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for name, run in runs.items():
            start = time.perf_counter()
            results[name] = run()
            times[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in times.items()}, results
