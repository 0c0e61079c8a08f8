"""Time the leaderboard's grid as `zoo run` processes one after another against one `zoo sweep --workers 2`.

Run from the repository with zoo-core and every plugin installed: ``python benchmarks/bench_sweep.py``.
The grid is every model on every dataset it fits, seeds 0, 1 and 2, over the datasets that load
offline (fashion-mnist and mnist need files or a download: left out so that it stays short). Row 14
compares the two ways; row 15 runs the same sweep again beside one busy core. Each repeat of each
side starts from an empty zoo home (a sweep skips what is recorded) and shares the data folder.
``--seeds 0 --datasets blobs sine`` times a smaller grid (a quick check that the script works;
its rows name the grid they timed).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from timing import Row, busy_core, emit, interleaved_medians, options

SPEEDUP_GOAL = 1.8  # the sweep on 2 workers against sequential processes, on 2 cores
BUSY_GOAL = 2.0  # the sweep beside a busy core against the same sweep on a quiet machine
SEEDS = "0,1,2"


def zoo(*args: str, env: dict[str, str]) -> str:
    command = shutil.which("zoo", path=os.path.dirname(sys.executable)) or "zoo"
    done = subprocess.run([command, *args], env=env, check=True, capture_output=True, text=True)
    return done.stdout


def grid(env: dict[str, str], only: list[str] | None) -> tuple[list[str], list[tuple[str, str]]]:
    """The datasets that load offline (those of ``only``), and every (model, dataset) pair over them."""
    listing = json.loads(zoo("list", "--json", env=env))
    datasets = [d["name"] for d in listing["datasets"] if d["offline"] in (True, "yes")]
    if only:
        datasets = [name for name in datasets if name in only]
    plan = json.loads(zoo("sweep", "--all", "--dataset", *datasets, "--dry-run", "--json", env=env))
    pairs = [tuple(pair.split(" on ")) for pair in plan["pairs"]]
    return datasets, pairs  # type: ignore[return-value]


def main() -> None:
    parser = options(__doc__.splitlines()[0], repeats=1)  # each side takes minutes
    parser.add_argument("--seeds", default=SEEDS, help=f"the grid's seeds (default {SEEDS})")
    parser.add_argument("--datasets", nargs="+", metavar="D", help="only these (default: every offline one)")
    args = parser.parse_args()
    seeds = args.seeds
    scratch = Path(tempfile.mkdtemp(prefix="zoo-bench-sweep-"))
    base = {**os.environ, "ZOO_OFFLINE": "1", "PYTHONDONTWRITEBYTECODE": ""}
    base["ZOO_DATA"] = str(scratch / "data")
    homes = iter(range(1_000_000))

    def fresh() -> dict[str, str]:
        return {**base, "ZOO_HOME": str(scratch / f"home-{next(homes)}")}

    try:
        datasets, pairs = grid(fresh(), args.datasets)
        runs = len(pairs) * len(seeds.split(","))

        def sequential() -> None:
            env = fresh()
            for model, dataset in pairs:
                zoo("run", model, "--dataset", dataset, "--seeds", seeds, "--quiet", env=env)

        def sweep() -> None:
            command = [
                "sweep",
                "--all",
                "--dataset",
                *datasets,
                "--seeds",
                seeds,
                "--workers",
                "2",
                "--quiet",
            ]
            zoo(*command, env=fresh())

        def busy_sweep() -> None:
            with busy_core():
                sweep()

        sweep()  # warms the bytecode caches and the data files both sides read
        seconds, _ = interleaved_medians(
            {"sequential": sequential, "sweep": sweep, "busy": busy_sweep}, args.repeats
        )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    speedup = seconds["sequential"] / seconds["sweep"]
    grid_name = "leaderboard grid" if not args.datasets else f"grid over {', '.join(datasets)}"
    figure = f"{grid_name}: {len(pairs)} model-dataset pairs x seeds {seeds} = {runs} runs"
    emit(
        Row(
            row=14,
            figure=figure + ", offline datasets",
            ours=f"zoo sweep --workers 2 {seconds['sweep']:.0f} s",
            reference=f"{len(pairs)} zoo run processes in turn {seconds['sequential']:.0f} s",
            ratio=speedup,
            goal=f">= {SPEEDUP_GOAL}x",
            met=speedup >= SPEEDUP_GOAL,
            note=f"{os.cpu_count()} cores; each zoo run gets its default threads, each sweep run 1",
        )
    )
    growth = seconds["busy"] / seconds["sweep"]
    emit(
        Row(
            row=15,
            figure=figure + ", one other CPU-bound process",
            ours=f"zoo sweep --workers 2 beside a busy core {seconds['busy']:.0f} s",
            reference=f"the same sweep, quiet {seconds['sweep']:.0f} s",
            ratio=growth,
            goal=f"<= {BUSY_GOAL}x (busy/quiet: lower is better)",
            met=growth <= BUSY_GOAL,
        )
    )


if __name__ == "__main__":
    main()
