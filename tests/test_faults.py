"""Bad days: broken plugins, diverging runs, interrupted and killed runs, concurrent writers,
crafted checkpoints. Each case ends with one clear message and nothing lost."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

BAD_LOADER = """
from zoo_core import DatasetSpec, hookimpl


@hookimpl
def zoo_datasets():
    spec = dict(description="wrong on purpose", source="test", license="CC0", train_size=8, test_size=4,
                input_shape=(2,), classes=("a", "b"))
    return [
        DatasetSpec(name="bad-shape", task="classification", loader="zoo_bad:load_shape", **spec),
        DatasetSpec(name="bad-dtype", task="classification", loader="zoo_bad:load_dtype", **spec),
    ]


def load_shape(data_dir):
    import torch
    from zoo_core.data import Split, Splits

    return Splits(Split(torch.zeros(8, 3), torch.zeros(8, dtype=torch.int64)),
                  Split(torch.zeros(4, 3), torch.zeros(4, dtype=torch.int64)))


def load_dtype(data_dir):
    import torch
    from zoo_core.data import Split, Splits

    return Splits(Split(torch.zeros(8, 2, dtype=torch.float64), torch.zeros(8)),
                  Split(torch.zeros(4, 2), torch.zeros(4, dtype=torch.int64)))
"""

# Trains for a long time and says, through a file, when the first epoch is done.
SLOW = """
import os
from pathlib import Path

from zoo_core import ModelSpec, hookimpl


@hookimpl
def zoo_models():
    return [ModelSpec(name="slow-mlp", task="classification", factory="zoo_toy:build_mlp", summary="slow",
                      reference="tests", defaults={"hidden": 8}, trainer={"epochs": 100_000, "batch_size": 1},
                      default_dataset="toy-points", input_shape=(2,))]


@hookimpl
def zoo_epoch_finished(config, epoch, loss):
    if epoch == 1:
        Path(os.environ["ZOO_TEST_STARTED"]).write_text(config.run_id)
"""


def rows(home: Path) -> list[dict]:
    from zoo_core.store import Store

    return Store(home / "results.sqlite").rows()


def integrity(database: Path) -> str:
    with sqlite3.connect(database) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


@pytest.mark.parametrize(
    ("dataset", "problem"),
    [
        ("bad-shape", "train inputs are shaped (8, 3), not (N, 2) as declared"),
        ("bad-dtype", "train inputs are torch.float64, not torch.float32; train targets are torch.float32"),
    ],
)
def test_a_loader_returning_the_wrong_data_is_refused_naming_the_plugin(dataset, problem, install, home, zoo):
    install("zoo-bad", "1.0", {"bad": "zoo_bad"}, {"zoo_bad": BAD_LOADER})
    result = zoo("run", "toy-mlp", "--dataset", dataset, env={"ZOO_PLUGINS": "toy,bad"}, check=False)
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert f"plugin 'bad' gave dataset '{dataset}' that does not match its spec" in result.stderr
    assert problem in result.stderr
    assert rows(home) == [] and not (home / "runs").exists()


def test_a_diverging_run_is_stopped_and_recorded_as_failed(home, zoo):
    zoo("run", "toy-mlp", "--quiet")
    # SGD with an absurd step overflows the weights at once; that many epochs would run for hours.
    diverging = ["--set", "lr=1e6", "--set", "optimizer=sgd", "--set", "epochs=100000"]
    result = zoo("run", "toy-mlp", "--seed", "1", *diverging, check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "training diverged: the loss became" in result.stderr
    failed = [r for r in rows(home) if r["status"] == "failed"]
    assert len(failed) == 1 and failed[0]["error"].startswith("Diverged: training diverged")
    board = zoo("leaderboard", "--format", "csv").stdout
    assert "nan" not in board.lower() and board.count("toy-mlp") == 1


def default_sigint() -> None:
    """In the child before it starts: a shell that ran pytest in the background (as CI may) leaves
    SIGINT ignored, and Python would then never raise KeyboardInterrupt; a terminal's Ctrl-C would."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_slow_run(tmp_path: Path, install, home: Path, env: dict) -> tuple[subprocess.Popen, str]:
    """Start `zoo run slow-mlp` and wait until its first epoch has finished."""
    install("zoo-slow", "1.0", {"slow": "zoo_slow"}, {"zoo_slow": SLOW})
    started = tmp_path / "started"
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo_core", "run", "slow-mlp", "--quiet"],
        env={
            **os.environ,
            **env,
            "ZOO_PLUGINS": "toy,slow",
            "ZOO_HOME": str(home),
            "ZOO_TEST_STARTED": str(started),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    return process, wait_for(started, process)


def wait_for(started: Path, process: subprocess.Popen) -> str:
    """What ``process`` wrote to ``started`` once its first epoch was done (it must get there)."""
    deadline = time.monotonic() + 180
    while not started.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the run never finished its first epoch"
        time.sleep(0.1)
    return started.read_text()


@pytest.mark.integration  # signals a `zoo` process: `nox -s processes`
def test_ctrl_c_records_nothing_and_marks_the_folder_incomplete(tmp_path, install, home, env, zoo):
    zoo("run", "toy-mlp", "--quiet")  # only the interrupted run needs a process of its own
    process, run_id = start_slow_run(tmp_path, install, home, env)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 130
    assert stderr.strip().splitlines()[-1] == "zoo: interrupted; nothing was recorded for the unfinished run"
    assert [r["model"] for r in rows(home)] == ["toy-mlp"]
    assert "was interrupted" in (home / "runs" / run_id / "INCOMPLETE").read_text()
    assert integrity(home / "results.sqlite") == "ok"


@pytest.mark.integration  # signals a `zoo` process: `nox -s processes`
def test_a_killed_run_records_nothing_and_the_store_stays_valid(tmp_path, install, home, env, zoo):
    zoo("run", "toy-mlp", "--quiet")  # only the killed run needs a process of its own
    process, run_id = start_slow_run(tmp_path, install, home, env)
    process.kill()
    process.communicate(timeout=60)
    assert process.returncode == -signal.SIGKILL
    assert "has not finished" in (home / "runs" / run_id / "INCOMPLETE").read_text()
    assert integrity(home / "results.sqlite") == "ok"
    shown = zoo("show", run_id, check=False)
    assert shown.returncode == 2 and f"run {run_id} did not finish (interrupted or killed)" in shown.stderr
    zoo("run", "toy-mlp", "--seed", "1", "--quiet")  # the store still takes runs
    assert sorted(r["seed"] for r in rows(home)) == [0, 1]


@pytest.mark.integration  # eight processes each importing torch: `nox -s processes`
def test_eight_concurrent_runs_all_land_once(home, env):
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "zoo_core", *f"run toy-mlp --seed {seed} --threads 1 --quiet".split()],
            env={**os.environ, **env, "ZOO_HOME": str(home)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(8)
    ]
    for process in processes:
        _, stderr = process.communicate(timeout=600)
        assert process.returncode == 0, stderr
    recorded = rows(home)
    assert sorted(r["seed"] for r in recorded) == list(range(8))
    assert len({r["run_id"] for r in recorded}) == 8 and {r["status"] for r in recorded} == {"ok"}
    assert integrity(home / "results.sqlite") == "ok"


