"""The thread budget of a run: how many CPU threads torch (and BLAS) may use.

Threads are a parameter of a run, never process state that other code reads back: the run
owner enters :func:`using_threads` around the work and records the number it chose.

The default (:func:`choose_threads`; ``zoo run --threads N`` overrides it) is one thread per core
that is really free for this run:

- the cores this process may run on: its CPU affinity, capped by a cgroup CPU quota (a container
  or CI runner allowed 1.5 CPUs gets 1 thread);
- minus the cores other processes keep busy right now, from a 0.1 s look at ``/proc/stat``
  (a core counts as busy once others use more than a quarter of it);
- and no more than ``prefer``, where a caller gives one. No model declares a preference yet and
  the runner passes none, so every model gets one thread per free core; small models whose ops
  are too short to share (the recurrent lessons) would run fastest on one.

Why: torch's intra-op threads meet at a barrier after every parallel op. When another process
holds one of the cores, every op waits for the descheduled thread, and the waiting threads spin
and take CPU from the one doing the work. With other jobs on this 2-core machine, a LeNet-5 step
took 14-25 ms on one thread and 105-880 ms on two. One thread per free core loses at most the
parallel speed-up; two threads on a busy core lose an order of magnitude. The look at the load is
taken once, when the run starts; a model that splits its batches into chunks (LeNet-5, see
``zoo_core.training.ChunkedBackward``) gets the same result on any number of threads, so for it
the choice changes only the speed.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
PROC_CGROUP = Path("/proc/self/cgroup")
PROC_STAT = Path("/proc/stat")
LOOK_S = 0.1
# Others' use of a core, as a fraction of it, above which the core no longer counts as free.
BUSY_SHARE = 0.25


def available_cores() -> int:
    """The CPUs this process may use (its affinity mask, a cgroup CPU quota), not every CPU of the machine."""
    cores = len(affinity()) or os.cpu_count() or 1
    quota = cgroup_cpu_limit()
    return max(1, min(cores, math.floor(quota) if quota is not None else cores))


def choose_threads(requested: int | None = None, prefer: int | None = None) -> int:
    """``requested`` when given (``--threads``), else one thread per free core, at most ``prefer``."""
    if requested is not None:
        return requested
    cores = available_cores()
    free = cores - busy_cores_of(others_busy(), cores)
    return max(1, min(cores, free, prefer or cores))


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


def affinity() -> set[int]:
    """The CPU numbers this process may run on; empty where the system cannot say (macOS, Windows)."""
    try:
        return set(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return set()


def busy_cores_of(busy: float, cores: int) -> int:
    """Whole cores taken by ``busy`` cores' worth of others' work: 0.2 -> 0, 0.3 -> 1, 1.0 -> 1, 1.3 -> 2."""
    return min(cores, max(0, math.ceil(busy - BUSY_SHARE)))


def cgroup_cpu_limit(root: Path = CGROUP, membership: Path = PROC_CGROUP) -> float | None:
    """The CPU quota (in CPUs) of this process's cgroup and its ancestors, v2 or v1; None if unlimited."""
    try:
        lines = membership.read_text().splitlines()
    except OSError:
        return None
    limits = []
    for line in lines:
        _, controllers, path = line.split(":", 2)
        if controllers == "":  # cgroup v2: "0::/path", limit in cpu.max as "quota period"
            folders, read = [root], _cpu_max
        elif "cpu" in controllers.split(","):  # cgroup v1: cpu.cfs_quota_us and cpu.cfs_period_us
            folders, read = [root / name for name in ("cpu", "cpu,cpuacct", "cpuacct,cpu")], _cfs_quota
        else:
            continue
        for folder in folders:
            # The group's own folder and each ancestor's; inside a container the path is often "/".
            here = folder / path.lstrip("/")
            for level in (here, *here.parents):
                if level == folder.parent:
                    break
                limit = read(level)
                if limit is not None:
                    limits.append(limit)
    return min(limits) if limits else None


def _cpu_max(folder: Path) -> float | None:
    try:
        quota, period = (folder / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _cfs_quota(folder: Path) -> float | None:
    try:
        quota = int((folder / "cpu.cfs_quota_us").read_text())
        period = int((folder / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return None if quota <= 0 or period <= 0 else quota / period


def others_busy(seconds: float = LOOK_S, stat: Path = PROC_STAT) -> float:
    """How many of this process's cores other processes kept busy over the next ``seconds``; 0 if unknown.

    From the per-CPU counters of ``/proc/stat`` (Linux), less this process's own CPU time.
    """
    cpus = affinity()
    before, own_before, start = _busy_ticks(stat, cpus), _own_seconds(), time.perf_counter()
    if before is None:
        return 0.0
    time.sleep(seconds)
    after, own_after, elapsed = _busy_ticks(stat, cpus), _own_seconds(), time.perf_counter() - start
    if after is None or elapsed <= 0:
        return 0.0
    busy = (after - before) / os.sysconf("SC_CLK_TCK") - (own_after - own_before)
    return max(0.0, busy / elapsed)


def _own_seconds() -> float:
    times = os.times()
    return times.user + times.system


def _busy_ticks(stat: Path, cpus: set[int]) -> int | None:
    """Non-idle clock ticks summed over ``cpus`` (all when empty), from /proc/stat; None if unreadable."""
    try:
        lines = stat.read_text().splitlines()
    except OSError:
        return None
    total = 0
    for line in lines:
        name, *fields = line.split()
        if not name.startswith("cpu") or name == "cpu" or (cpus and int(name[3:]) not in cpus):
            continue
        # user nice system idle iowait irq softirq steal (guest time is already counted in user)
        ticks = [int(field) for field in fields[:8]]
        total += sum(ticks) - ticks[3] - ticks[4]
    return total
