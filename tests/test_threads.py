"""The thread budget: cores from affinity and cgroup quotas, minus busy ones, capped by the model."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import torch

from zoo_core import threads


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_cgroup_v2_quota_is_the_tightest_along_the_path(tmp_path: Path) -> None:
    membership = tmp_path / "cgroup"
    write(membership, "0::/ci/job\n")
    write(tmp_path / "fs" / "cpu.max", "max 100000\n")
    write(tmp_path / "fs" / "ci" / "cpu.max", "250000 100000\n")
    write(tmp_path / "fs" / "ci" / "job" / "cpu.max", "150000 100000\n")
    assert threads.cgroup_cpu_limit(tmp_path / "fs", membership) == 1.5
    write(tmp_path / "fs" / "ci" / "cpu.max", "50000 100000\n")
    assert threads.cgroup_cpu_limit(tmp_path / "fs", membership) == 0.5


def test_cgroup_v1_quota_and_no_quota(tmp_path: Path) -> None:
    membership = tmp_path / "cgroup"
    write(membership, "4:memory:/x\n3:cpu,cpuacct:/\n")
    write(tmp_path / "fs" / "cpu,cpuacct" / "cpu.cfs_period_us", "100000\n")
    write(tmp_path / "fs" / "cpu,cpuacct" / "cpu.cfs_quota_us", "-1\n")
    assert threads.cgroup_cpu_limit(tmp_path / "fs", membership) is None
    write(tmp_path / "fs" / "cpu,cpuacct" / "cpu.cfs_quota_us", "300000\n")
    assert threads.cgroup_cpu_limit(tmp_path / "fs", membership) == 3.0
    assert threads.cgroup_cpu_limit(tmp_path / "fs", tmp_path / "absent") is None


@pytest.mark.parametrize(
    ("cpus", "quota", "cores"), [({0, 1, 2, 3}, None, 4), ({0, 1, 2, 3}, 1.5, 1), ({2}, 8.0, 1)]
)
def test_available_cores_is_affinity_capped_by_the_quota(
    monkeypatch: pytest.MonkeyPatch, cpus: set[int], quota: float | None, cores: int
) -> None:
    monkeypatch.setattr(threads, "affinity", lambda: cpus)
    monkeypatch.setattr(threads, "cgroup_cpu_limit", lambda: quota)
    assert threads.available_cores() == cores


@pytest.mark.parametrize(("busy", "taken"), [(0.0, 0), (0.2, 0), (0.3, 1), (1.0, 1), (1.3, 2), (5.0, 2)])
def test_a_core_counts_as_busy_once_others_use_a_quarter_of_it(busy: float, taken: int) -> None:
    assert threads.busy_cores_of(busy, cores=2) == taken


def test_choose_threads_honours_request_then_free_cores_then_preference(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(threads, "available_cores", lambda: 4)
    monkeypatch.setattr(threads, "others_busy", lambda: 1.0)
    assert threads.choose_threads() == 3
    assert threads.choose_threads(prefer=1) == 1
    assert threads.choose_threads(8) == 8  # --threads is the user's call
    monkeypatch.setattr(threads, "others_busy", lambda: 9.0)
    assert threads.choose_threads() == 1


def test_others_busy_reads_the_cores_of_this_process_from_proc_stat(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stat = tmp_path / "stat"
    lines = "cpu  0 0 0 0 0 0 0 0\ncpu0 {} 0 0 500 0 0 0 0\ncpu1 100 0 0 500 0 0 0 0\ncpu7 {} 0 0 0 0 0 0 0\n"
    write(stat, lines.format(100, 0))
    sleep = time.sleep

    def others_work(seconds: float) -> None:  # over the look, cpu0 is fully busy and cpu7 is not ours
        sleep(seconds)
        ticks = round(seconds * threads.os.sysconf("SC_CLK_TCK"))
        write(stat, lines.format(100 + ticks, 10 * ticks))

    monkeypatch.setattr(threads.time, "sleep", others_work)
    monkeypatch.setattr(threads, "affinity", lambda: {0, 1})
    assert 0.6 < threads.others_busy(0.2, stat) <= 1.0
    assert threads.others_busy(0.05, tmp_path / "absent") == 0.0


def test_using_threads_restores_the_previous_count() -> None:
    before = torch.get_num_threads()
    with threads.using_threads(1) as count:
        assert count == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
