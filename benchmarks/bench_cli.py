"""Time `zoo list` from a cold process against `python -c "import torch"`.

Run from the repository with zoo-core and every plugin installed: ``python benchmarks/bench_cli.py``.
Both commands run as subprocesses with bytecode caches warm (each runs once first, with
PYTHONDONTWRITEBYTECODE cleared so the caches get written); repeats alternate between them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from timing import Row, emit, interleaved_medians, options

GOAL = 0.3


def command(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(args, env=env, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    # --threads does not apply: both sides are fresh processes with their libraries' defaults.
    args = options(__doc__.splitlines()[0], repeats=5).parse_args()
    zoo = shutil.which("zoo", path=os.path.dirname(sys.executable)) or "zoo"
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": ""}
    runs = {
        "zoo": lambda: command([zoo, "list"], env),
        "torch": lambda: command([sys.executable, "-c", "import torch"], env),
    }
    for run in runs.values():
        run()  # writes and warms the bytecode caches
    # Start-up times are short and the machine noisy: a few more repeats cost little.
    seconds, _ = interleaved_medians(runs, args.repeats)
    ratio = seconds["zoo"] / seconds["torch"]
    emit(
        Row(
            row=6,
            figure="`zoo list` cold start, every plugin installed, warm bytecode caches",
            ours=f"zoo list {seconds['zoo']:.2f} s",
            reference=f'python -c "import torch" {seconds["torch"]:.2f} s',
            ratio=ratio,
            goal=f"<= {GOAL}x (zoo/torch: lower is better)",
            met=ratio <= GOAL,
        )
    )


if __name__ == "__main__":
    main()
