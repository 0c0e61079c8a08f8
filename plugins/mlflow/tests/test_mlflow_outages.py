"""A tracker outage never costs a zoo result: one warning line per run, and the run is recorded.

The servers here are small stand-ins that fail the way real ones do: nothing listening, every
request refused, or a connection accepted and never answered.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from zoo_core import find_run


def one_warning_and_recorded(zoo, result, *words: str) -> str:
    """The run is ok and recorded, with exactly one warning, the plugin's, containing ``words``."""
    assert result.status == "ok", result.error
    [line] = result.warnings
    assert zoo.warnings() == [f"warning: {line}; the run goes on"]
    assert (
        line.startswith("plugin 'mlflow' (zoo-mlflow ") and "the run is recorded, untracked in MLflow" in line
    )
    assert all(word in line for word in words), line
    row = find_run(zoo.home, result.run_id)
    assert row["status"] == "ok" and row["warnings"] == [line] and row["metrics"] == dict(result.metrics)
    return line


def test_nothing_listening_costs_one_warning(zoo, port, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"http://127.0.0.1:{port}")
    line = one_warning_and_recorded(zoo, zoo.run(), "zoo_run_started", "cannot connect")
    assert f"MLflow at http://127.0.0.1:{port} did not take run" in line


class Refusing(BaseHTTPRequestHandler):
    """Every request answered as MLflow answers a user without permission."""

    def _refuse(self) -> None:
        body = json.dumps(
            {"error_code": "PERMISSION_DENIED", "message": "read-only tracking server"}
        ).encode()
        self.send_response(403)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _refuse

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def refusing() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Refusing)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_refused_write_costs_one_warning(zoo, refusing, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", refusing)
    one_warning_and_recorded(zoo, zoo.run(), "PERMISSION_DENIED")


@pytest.fixture
def silent() -> Iterator[str]:
    """A server that accepts connections and never answers."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    stop.set()
    thread.join(timeout=5)
    for connection in held:
        connection.close()
    listener.close()


def test_a_server_that_never_answers_holds_the_run_for_the_timeout_only(zoo, silent, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", silent)
    monkeypatch.setenv("ZOO_MLFLOW_TIMEOUT", "2")
    monkeypatch.setenv("ZOO_MLFLOW_RETRIES", "0")
    zoo.run()  # a first run pays for importing torch and MLflow, so that the second is timed alone
    zoo.messages.clear()
    started = time.monotonic()
    result = zoo.run()
    waited = time.monotonic() - started
    one_warning_and_recorded(zoo, result, "no answer within 2 s")
    # MLflow's defaults would wait 120 s a try, 8 tries; one bounded try plus a tiny run is seconds.
    assert waited < 60


def test_a_setting_it_cannot_use_costs_one_warning_that_names_it(zoo, monkeypatch):
    monkeypatch.setenv("ZOO_MLFLOW_TIMEOUT", "soon")
    result = zoo.run()
    assert result.status == "ok"
    [line] = result.warnings
    assert "ZOO_MLFLOW_TIMEOUT must be a whole number, 1 or more; got 'soon'" in line
