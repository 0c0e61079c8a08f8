"""The machine's bad days: a full disk and a read-only home. Each is one line, no run is recorded
with files missing, and the database stays as it was.

Two ways in. In this process, the write functions raise the OSError a full disk raises, and SQLite
fills up for real once it may not grow the file (``PRAGMA max_page_count``). In a real process,
where the machine allows it: a tiny tmpfs that really fills, and a read-only bind mount that
really refuses writes. Tests often run as root, whom file permissions never stop, so ``chmod``
proves nothing there; a read-only *mount* stops root too. Mounting needs no privilege inside a
user namespace (``unshare -rm``), which most Linux machines allow; where it is not allowed, and
the tests do not run as root, ``chmod`` stands in, and otherwise those variants are skipped.
"""

from __future__ import annotations

import errno
import functools
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest


def integrity(database: Path) -> str:
    with closing(sqlite3.connect(database)) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0]


def error_line(result) -> str:
    """The one error line of a command that stopped on its machine (exit 2, no traceback)."""
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if line.startswith("zoo: error:")]
    return line


def fails_with(errno_: int, when):
    """A replacement for a write method that raises OSError(errno_) when ``when(path)`` holds."""

    def install(monkeypatch, name: str) -> None:
        original = getattr(Path, name)

        @functools.wraps(original)
        def write(path, data, *args, **kwargs):
            if when(path):
                original(path, data[: len(data) // 2], *args, **kwargs)  # half written, as a full disk does
                raise OSError(errno_, os.strerror(errno_), str(path))
            return original(path, data, *args, **kwargs)

        monkeypatch.setattr(Path, name, write)

    return install


def plots_fail(errno_: int):
    def install(monkeypatch, name: str) -> None:
        def savefig(*args, **kwargs):
            raise OSError(errno_, os.strerror(errno_))

        monkeypatch.setattr(f"zoo_core.plots.{name}", savefig)

    return install


def marker_fails(errno_: int):
    """The run's INCOMPLETE marker cannot be written (markers.mark writes it through os.write)."""

    def install(monkeypatch, name: str) -> None:
        from zoo_core import markers

        def write(descriptor, data):
            raise OSError(errno_, os.strerror(errno_))

        monkeypatch.setattr(markers.os, "write", write)

    return install


def sqlite_full(monkeypatch, name: str) -> None:
    """SQLite really runs out of room: the file may not grow by a single page, and the row needs
    several (a long note)."""
    from dataclasses import replace

    from zoo_core import runner
    from zoo_core.store import Store

    opened, row = Store._open_for_writing, runner.row
    monkeypatch.setattr(runner, "row", lambda *args: replace(row(*args), note="n" * 65536))

    def full(self):
        connection = opened(self)
        (pages,) = connection.execute("PRAGMA page_count").fetchone()
        connection.execute(f"PRAGMA max_page_count = {pages}")
        return connection

    monkeypatch.setattr(Store, "_open_for_writing", full)


# Where the disk fills up during `zoo run`, and what the one line must say.
FULL = {
    "the config file": (
        fails_with(errno.ENOSPC, lambda p: p.name == "config.json"),
        "write_text",
        "no space",
    ),
    "the marker": (marker_fails(errno.ENOSPC), "", "no space"),
    "the weights": (fails_with(errno.ENOSPC, lambda p: p.name == "weights.pt"), "write_bytes", "no space"),
    "the weights, over quota": (
        fails_with(errno.EDQUOT, lambda p: p.name == "weights.pt"),
        "write_bytes",
        "quota",
    ),
    "the metrics file": (
        fails_with(errno.ENOSPC, lambda p: p.name == "metrics.json"),
        "write_text",
        "no space",
    ),
    "the loss curve": (plots_fail(errno.ENOSPC), "loss_curve", "no space"),
    "the confusion matrix": (plots_fail(errno.ENOSPC), "confusion_matrix", "no space"),
    "a plot, on a file system remounted read-only": (plots_fail(errno.EROFS), "loss_curve", "read-only"),
    "the row": (sqlite_full, "", "the disk is full"),
}


@pytest.mark.parametrize("case", FULL.values(), ids=FULL.keys())
def test_a_full_disk_is_one_line_and_no_row(case, home, recorded, zoo):
    install, name, said = case
    recorded("run-before")
    database = home / "results.sqlite"
    before = database.read_bytes()
    with pytest.MonkeyPatch.context() as patch:
        install(patch, name)
        line = error_line(zoo("run", "toy-mlp", "--quiet", check=False))
    assert said in line and ("nothing was recorded" in line or "was not recorded" in line), line
    assert "folder was removed" in line
    assert [r["run_id"] for r in json.loads(zoo("runs", "--json").stdout)] == ["run-before"]
    assert sorted(p.name for p in (home / "runs").iterdir()) == ["run-before"]
    assert integrity(database) == "ok" and database.read_bytes() == before
    zoo("run", "toy-mlp", "--quiet")  # once there is room again, the store takes runs
    assert len(json.loads(zoo("runs", "--json").stdout)) == 2


@functools.cache
def can_mount() -> bool:
    """Whether this machine lets an unprivileged user namespace mount (tmpfs, read-only binds)."""
    if not sys.platform.startswith("linux") or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt 2>/dev/null || mount -t tmpfs tmpfs /tmp"],
        capture_output=True,
    )
    return probe.returncode == 0


needs_mount = pytest.mark.skipif(not can_mount(), reason="no user namespaces to mount in")

# Runs inside the namespace, where a tiny tmpfs is mounted over the zoo home: the home recorded
# before comes back onto it, the disk is filled to leave `free` bytes, and a second run tries its
# luck. Reports what happened, since the tmpfs dies with the namespace.
TMPFS_SCENARIO = """
import json, os, shutil, sqlite3, sys
from pathlib import Path

from zoo_core.testing import invoke

home, saved, free = Path(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
shutil.copytree(saved, home, dirs_exist_ok=True)
room = os.statvfs(home).f_bavail * os.statvfs(home).f_frsize
try:
    (home / "filler").write_bytes(bytes(max(0, room - free)))
except OSError:
    pass
second = invoke("run", "toy-mlp", "--seed", "1", "--quiet", "--threads", "1", home=home, check=False)
(home / "filler").unlink()
with sqlite3.connect(home / "results.sqlite") as db:
    check = db.execute("PRAGMA integrity_check").fetchone()[0]
    rows = db.execute("SELECT seed, status, run_dir FROM runs ORDER BY seed").fetchall()
folders = {path.name: sorted(p.name for p in path.iterdir()) for path in (home / "runs").iterdir()}
print(json.dumps({"code": second.code, "stderr": second.stderr, "integrity": check, "rows": rows,
                  "folders": folders}))
"""

RUN_FILES = ["config.json", "confusion_matrix.png", "loss_curve.png", "metrics.json", "weights.pt"]


@pytest.mark.integration  # a `zoo` process in its own mount namespace: `nox -s processes`
@needs_mount
@pytest.mark.parametrize("free", [0, 48 * 1024, 4 * 1024 * 1024], ids=lambda n: f"{n} B free")
def test_a_really_full_disk_loses_no_row_and_records_no_half_run(free, home, env, tmp_path, zoo):
    zoo("run", "toy-mlp", "--quiet", "--threads", "1")
    saved = shutil.copytree(home, tmp_path / "saved")
    command = 'mount -t tmpfs -o size=4m tmpfs "$1" && shift && exec "$@"'
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", command, "sh", str(home), sys.executable, "-c", TMPFS_SCENARIO]
        + [str(home), str(saved), str(free)],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["integrity"] == "ok" and "Traceback" not in report["stderr"], report["stderr"]
    recorded = {seed: (status, Path(run_dir).name) for seed, status, run_dir in report["rows"]}
    assert recorded[0][0] == "ok" and report["folders"][recorded[0][1]] == RUN_FILES
    if report["code"] == 0:  # it fitted: then it is whole
        assert recorded[1][0] == "ok" and report["folders"][recorded[1][1]] == RUN_FILES
    else:
        assert report["code"] == 2, report
        [line] = [line for line in report["stderr"].splitlines() if line.startswith("zoo: error:")]
        assert "no space left" in line or "the disk is full" in line, line
        assert list(recorded) == [0] and list(report["folders"]) == [recorded[0][1]]
    assert (report["code"] == 0) == (free > 1024 * 1024)


# Runs inside the namespace, once the read-only bind is in place: what each command did.
READ_ONLY_SCENARIO = """
import json, sys
from pathlib import Path

from zoo_core.testing import invoke

home, run_id = Path(sys.argv[1]), sys.argv[2]
outcomes = {}
commands = {"runs": ["runs", "--json"], "show": ["show", run_id],
            "leaderboard": ["leaderboard", "--format", "csv"], "run": ["run", "toy-mlp", "--quiet"]}
for name, args in commands.items():
    done = invoke(*args, home=home, check=False)
    outcomes[name] = {"code": done.code, "stdout": done.stdout, "stderr": done.stderr}
print(json.dumps(outcomes))
"""

# A writer that dies with its transaction committed to the WAL but not yet copied into the file.
CRASHED_WRITER = """
import os, sqlite3, sys

db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA wal_autocheckpoint=0")
db.executescript("CREATE TEMP TABLE copy AS SELECT * FROM runs; UPDATE copy SET run_id = 'run-in-the-wal';"
                 "INSERT INTO runs SELECT * FROM copy;")
os._exit(0)
"""

READ_ONLY = ["the home", "the home, a crashed writer's WAL in it", "the database file alone"]


def make_read_only(case: str, home: Path) -> tuple[list[str], Path]:
    """The command prefix that runs with ``case`` read-only, and the path made read-only."""
    target = home / "results.sqlite" if case == "the database file alone" else home
    if can_mount():
        bind = 'mount --bind "$1" "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"'
        return ["unshare", "-rm", "sh", "-c", bind, "sh", str(target)], target
    if os.geteuid() == 0:
        pytest.skip("running as root with no user namespaces: nothing here can make a file read-only")
    for path in [target, *(target.iterdir() if target.is_dir() else [])]:
        path.chmod(path.stat().st_mode & ~0o222)
    return [], target


@pytest.mark.integration  # a `zoo` process in its own mount namespace: `nox -s processes`
@pytest.mark.parametrize("case", READ_ONLY)
def test_a_read_only_store_is_read_and_refuses_runs_saying_so(case, home, env, zoo):
    [result] = zoo.json("run", "toy-mlp", "--quiet")
    database = home / "results.sqlite"
    expected = {result["run_id"]}
    if "WAL" in case:
        subprocess.run([sys.executable, "-c", CRASHED_WRITER, str(database)], check=True)
        assert Path(f"{database}-wal").stat().st_size > 0
        expected.add("run-in-the-wal")
    before = database.read_bytes()
    prefix, target = make_read_only(case, home)
    try:
        done = subprocess.run(
            [*prefix, sys.executable, "-c", READ_ONLY_SCENARIO, str(home), result["run_id"]],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
        )
    finally:
        for path in [target, *(target.iterdir() if target.is_dir() else [])]:
            path.chmod(path.stat().st_mode | 0o200)
    assert done.returncode == 0, done.stderr
    outcomes = json.loads(done.stdout)
    for name in ("runs", "show", "leaderboard"):
        assert outcomes[name]["code"] == 0, outcomes[name]["stderr"]
        assert "Traceback" not in outcomes[name]["stderr"]
    assert {row["run_id"] for row in json.loads(outcomes["runs"]["stdout"])} == expected
    assert result["run_id"] in outcomes["show"]["stdout"] and "toy-mlp" in outcomes["leaderboard"]["stdout"]
    run = outcomes["run"]
    assert run["code"] == 2 and "Traceback" not in run["stderr"], run["stderr"]
    [line] = run["stderr"].strip().splitlines()
    assert "read-only" in line and ("still work" in line or "still read it" in line), line
    assert database.read_bytes() == before
    assert [path.name for path in (home / "runs").iterdir()] == [result["run_id"]]


def test_a_home_this_user_may_not_write_refuses_a_run_before_training(monkeypatch, home, recorded, zoo):
    """access() is what tells a read-only runs folder, even to root; here it says no, as it would."""
    recorded("run-before")
    runs = str(home / "runs")
    access = os.access
    monkeypatch.setattr(
        os, "access", lambda path, mode, **kw: False if str(path) == runs else access(path, mode)
    )
    monkeypatch.setattr("zoo_core.runner.fit_model", lambda *args, **kwargs: pytest.fail("it trained"))
    line = error_line(zoo("run", "toy-mlp", "--quiet", check=False))
    assert f"runs folder {runs} is read-only" in line
    assert "run-before" in zoo("runs").stdout
