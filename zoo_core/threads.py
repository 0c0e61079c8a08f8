"""The thread budget of a run: how many CPU threads torch (and BLAS) may use.

Threads are a parameter of a run, never process state that other code reads back: the run
owner enters :func:`using_threads` around the work and records the number it chose.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def available_cores() -> int:
    """The CPUs this process may run on (its affinity mask), not every CPU of the machine."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # macOS and Windows have no affinity call
        return max(1, os.cpu_count() or 1)


def choose_threads(requested: int | None = None) -> int:
    """``requested`` when given (``--threads``), else one thread per available core."""
    return requested if requested is not None else available_cores()


@contextmanager
def using_threads(count: int) -> Iterator[int]:
    """Let torch use ``count`` intra-op threads inside the block, and restore the previous number."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(count)
    try:
        yield count
    finally:
        torch.set_num_threads(previous)
