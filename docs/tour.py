"""Write docs/tour.md: the commands below, run for real in a fresh zoo home, with their output.

    nox -s tour        (or `python docs/tour.py` where zoo-core and every plugin are installed)

STEPS is the tour; docs/tour.md is only its record. tests/test_docs.py fails when the two disagree.
A step that exits with another code than it expects stops the script, and nothing is written.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

DOC = Path(__file__).with_name("tour.md")
ROOT = Path(__file__).parent.parent
SHOWN_MODEL = "gru-cell"  # `{run}` in a step: a unique start of the id of this model's first run
TIMEOUT_S = 900  # per step: a hanging command must not hang the script


@dataclass(frozen=True)
class Step:
    command: str
    exit_code: int = 0


STEPS = (
    Step("zoo list"),
    Step("zoo plugins"),
    Step("zoo info lenet5"),
    Step("zoo run lenet5 --quiet"),
    Step("zoo run knn --seeds 0,1,2 --quiet"),
    Step("zoo run sklearn-knn --quiet"),
    Step("zoo run majority-class --dataset breast-cancer --quiet"),
    Step("zoo run gru-cell --seeds 0,1 --quiet"),
    Step("zoo leaderboard --task classification"),
    Step("zoo runs"),
    Step("zoo show {run}"),
    Step("zoo reproduce {run}"),
    Step("zoo run knn --set k=-1", exit_code=2),
    Step("zoo run lenet5 --set lr=fast", exit_code=2),
    Step("zoo run lenet5 --dataset noisy-sine", exit_code=2),
    Step("zoo run lenet-5", exit_code=2),
    Step("zoo run lenet5 --dataset mnist", exit_code=2),
    Step("zoo new-plugin my-model --dir src"),
)

PROMPT = "$ "
EXIT_LINE = "(exit code {})"
EXIT = re.compile(r"^\(exit code (\d+)\)$")
BLOCK = re.compile(r"^```console\n(.*?)^```$", re.S | re.M)


def pattern(step: Step) -> re.Pattern[str]:
    """What the step's `$` line may be in the doc: `{run}` stands for whichever id the tour used."""
    return re.compile(re.escape(step.command).replace(re.escape("{run}"), r"\S+"))


def shown(doc: str) -> list[tuple[str, int]]:
    """The commands the doc shows, in order, with the exit code it records (0 when it records none)."""
    steps = []
    for block in BLOCK.finditer(doc):
        lines = block[1].splitlines()
        if lines and lines[0].startswith(PROMPT):
            code = EXIT.match(lines[-1]) if len(lines) > 1 else None
            steps.append((lines[0][len(PROMPT) :], int(code[1]) if code else 0))
    return steps


def block(command: str, output: str, exit_code: int) -> str:
    lines = [PROMPT + command, *output.rstrip("\n").splitlines()]
    if exit_code:
        lines.append(EXIT_LINE.format(exit_code))
    return "```console\n" + "\n".join(lines) + "\n```\n"


def unique_start(run_id: str, others: list[str]) -> str:
    """The shortest start of ``run_id`` no other id shares, extended to the end of its word."""
    shared = max((len(os.path.commonprefix([run_id, o])) for o in others if o != run_id), default=0)
    end = run_id.find("-", shared + 1)
    return run_id if end == -1 else run_id[:end]


def cpu_name() -> str:
    cpuinfo = Path("/proc/cpuinfo")
    names = re.findall(r"^model name\s*:\s*(.+)$", cpuinfo.read_text(), re.M) if cpuinfo.exists() else []
    return names[0] if names else platform.processor() or platform.machine()


def machine() -> str:
    import torch

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    gpu = f"GPU {torch.cuda.get_device_name(0)}" if torch.cuda.is_available() else "no GPU"
    return f"{platform.system()} {platform.machine()}, {cores} CPU cores available ({cpu_name()}), {gpu}"


def git(*args: str) -> str | None:
    """What git prints in this checkout, or None without git or outside one."""
    if shutil.which("git") is None:
        return None
    done = subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True)
    return done.stdout.strip() if done.returncode == 0 else None


def versions() -> str:
    import torch

    named = [("Python", platform.python_version()), ("torch", torch.__version__)]
    named += [(dist, metadata.version(dist)) for dist in ("numpy", "zoo-core")]
    text = ", ".join(f"{name} {version}" for name, version in named)
    commit = git("rev-parse", "--short=12", "HEAD")
    if commit:
        dirty = " plus uncommitted changes" if git("status", "--porcelain") else ""
        text += f", git commit {commit}{dirty}"
    return text


def load_note(load: float | None) -> str:
    if load is None:
        return ""
    return f"- Load: {load:.1f} (1-minute average) when it started; other work stretches the durations.\n"


def preface(started: datetime, seconds: float, load: float | None) -> str:
    return f"""# A tour of the command line

<!-- Written by docs/tour.py (`nox -s tour`): change the steps there, not this file. -->

This is real output, written by `python docs/tour.py` (which `nox -s tour` runs) on {started:%Y-%m-%d}
in {seconds / 60:.1f} min. Every command ran in a fresh zoo home in a temporary folder, offline
(`ZOO_OFFLINE=1`, so `mnist` is not found and LeNet-5 falls back to `digits`).

- Machine: {machine()}.
- Versions: {versions()}.
{load_note(load)}
Run ids, start times, durations and temporary paths are what that run produced, and differ every time.
A command that fails on purpose shows its exit code after its output (standard error and standard
output are shown together, in the order they were written).
"""


def zoo_command() -> list[str]:
    """The `zoo` of this interpreter's environment, whatever else is on PATH."""
    beside = Path(sys.executable).with_name("zoo")
    return [str(beside)] if beside.exists() else [sys.executable, "-m", "zoo_core"]


def tour() -> str:
    started, clock = datetime.now(timezone.utc), time.monotonic()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with tempfile.TemporaryDirectory(prefix="zoo-tour-") as folder:
        workdir = Path(folder)
        env = {k: v for k, v in os.environ.items() if not k.startswith("ZOO_")}
        env.update(ZOO_HOME=str(workdir / "home"), ZOO_OFFLINE="1", PYTHONUNBUFFERED="1", COLUMNS="120")
        # Written bytecode spares every step recompiling torch (about 20 s of CPU each).
        env.pop("PYTHONDONTWRITEBYTECODE", None)

        def zoo(*args: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [*zoo_command(), *args],
                cwd=workdir,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
                timeout=TIMEOUT_S,
            )

        blocks = []
        for step in STEPS:
            command = step.command
            if "{run}" in command:
                runs = json.loads(zoo("runs", "--json", "--limit", "1000000").stdout)
                ids = [r["run_id"] for r in runs]
                chosen = next(r["run_id"] for r in runs if r["model"] == SHOWN_MODEL)
                command = command.replace("{run}", unique_start(chosen, ids))
            print(PROMPT + command, file=sys.stderr, flush=True)
            result = zoo(*shlex.split(command)[1:])
            if result.returncode != step.exit_code:
                sys.exit(
                    f"tour: `{command}` exited {result.returncode}, expected {step.exit_code}; "
                    f"{DOC.name} is unchanged. Its output:\n{result.stdout}"
                )
            blocks.append(block(command, result.stdout, result.returncode))
    return preface(started, time.monotonic() - clock, load) + "\n" + "\n".join(blocks)


if __name__ == "__main__":
    DOC.write_text(tour())
    print(f"wrote {DOC}", file=sys.stderr)
