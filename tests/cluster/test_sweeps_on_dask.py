"""`zoo sweep` on Dask: a cluster started by hand, a LocalCluster, dying workers, stopped clients.

Slow (every worker process imports torch), so `nox -s sweeps` runs them, not the default
sessions. Everything listens on 127.0.0.1 only; every server has a time limit of its own and
is stopped by the test; every wait is bounded.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from zoo_core.store import Store

pytestmark = pytest.mark.integration

DASK = shutil.which("dask", path=os.path.dirname(sys.executable)) or "dask"
STARTUP = 300  # seconds: a worker imports torch, and the machine may be busy


def sweep_rows(home: Path) -> list[tuple]:
    """The store as the tests compare it: identity, outcome and metrics of each run."""
    rows = Store(home / "results.sqlite").rows()
    return sorted((r["run_key"], r["status"], json.dumps(r["metrics"], sort_keys=True)) for r in rows)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)


@pytest.fixture
def cluster(tmp_path: Path, env: dict[str, str]) -> Iterator[tuple[str, Path]]:
    """A `dask scheduler` and two `dask worker` processes, as a user starts them on other machines.

    The workers have a zoo home of their own (data, no results): nothing is shared with the
    client but the scheduler's address. Yields the address and the workers' home.
    """
    worker_home = tmp_path / "worker-home"
    worker_home.mkdir()
    address_file = tmp_path / "scheduler.json"
    base = {**os.environ, **env, "ZOO_HOME": str(worker_home)}
    # As docs/sweeps.md advises, and as the zoo's own LocalCluster does: a run whose worker died is
    # retried once, and each worker holds only the run it is training.
    scheduler_env = {
        **base,
        "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
        "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0",
    }
    logs = tmp_path / "logs"
    logs.mkdir()
    processes = [
        subprocess.Popen(
            [DASK, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(address_file), "--idle-timeout", "600"],
            env=scheduler_env, stdout=subprocess.DEVNULL, stderr=(logs / "scheduler.log").open("w"),
        )
    ]  # fmt: skip
    try:
        deadline = time.monotonic() + STARTUP
        while not address_file.exists():
            assert time.monotonic() < deadline, (logs / "scheduler.log").read_text()
            assert processes[0].poll() is None, (logs / "scheduler.log").read_text()
            time.sleep(0.2)
        time.sleep(0.5)  # the file is written whole, but give it a moment
        address = json.loads(address_file.read_text())["address"]
        for number in range(2):
            processes.append(
                subprocess.Popen(
                    [DASK, "worker", "--scheduler-file", str(address_file), "--host", "127.0.0.1",
                     "--nthreads", "1", "--no-dashboard", "--death-timeout", "60", "--name", f"w{number}",
                     "--local-directory", str(tmp_path / f"w{number}")],
                    env=base, stdout=subprocess.DEVNULL, stderr=(logs / f"w{number}.log").open("w"),
                )
            )  # fmt: skip
        from distributed import Client

        with Client(address, timeout=STARTUP) as client:  # both workers in, so the sweep sees two
            client.wait_for_workers(2, timeout=STARTUP)
        yield address, worker_home
    finally:
        for process in reversed(processes):
            stop(process)


def test_a_sweep_runs_unchanged_on_a_cluster_started_by_hand(home, tmp_path, zoo, cluster):
    address, worker_home = cluster
    args = ["toy-mlp", "--grid", "hidden=4,8", "--seeds", "0-2", "--quiet", "--json"]
    result = zoo("sweep", *args, "--scheduler", address)
    runs = result.json_lines()
    assert [r["status"] for r in runs] == ["ok"] * 6 and "2 workers" in result.stderr
    rows = Store(home / "results.sqlite").rows()
    assert len(rows) == 6 and {r["threads"] for r in rows} == {1}  # each worker's one thread
    for row in rows:  # the client wrote every folder, as `zoo run` lays it out
        assert Path(row["run_dir"]).parent == home / "runs"
        assert (Path(row["run_dir"]) / "weights.pt").exists()
    # Workers keep no results: only the client writes the store and the folders.
    assert not (worker_home / "results.sqlite").exists() and not (worker_home / "runs").exists()
    # The same runs one after another in this process, with the same thread count, score the same.
    sequential = tmp_path / "sequential"
    for hidden in ("4", "8"):
        zoo("run", "toy-mlp", "--set", f"hidden={hidden}", "--seeds", "0,1,2", "--threads", "1", "--quiet",
            home=sequential)  # fmt: skip
    assert sweep_rows(home) == sweep_rows(sequential)


KILLER = """
import os
import signal
from pathlib import Path

import torch
from zoo_core import hookimpl, ModelSpec


