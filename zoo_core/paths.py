"""Paths a user gives: checked before anything is written, and files written whole or not at all.

One check per kind of destination, each raising :class:`ZooError` with one line:

- :func:`problem`: why a string cannot be a path at all (empty, not UTF-8 text);
- :func:`check_output`: a file a command writes or overwrites (`--output`, `--plot`);
- :func:`check_new_folder`: a folder a command creates with its missing parents (`new-plugin --dir`).

:func:`write_file` then writes through a temporary file renamed over the target, so a full disk
or a kill never leaves half a file where a good one was.
"""

from __future__ import annotations

import contextlib
import errno
import os
import tempfile
from pathlib import Path

from . import layout
from .errors import ZooError

# When the file system does not say (pathconf), the limit of nearly all of them.
NAME_MAX = 255


def problem(raw: str) -> str | None:
    """Why ``raw`` cannot name a file or folder, or None when it can."""
    if not raw:
        return "the path is empty"
    if "\0" in raw:
        return "the path contains a NUL character"
    try:
        raw.encode("utf-8")
    except UnicodeEncodeError:
        # Paths are printed and recorded as text; a name that is not UTF-8 could be neither.
        return f"the path {raw!r} is not valid UTF-8; rename it or choose another"
    return None


def reason(exc: OSError) -> str:
    """An OS error as a few words a user can act on."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full"
    if exc.errno == errno.EROFS:
        return "the file system is read-only"
    return exc.strerror or str(exc)


def check_output(path: Path, option: str, home: Path | None = None) -> Path:
    """``path`` as a file a command may (over)write; a ZooError naming ``option`` when it may not.

    The folder it goes in must exist (nothing is created on the way), and with ``home`` the
    zoo's own files (the results database, the run and data folders) are never overwritten.
    """
    why = problem(str(path))
    if why:
        raise ZooError(f"{option}: {why}")
    cannot = f"{option}: cannot write {path}"
    try:
        if path.is_dir():
            raise ZooError(f"{option} {path} is a folder; give a file name")
        parent = path.parent
        if not parent.exists():
            raise ZooError(f"{cannot}: its folder does not exist")
        if not parent.is_dir():
            raise ZooError(f"{cannot}: {parent} is not a folder")
        _check_name_lengths([path.name], parent, cannot)
        if path.is_file() or not path.exists():
            _probe(parent)  # a read-only or pseudo file system (/proc) is refused now, not halfway
    except OSError as exc:
        raise ZooError(f"{cannot}: {reason(exc)}") from None
    if home is not None:
        owner = _zoo_file(path, home)
        if owner:
            raise ZooError(f"{cannot}: it is {owner}, which would be lost")
    return path


def _probe(folder: Path) -> None:
    handle, probe = tempfile.mkstemp(dir=folder, prefix=".zoo-", suffix=".probe")
    os.close(handle)
    os.unlink(probe)


def _zoo_file(path: Path, home: Path) -> str | None:
    real = Path(os.path.realpath(path))
    database = Path(os.path.realpath(layout.database_path(home)))
    # The database and its companions (-wal, -shm, -journal) all start with its name.
    if real.parent == database.parent and real.name.startswith(database.name):
        return "the zoo's results database"
    for folder, what in ((layout.runs_dir(home), "run folders"), (layout.data_dir(home), "data folder")):
        if real.is_relative_to(os.path.realpath(folder)):
            return f"inside the zoo's {what} ({folder})"
    return None


def check_new_folder(directory: Path, option: str) -> None:
    """``directory`` exists as a folder or can be created (with its parents); a ZooError if not.

    Checked before anything is created: the nearest existing ancestor must be a folder we may
    write in, and each missing name must fit the file system.
    """
    said = f"{option} {directory}"
    why = problem(str(directory))
    if why:
        raise ZooError(f"{option}: {why}")
    missing: list[str] = []
    existing = Path(os.path.abspath(directory))
    try:
        while not existing.exists():
            missing.insert(0, existing.name)
            existing = existing.parent
        if not existing.is_dir():
            which = "it" if not missing else str(existing)
            raise ZooError(f"{said}: {which} is a file, not a folder")
        _check_name_lengths(missing, existing, said)
        if not os.access(existing, os.W_OK | os.X_OK):
            raise ZooError(f"{said}: no permission to write in {existing}")
    except OSError as exc:
        raise ZooError(f"{said}: {reason(exc)}") from None


def _check_name_lengths(names: list[str], folder: Path, said: str) -> None:
    try:
        limit = os.pathconf(folder, "PC_NAME_MAX")
    except (OSError, ValueError):
        limit = NAME_MAX
    for name in names:
        size = len(os.fsencode(name))
        if size > limit:
            raise ZooError(
                f"{said}: the name {name[:20]!r}… is too long ({size} bytes; the file system allows {limit})"
            )


def create_folders(directory: Path, option: str) -> list[Path]:
    """Create ``directory`` and its missing parents; return those created, outermost first."""
    check_new_folder(directory, option)
    created: list[Path] = []
    for folder in reversed([directory, *directory.parents]):
        if folder.exists():
            continue
        try:
            folder.mkdir()
        except OSError as exc:
            remove_folders(created)
            raise ZooError(f"{option} {directory}: cannot create {folder}: {reason(exc)}") from None
        created.append(folder)
    return created


def remove_folders(created: list[Path]) -> None:
    """Undo :func:`create_folders`: remove the folders it created, if they are still empty."""
    for folder in reversed(created):
        with contextlib.suppress(OSError):
            folder.rmdir()


def write_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` whole or not at all; an OS error is a ZooError saying why.

    A regular file (or a new one) is written next to its place and renamed over it; anything else
    (``/dev/stdout``, a pipe) is written straight through, as the shell's ``>`` would.
    """
    target = Path(os.path.realpath(path))  # through a symlink, as the shell's > does
    try:
        if target.exists() and not target.is_file():
            with open(target, "wb") as stream:
                stream.write(data)
            return
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o666 & ~_umask()
        handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=".zoo-", suffix=".partial")
        try:
            with os.fdopen(handle, "wb") as stream:
                stream.write(data)
            os.chmod(temporary, mode)
            os.replace(temporary, target)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise ZooError(f"cannot write {path}: {reason(exc)}") from None


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