class Payload:
    """Unpickling this calls Path.touch: what a crafted checkpoint would do with os.system."""

    def __init__(self, target: Path) -> None:
        self.target = target

    def __reduce__(self):
        return (Path.touch, (self.target,))


def test_a_crafted_checkpoint_cannot_run_code(tmp_path, home, zoo):
    from zoo_core.checkpoints import load_weights
    from zoo_core.errors import ZooError

    evidence = tmp_path / "pwned"
    crafted = tmp_path / "weights.pt"
    torch.save({"weight": Payload(evidence)}, crafted)  # saving does not run the payload; loading would
    with pytest.raises(ZooError, match="refusing to load .* not a plain weights file"):
        load_weights(crafted)
    assert not evidence.exists()
    # The same file swapped into a stored run: `zoo reproduce` refuses it too.
    [result] = zoo.json("run", "toy-mlp", "--quiet")
    (Path(result["run_dir"]) / "weights.pt").write_bytes(crafted.read_bytes())
    reproduced = zoo("reproduce", result["run_id"], check=False)
    assert reproduced.returncode == 2 and "refusing to load" in reproduced.stderr
    assert not evidence.exists()


# An observer that reports where the re-run happens, then keeps it busy until it is stopped.
SLEEPY = """
import os
import time
from pathlib import Path

from zoo_core import hookimpl


@hookimpl
def zoo_epoch_finished(config, epoch, loss):
    if "ZOO_TEST_STARTED" in os.environ:
        Path(os.environ["ZOO_TEST_STARTED"]).write_text(str(config.run_dir))
        time.sleep(300)
"""


@pytest.mark.integration  # signals a `zoo` process: `nox -s processes`
@pytest.mark.parametrize("stop", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=["TERM", "INT", "HUP"])
def test_a_stopped_reproduce_removes_its_scratch_folder(stop, install, home, env, tmp_path, zoo):
    [original] = zoo.json("run", "toy-mlp", "--quiet")
    install("zoo-sleepy", "1.0", {"sleepy": "zoo_sleepy"}, {"zoo_sleepy": SLEEPY})
    scratch_root, started = tmp_path / "tmp", tmp_path / "started"
    scratch_root.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "zoo_core", "reproduce", original["run_id"]],
        env={
            **os.environ,
            **env,
            "ZOO_PLUGINS": "toy,sleepy",
            "ZOO_HOME": str(home),
            "TMPDIR": str(scratch_root),
            "ZOO_TEST_STARTED": str(started),
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=default_sigint,
    )
    assert Path(wait_for(started, process)).is_relative_to(scratch_root)
    process.send_signal(stop)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 128 + stop, stderr
    assert "Traceback" not in stderr
    assert list(scratch_root.iterdir()) == []
    assert len(rows(home)) == 1
