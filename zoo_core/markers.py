"""A run folder's INCOMPLETE marker, and whether the run behind it is still going.

A run writes the marker when it starts and removes it once its row is recorded. While it runs,
its process holds an advisory lock (``flock``) on the marker, and the marker names the process
and the host. The lock goes with the process however it ends, even ``kill -9``, so `zoo gc` can
tell a killed run from a live one at once and never removes a run in progress.
"""

from __future__ import annotations

import os
import re
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from .layout import INCOMPLETE

try:
    import fcntl
except ImportError:  # Windows: no flock; the process id alone says whether a run lives
    fcntl = None  # type: ignore[assignment]

# A marker that names no process (written by an older zoo, or while a sweep records a run it
# shipped) is left alone this long after it was written: its writer may be about to finish.
GRACE_S = 60.0
OWNER = re.compile(r"^process (\d+) on host (\S+)( without a lock)?$", re.MULTILINE)
UNLOCKED = " without a lock"  # the file system refused the lock: only the process id tells

# The markers this process holds, by path: the lock lives as long as its file descriptor.
_held: dict[Path, int] = {}


def mark(folder: Path, text: str) -> None:
    """Write ``folder``'s marker saying ``text`` and who runs it, and hold its lock until unmark()."""
    path = folder / INCOMPLETE
    release(folder)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    locked = fcntl is not None
    if locked:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)  # waits only while a `zoo gc` glances at it
        except OSError:  # a file system without locks (some network ones)
            locked = False
    try:
        os.write(descriptor, _owned(text, locked))
    except BaseException:  # a full disk: the run stops here, and the descriptor must not leak
        os.close(descriptor)
        raise
    _held[path] = descriptor


def release(folder: Path, text: str | None = None) -> None:
    """Let go of ``folder``'s marker (the run stopped unrecorded), rewriting it to say ``text``."""
    path = folder / INCOMPLETE
    if text is not None and path.exists():
        path.write_bytes(_owned(text, fcntl is not None))  # stopped: the lock no longer matters
    descriptor = _held.pop(path, None)
    if descriptor is not None:
        os.close(descriptor)


def _owned(text: str, locked: bool) -> bytes:
    owner = f"process {os.getpid()} on host {socket.gethostname()}{'' if locked else UNLOCKED}"
    return f"{text}\n{owner}\n".encode()


def unmark(folder: Path) -> None:
    """Remove ``folder``'s marker: the run is recorded."""
    (folder / INCOMPLETE).unlink()
    release(folder)


@dataclass(frozen=True)
class Liveness:
    """Whether the run of a marked folder may still be going (``running``), and why."""

    running: bool
    reason: str


def liveness(folder: Path, now: float | None = None) -> Liveness:
    """Whether the run that marked ``folder`` still goes: its lock is held, or its process lives."""
    path = folder / INCOMPLETE
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        return Liveness(False, "not marked")
    except OSError as exc:  # a link or something else unreadable in its place: leave it to a person
        return Liveness(True, f"its INCOMPLETE marker cannot be read ({exc.strerror})")
    try:
        lockable = fcntl is not None
        if lockable:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return Liveness(True, "its process holds the marker's lock")
            except OSError:  # no locks on this file system
                lockable = False
        text = os.read(descriptor, 4096).decode(errors="replace")
        age = (now or time.time()) - os.fstat(descriptor).st_mtime
    finally:
        os.close(descriptor)
    owner = OWNER.search(text)
    if owner is None:
        if age < GRACE_S:
            return Liveness(True, f"marked {age:.0f} s ago by a process that gave no id")
        return Liveness(False, "no process holds it")
    pid, host = int(owner.group(1)), owner.group(2)
    if host != socket.gethostname():
        return Liveness(True, f"started on host {host}, where `zoo gc` can tell whether it still runs")
    if (owner.group(3) or not lockable) and _alive(pid):
        return Liveness(True, f"its process {pid} is alive")
    return Liveness(False, f"its process {pid} is gone" if not _alive(pid) else "no process holds it")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    except OSError:
        return False
    return True
