"""Measure what docs/scaling.md cites: run folder sizes, the store's write rate, Dask's cost per task.

    python benchmarks/scaling.py [--runs 10000] [--tasks 2000] [--only sizes shipped store dask]

Run from the repository with zoo-core and every plugin installed. ``sizes`` sweeps the
leaderboard's grid once (seed 0, offline datasets) into a scratch home and measures its run
folders; ``shipped`` trains three runs as a worker does and pickles what it sends back;
``store`` times the client's side of recording; ``dask`` the scheduler's side of a task. It
prints the machine first, then one line per figure (wall time, and this process's CPU time
where waiting on the disk or on other processes could hide in the wall time).
"""

from __future__ import annotations

import argparse
import os
import pickle
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from importlib.metadata import version
from pathlib import Path

PARTS = ("sizes", "shipped", "store", "dask")


def machine() -> None:
    """What the figures were measured on: they mean little without it."""
    model = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")),
        platform.processor() or "unknown CPU",
    ) if Path("/proc/cpuinfo").exists() else platform.processor()  # fmt: skip
    print(f"machine: {os.cpu_count()} cores ({model}), {platform.system()} {platform.release()}, "
          f"load average {os.getloadavg()[0]:.1f} at the start")  # fmt: skip
    libraries = ", ".join(f"{name} {version(name)}" for name in ("dask", "distributed", "torch"))
    print(f"software: Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, {libraries}")


def folder_sizes(home: Path) -> None:
    """Bytes per run folder (what a worker ships back), per model on its largest dataset here."""
    from zoo_core.store import Store

    sizes, durations = {}, {}
    for row in Store(home / "results.sqlite").rows():
        folder = Path(row["run_dir"])
        files = {p.name: p.stat().st_size for p in folder.iterdir()}
        sizes[(row["model"], row["dataset"])] = (sum(files.values()), files.get("weights.pt", 0))
        durations[(row["model"], row["dataset"])] = row["duration_s"]
    totals = sorted(total for total, _ in sizes.values())
    print(f"run folders: {len(sizes)} runs, median {statistics.median(totals) / 1e3:.0f} kB, "
          f"min {totals[0] / 1e3:.0f} kB, max {totals[-1] / 1e3:.0f} kB")  # fmt: skip
    largest: dict[str, tuple[int, int, str]] = {}
    for (model, dataset), (total, weights) in sizes.items():
        if total > largest.get(model, (0, 0, ""))[0]:
            largest[model] = (total, weights, dataset)
    for model, (total, weights, dataset) in sorted(largest.items()):
        print(f"  {model} on {dataset}: {total / 1e3:.0f} kB, of which weights.pt {weights / 1e3:.0f} kB; "
              f"its run took {durations[(model, dataset)]:.1f} s on its worker")  # fmt: skip
    print(f"run durations: median {statistics.median(durations.values()):.1f} s over {len(durations)} runs")


def shipped_size(home: Path) -> None:
    """A worker's whole reply for one run (the pickled Trained record, files included)."""
    from zoo_core.executors import Task, train_task
    from zoo_core.grid import SweepRequest, plan_sweep
    from zoo_core.registry import get_registry

    for model, dataset in (("lenet5", "digits"), ("knn", "digits"), ("gru", "noisy-sine")):
        [run] = plan_sweep(get_registry(), SweepRequest(models=(model,), datasets=(dataset,))).runs
        task = Task(
            f"size-{model}", model, dataset, {}, 0, run.keys, "cpu", 1, str(home / "shipped"), str(home)
        )
        trained = train_task(task)
        reply = pickle.dumps(trained, protocol=5)
        files = ", ".join(f"{name} {len(data) / 1e3:.1f}" for name, data in sorted(trained.files.items()))
        print(f"shipped reply, {model} on {dataset}: {len(reply) / 1e3:.0f} kB pickled; files in kB: {files}")