class Killer:
    \"\"\"Kills its own process while fitting: always, once per seed, or never.\"\"\"

    def __init__(self, dataset, die="never"):
        self.die = die

    def fit(self, x, y):
        first = False
        if self.die == "once":
            marker = Path(os.environ["KILLER_MARKERS"]) / f"seed-{torch.initial_seed()}"
            try:
                marker.touch(exist_ok=False)
                first = True
            except FileExistsError:
                pass
        if self.die == "always" or first:
            os.kill(os.getpid(), signal.SIGKILL)

    def predict(self, x):
        return torch.zeros(len(x), dtype=torch.int64)

    def state_dict(self):
        return {"w": torch.zeros(1)}


@hookimpl
def zoo_models():
    return [ModelSpec(name="killer", task="classification", factory="zoo_killer:Killer", summary="s",
                      reference="r", gradient=False, defaults={"die": "never"},
                      choices={"die": ("never", "once", "always")}, default_dataset="toy-points")]
"""


def test_a_killed_worker_loses_and_doubles_nothing(home, tmp_path, zoo, install):
    install("zoo-killer", "1.0", {"killer": "zoo_killer"}, {"zoo_killer": KILLER})
    markers = tmp_path / "markers"
    markers.mkdir()
    env = {"ZOO_PLUGINS": "toy,killer", "KILLER_MARKERS": str(markers)}
    args = [
        "killer",
        "--grid",
        "die=never,once,always",
        "--seeds",
        "0-1",
        "--workers",
        "2",
        "--quiet",
        "--json",
    ]
    result = zoo("sweep", *args, env=env, check=False)
    assert result.returncode == 1, result.stderr
    outcomes = {(r["settings"]["die"], r["seed"]): r["status"] for r in result.json_lines()}
    assert outcomes == {
        ("never", 0): "ok", ("never", 1): "ok",
        ("once", 0): "ok", ("once", 1): "ok",  # retried on another worker, which finished it
        ("always", 0): "failed", ("always", 1): "failed",  # its retry died too
    }  # fmt: skip
    rows = Store(home / "results.sqlite").rows()
    assert len(rows) == 6 and len({r["run_key"] for r in rows}) == 6
    for row in rows:
        if row["status"] == "failed":
            assert "worker died while running it, 2 times" in row["error"]
            assert "KilledWorker" in (Path(row["run_dir"]) / "error.txt").read_text()
    # Failed runs are not done: the next sweep tries them again, and only them.
    again = zoo("sweep", *args, env=env, check=False)
    assert "2 of 6 runs to go, 4 recorded already" in again.stderr
    assert len(Store(home / "results.sqlite").rows()) == 8


def start_sweep(home: Path, env: dict[str, str], *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "zoo_core", "sweep", *args],
        env={**os.environ, **env, "ZOO_HOME": str(home), "PYTHONUNBUFFERED": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
    )


def stopped_after(process: subprocess.Popen, lines: int, how: signal.Signals) -> tuple[int, list[dict]]:
    """Read ``lines`` run lines from a running sweep, then send it ``how``; its exit code and lines."""
    assert process.stdout is not None
    seen = []
    deadline = time.monotonic() + STARTUP
    while len(seen) < lines:
        assert time.monotonic() < deadline, "the sweep printed too few runs in time"
        line = process.stdout.readline()
        assert line, f"the sweep ended early: {process.wait(timeout=60)} {process.stderr.read()}"
        seen.append(json.loads(line))
    process.send_signal(how)
    try:
        out, _ = process.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        process.kill()
        raise
    return process.returncode, seen + [json.loads(line) for line in out.splitlines() if line.strip()]


@pytest.mark.parametrize(
    "how, workers",
    [(signal.SIGINT, "2"), (signal.SIGKILL, "1")],
    ids=["ctrl-c-local-cluster", "client-killed-in-process"],
)
def test_a_stopped_sweep_resumes_to_what_a_whole_sweep_records(home, tmp_path, zoo, env, how, workers):
    args = ["toy-mlp", "--grid", "hidden=4,8", "--seeds", "0-3", "--quiet", "--json", "--threads", "1"]
    code, printed = stopped_after(start_sweep(home, env, *args, "--workers", workers), 2, how)
    assert code == (130 if how == signal.SIGINT else -signal.SIGKILL)
    rows = Store(home / "results.sqlite").rows()
    assert 2 <= len(rows) < 8 and len(rows) == len(printed)  # whole rows only, each one printed
    for row in rows:
        assert not (Path(row["run_dir"]) / "INCOMPLETE").exists()
    resumed = zoo("sweep", *args, "--workers", workers).json_lines()
    assert len(resumed) == 8 - len(rows)
    whole = tmp_path / "whole"
    zoo("sweep", *args, home=whole)  # in this process, one thread per run as on two workers
    assert sweep_rows(home) == sweep_rows(whole)  # the same runs, once each, with the same metrics
