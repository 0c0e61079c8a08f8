"""Against a real `mlflow server` on 127.0.0.1: a run read back through MlflowClient, and the server
killed in the middle of a run. Slow (the server takes seconds to minutes to start), so these run in
their own nox session, `nox -s mlflow_server`.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from zoo_core import find_run

# Starting the server imports MLflow twice (the command, then its uvicorn app): minutes on a busy machine.
START_TIMEOUT = 300
STOP_TIMEOUT = 30


@dataclass
class Server:
    uri: str
    process: subprocess.Popen[bytes]
    log: Path

    def kill(self) -> None:
        """Stop the server and every process it started (uvicorn's), at once or after STOP_TIMEOUT."""
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)

    def crash(self) -> None:
        """Kill the server and its workers without warning, as an outage would."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=STOP_TIMEOUT)


def wait_until_up(server: Server) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"mlflow server exited with {server.process.returncode}:\n{server.log.read_text()}")
        try:
            with urllib.request.urlopen(f"{server.uri}/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail(f"mlflow server did not answer within {START_TIMEOUT} s:\n{server.log.read_text()}")


@pytest.fixture
def server(tmp_path: Path, port: int) -> Iterator[Server]:
    """A real `mlflow server` on 127.0.0.1, stopped (with its workers) when the test ends."""
    folder = tmp_path / "server"
    folder.mkdir()
    log = folder / "server.log"
    command = [
        str(Path(sys.executable).with_name("mlflow")),
        "server",
        *("--host", "127.0.0.1", "--port", str(port), "--workers", "1"),
        *("--backend-store-uri", f"sqlite:///{folder / 'mlflow.db'}"),
        *("--artifacts-destination", str(folder / "artifacts")),
    ]
    # No background job runner (a dozen more processes), no telemetry from a test.
    env = {**os.environ, "MLFLOW_SERVER_ENABLE_JOB_EXECUTION": "false", "MLFLOW_DISABLE_TELEMETRY": "true"}
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, stdout=output, stderr=subprocess.STDOUT, env=env, cwd=folder, start_new_session=True
        )
    running = Server(f"http://127.0.0.1:{port}", process, log)
    try:
        wait_until_up(running)
        yield running
    finally:
        running.kill()


def test_a_run_logged_to_a_server_reads_back_through_mlflow_client(zoo, server, read_back, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
    result = zoo.run(epochs=4)
    assert result.status == "ok" and result.warnings == (), result.warnings

    logged = read_back(server.uri, result.run_id)
    assert logged.run.info.run_name == result.run_id and logged.status == "FINISHED"
    assert {key: logged.params[key] for key in ("model", "dataset", "seed", "hidden", "epochs", "lr")} == {
        "model": "tiny-mlp",
        "dataset": "tiny-points",
        "seed": "0",
        "hidden": "4",
        "epochs": "4",
        "lr": "0.05",
    }
    assert [step for step, _ in logged.steps("loss")] == [1, 2, 3, 4]
    assert {name: logged.metrics[name] for name in ("accuracy", "f1")} == pytest.approx(dict(result.metrics))
    row = find_run(zoo.home, result.run_id)
    assert logged.tags["zoo.dataset_fingerprint"] == row["dataset_fingerprint"]
    assert {"weights.pt", "loss_curve.png", "confusion_matrix.png", "metrics.json"} <= set(logged.artifacts())
    # The server kept the files, through its artifact proxy, not the zoo home.
    assert list((server.log.parent / "artifacts").rglob("weights.pt"))
    assert not (zoo.home / "mlflow").exists()


def test_the_server_killed_mid_run_costs_one_warning_and_the_run_lands(zoo, server, read_back, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", server.uri)
    monkeypatch.setenv("ZOO_MLFLOW_TIMEOUT", "5")

    def crash_after_first_epoch(epoch: int) -> None:
        if epoch == 1:  # the plugin has logged epoch 1 by now (plugins are called in name order)
            server.crash()

    started = time.monotonic()
    result = zoo.run(on_epoch=crash_after_first_epoch, epochs=4)
    elapsed = time.monotonic() - started

    assert result.status == "ok", result.error
    [line] = result.warnings
    assert "failed in zoo_epoch_finished" in line and "cannot connect" in line
    assert [m for m in zoo.messages if m.startswith("warning:")] == [f"warning: {line}; the run goes on"]
    row = find_run(zoo.home, result.run_id)
    assert row["status"] == "ok" and row["warnings"] == [line] and row["metrics"] == dict(result.metrics)
    assert Path(row["run_dir"], "weights.pt").exists()
    assert elapsed < 120, f"a dead tracker held the run for {elapsed:.0f} s"
