"""What the disk said, in one line: full, read-only, no permission.

A full disk or a read-only home is the machine's state, not a bug and not the model's fault.
The commands report it as one line (a :class:`ZooError`) and never record a run that hit it;
any other ``OSError`` is left alone, so a bug keeps its traceback.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterator
from contextlib import contextmanager

from .errors import ZooError

# The errors a write can meet on a healthy machine, each as the user should read it.
REASONS = {
    errno.ENOSPC: "no space left on the device (the disk is full)",
    errno.EDQUOT: "the disk quota is exceeded",
    errno.EFBIG: "the file is larger than this file system or process may write",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied (read-only for this user)",
    errno.EPERM: "operation not permitted (read-only for this user)",
    errno.EIO: "an input/output error (the disk may be failing)",
}
# Also what the path itself can be wrong about, when a folder is created or opened.
PATH_REASONS = {
    **REASONS,
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EEXIST: "it exists and is a file, not a folder",
    errno.ENAMETOOLONG: "the path is too long",
    errno.ELOOP: "the path has too many symbolic links",
    errno.ENOENT: "it cannot be made there (in /proc, say)",
}


def reason(exc: BaseException, reasons: dict[int, str] = REASONS) -> str | None:
    """Why the disk refused, when ``exc`` (or what caused it) is such an error; None otherwise."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, OSError) and exc.errno in reasons:
            return reasons[exc.errno]
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return None


@contextmanager
def writing(what: str, outcome: str = "") -> Iterator[None]:
    """Turn a refused write of ``what`` into one line, ending with ``outcome`` (what became of it).

    Any other error passes through unchanged.
    """
    try:
        yield
    except OSError as exc:
        why = reason(exc)
        if why is None:
            raise
        raise ZooError(f"could not write {what}: {why}{f'; {outcome}' if outcome else ''}") from None


def ensure_folder(path: os.PathLike[str] | str, what: str) -> None:
    """Create ``path`` (and its parents) if needed, and make sure this process may write in it."""
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as exc:
        why = reason(exc, PATH_REASONS)
        if why is None:
            raise
        raise ZooError(f"cannot create {what} {os.fsdecode(path)}: {why}") from None
    check_writable(path, what)


def check_writable(path: os.PathLike[str] | str, what: str) -> None:
    """Make sure this process could write in the folder ``path``, or create it; create nothing."""
    existing = os.path.abspath(path)
    while not os.path.lexists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ZooError(f"{what} {os.fsdecode(path)} cannot be a folder: {existing} is a file")
    # access() reports a read-only mount even to root, whom file permissions never stop.
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ZooError(
            f"{what} {os.fsdecode(path)} is read-only ({_read_only_reason(existing)}): commands "
            "that record runs cannot write there; runs, show and leaderboard still work"
        )


def _read_only_reason(path: str) -> str:
    try:
        if os.statvfs(path).f_flag & os.ST_RDONLY:
            return REASONS[errno.EROFS]
    except OSError:
        pass
    return "this user may not write in it"