def store_rate(home: Path, runs: int) -> None:
    """The client's side per run: write the shipped folder, record the row, remove the marker."""
    from zoo_core.executors import Task, train_task
    from zoo_core.grid import SweepRequest, plan_sweep
    from zoo_core.layout import database_path
    from zoo_core.observers import Observers
    from zoo_core.registry import get_registry
    from zoo_core.runner import Trained, record
    from zoo_core.store import Store

    [run] = plan_sweep(get_registry(), SweepRequest(models=("lenet5",), datasets=("digits",))).runs
    task = Task("template", "lenet5", "digits", {}, 0, run.keys, "cpu", 1, str(home / "rate"), str(home))
    template = train_task(task)
    store = Store(database_path(home / "rate"))
    store.check()
    folders = min(runs, 500)  # whole folders for a few hundred runs: enough for a rate, not gigabytes

    def template_for(number: int) -> Trained:
        run_id = f"r{number:06d}"
        config = replace(template.config, run_id=run_id, run_dir=home / "rate" / "runs" / run_id)
        row = replace(template.row, run_id=run_id, run_dir=str(config.run_dir), run_key=f"k{number}")
        return replace(template, config=config, row=row)

    started, cpu = time.perf_counter(), time.process_time()
    for number in range(folders):
        record(template_for(number), store, Observers(None))
    spent, cpu = time.perf_counter() - started, time.process_time() - cpu
    kilobytes = sum(map(len, template.files.values())) / 1e3
    print(f"client recording, lenet5 folders ({kilobytes:.0f} kB): {folders} runs in {spent:.1f} s, "
          f"{folders / spent:.0f} runs/s, {spent / folders * 1e3:.1f} ms per run "
          f"({cpu / folders * 1e3:.1f} ms CPU)")  # fmt: skip
    # Rows alone, in blocks: does a row cost more once the store holds thousands?
    block = max(1, (runs - folders) // 5)
    for start in range(folders, runs, block):
        end = min(runs, start + block)
        started, cpu = time.perf_counter(), time.process_time()
        for number in range(start, end):
            trained = template_for(number)
            store.record(trained.row, trained.result.metrics)
        spent, cpu = time.perf_counter() - started, time.process_time() - cpu
        print(f"rows alone, rows {start}-{end - 1}: {end - start} in {spent:.1f} s, "
              f"{(end - start) / spent:.0f} rows/s, {spent / (end - start) * 1e3:.1f} ms per row "
              f"({cpu / (end - start) * 1e3:.1f} ms CPU)")  # fmt: skip
    keys = [f"k{n}" for n in range(runs)]
    started = time.perf_counter()
    done = store.done_keys(keys)
    print(f"done_keys over {runs} rows: {time.perf_counter() - started:.3f} s ({len(done)} found)")
    started = time.perf_counter()
    rows = store.rows()
    print(f"rows() of {len(rows)} runs (what the leaderboard reads): {time.perf_counter() - started:.2f} s")
    size = database_path(home / "rate").stat().st_size
    print(f"results.sqlite with {runs} rows: {size / 1e6:.1f} MB, {size / runs:.0f} bytes per row")


def echo(payload: bytes) -> bytes:
    return payload


def scheduler_cost(tasks: int) -> None:
    """Wall time per task on a LocalCluster of 2 processes, as the sweep submits and collects them."""
    import dask
    from distributed import Client, LocalCluster, as_completed

    with dask.config.set({"distributed.scheduler.worker-saturation": 1.0}):
        cluster = LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, host="127.0.0.1")
    with cluster, Client(cluster) as client:
        for size in (1_000, 300_000):
            payload = os.urandom(size)
            client.submit(echo, payload, pure=False).result()  # warm
            started, cpu = time.perf_counter(), time.process_time()
            futures = [client.submit(echo, payload, pure=False) for _ in range(tasks)]
            for future in as_completed(futures):
                future.result()
                future.release()
            spent, cpu = time.perf_counter() - started, time.process_time() - cpu
            # The LocalCluster's scheduler runs in this process: its CPU is the client's and the scheduler's.
            print(f"dask, {tasks} tasks each sending and returning {size / 1e3:.0f} kB on 2 workers: "
                  f"{spent:.1f} s, {spent / tasks * 1e3:.2f} ms per task "
                  f"({cpu / tasks * 1e3:.2f} ms CPU in the client and scheduler)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10_000, help="rows the store timing writes")
    parser.add_argument("--tasks", type=int, default=2_000, help="tasks the scheduler timing runs")
    parser.add_argument("--only", nargs="+", choices=PARTS, default=PARTS, help="measure only these")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(prefix="zoo-scaling-"))
    os.environ.update(ZOO_HOME=str(scratch), ZOO_OFFLINE="1")
    try:
        machine()
        if "sizes" in args.only:
            zoo = [sys.executable, "-m", "zoo_core"]
            datasets = [
                "blobs",
                "breast-cancer",
                "digits",
                "noisy-sine",
                "random-sequences",
                "sine",
                "waveforms",
            ]
            sweep = ["sweep", "--all", "--dataset", *datasets, "--seeds", "0", "--workers", "2", "--quiet"]
            subprocess.run([*zoo, *sweep], check=True, stdout=subprocess.DEVNULL)
            folder_sizes(scratch)
        if "shipped" in args.only:
            shipped_size(scratch)
        if "store" in args.only:
            store_rate(scratch, args.runs)
        if "dask" in args.only:
            scheduler_cost(args.tasks)
        print(f"load average {os.getloadavg()[0]:.1f} at the end")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
