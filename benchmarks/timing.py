"""Timing and reporting shared by the benchmark scripts.

Every script times its sides with :func:`interleaved_medians` after :func:`pin_threads`, and
reports each figure with :func:`emit`. The ``bench`` nox session sets ``ZOO_BENCH_RESULTS`` to a
JSON-lines file; ``report.py`` turns the collected rows into ``benchmarks/RESULTS.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import asdict, dataclass
from typing import Any, Callable


def options(description: str, repeats: int) -> argparse.ArgumentParser:
    """The options every script takes, so `nox -s bench -- --repeats N --threads T` reaches them all."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--repeats", type=int, default=repeats, help=f"repeats per side (default {repeats})")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="both sides (default: all cores)")
    return parser


def pin_threads(threads: int) -> None:
    """Give torch and scikit-learn's native pools (OpenMP, BLAS) the same number of threads."""
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(threads)
    # Kept alive for the whole process: the limit lasts as long as this object does.
    global _limits
    _limits = threadpool_limits(limits=threads)


_limits: Any = None

# What the benchmark issue calls a busy machine: one other process spinning on one core.
BUSY_LOOP = "while True: pass"
# The spinner's own deadline, in case this process dies without killing it. Row 15's busy sweep
# took 530 s on a loaded 2-core machine at --repeats 1: ten minutes left too little room.
SPINNER_LIFETIME_S = 1800


@contextmanager
def busy_core() -> Iterator[None]:
    """Run one CPU-bound process (``python -c 'while True: pass'``) for the duration of the block.

    The spinner is killed on exit, and it dies by itself after half an hour if this process is
    killed first, so no benchmark leaves a core busy behind it. A block that outlasts it would
    time partly on a quiet machine: that raises instead of reporting a wrong figure.
    """
    code = f"import signal; signal.alarm({SPINNER_LIFETIME_S})\n{BUSY_LOOP}"
    spinner = subprocess.Popen([sys.executable, "-c", code])
    try:
        time.sleep(0.5)  # let the scheduler see it as a running process before timing starts
        yield
        if spinner.poll() is not None:
            raise RuntimeError(
                f"the busy core's spinner ended before the block did ({SPINNER_LIFETIME_S} s at most): "
                "part of the 'busy' timing ran on a quiet machine"
            )
    finally:
        spinner.kill()
        spinner.wait()


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


def quiet_and_busy(
    runs: dict[str, Callable[[], Any]], repeats: int
) -> tuple[dict[str, float], dict[str, float], dict[str, Any]]:
    """Median wall time of each run on a quiet machine and beside one busy core, and what each
    run returned last.

    Measured side by side: each repeat times every run (interleaved) quietly, then every run
    again inside :func:`busy_core`, so both conditions meet the same machine.
    """
    quiet: dict[str, list[float]] = {name: [] for name in runs}
    busy: dict[str, list[float]] = {name: [] for name in runs}
    results: dict[str, Any] = {}
    for _ in range(repeats):
        for times, load in ((quiet, nullcontext()), (busy, busy_core())):
            with load:
                for name, run in runs.items():
                    start = time.perf_counter()
                    results[name] = run()
                    times[name].append(time.perf_counter() - start)
    return (
        {name: statistics.median(values) for name, values in quiet.items()},
        {name: statistics.median(values) for name, values in busy.items()},
        results,
    )


@dataclass(frozen=True)
class Row:
    """One figure of the results table: both sides measured in the same run, and their ratio."""

    row: int  # the figure's number in the benchmark issue's table
    figure: str  # what is measured, e.g. "KNN predict, 50,000 x 30, 5,000 queries, k=5"
    ours: str  # the zoo's side, with its measured value, e.g. "knn 0.41 s"
    reference: str  # the other side, e.g. "sklearn brute 0.52 s"
    ratio: float  # reference / ours for times (above 1: the zoo is faster); see ``goal`` otherwise
    goal: str  # e.g. ">= 1.0"
    met: bool
    note: str = ""  # accuracy, agreement, inertia gap: whatever the goal also requires
    # One cell of a grid of sizes, e.g. {"k": 8, "d": 2, "threads": 1}: report.py shows a row's
    # cells in a table of their own, and the row in the main table by how many cells met the goal.
    cell: dict[str, Any] | None = None


def emit(row: Row) -> None:
    """Print the row, and append it to ``$ZOO_BENCH_RESULTS`` when the bench session collects them."""
    status = "met" if row.met else "NOT met"
    print(
        f"[{row.row}] {row.figure}: {row.ours} vs {row.reference} -> {row.ratio:.2f}x "
        f"(goal {row.goal}, {status}){f'; {row.note}' if row.note else ''}",
        flush=True,
    )
    target = os.environ.get("ZOO_BENCH_RESULTS")
    if target:
        with open(target, "a", encoding="utf-8") as out:
            out.write(json.dumps(asdict(row)) + "\n")
