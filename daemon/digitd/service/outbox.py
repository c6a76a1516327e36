"""Durable, atomic files in the outbox.

A downstream job polling the outbox must never see a partial file. Every file
is written under a temporary name in the same folder (a dotfile carrying the
writer's pid, so a later start can tell an orphan from a live writer's file),
fsynced, renamed over its final name, and the folder fsynced.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

from digitd.service.ledger import RollupIntent

__all__ = [
    "TEMP_SUFFIX",
    "append_rollup",
    "check_rollup",
    "choose_stem",
    "fsync_dir",
    "publish_files",
    "remove_orphan_temps",
    "write_atomic",
]

TEMP_SUFFIX = ".digitd-tmp"
_TEMP_RE = re.compile(r"^\..*\.(\d+)\.[0-9a-f]{8}" + re.escape(TEMP_SUFFIX) + r"$")


def fsync_dir(folder: Path) -> None:
    """Make a folder's entries (renames, creations) durable."""
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, sync_dir: bool = True) -> None:
    """Write ``data`` to ``path`` so readers see the old file or the whole new one.

    Parameters
    ----------
    path : Path
        Final name; its folder must exist.
    data : bytes
    sync_dir : bool
        Fsync the folder after the rename. Pass False when writing several
        files to one folder and call :func:`fsync_dir` once at the end.

    Raises
    ------
    OSError
        The folder is not writable or the disk is full; no temporary file is
        left behind.
    """
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}{TEMP_SUFFIX}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        try:
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    if sync_dir:
        fsync_dir(path.parent)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_orphan_temps(folder: Path, *, recursive: bool = False) -> list[Path]:
    """Delete temporary files of writers that no longer run; return them.

    Temporary files of live processes (another ``digitd process`` writing to
    the same outbox) are left alone.
    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    candidates = folder.rglob(f".*{TEMP_SUFFIX}") if recursive else folder.glob(f".*{TEMP_SUFFIX}")
    for path in candidates:
        m = _TEMP_RE.match(path.name)
        if m is None or (_pid_alive(int(m.group(1))) and int(m.group(1)) != os.getpid()):
            continue
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed.append(path)
    return removed


def _json_sha256(path: Path) -> str | None:
    try:
        value = json.loads(path.read_bytes()).get("sha256")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def choose_stem(
    folder: Path,
    stem: str,
    sha256: str,
    *,
    owner_of: Callable[[str], str | None] = lambda _stem: None,
) -> str:
    """The output stem for one input: its own stem unless another input holds it.

    Parameters
    ----------
    folder : Path
        Outbox folder the outputs go to (``stem`` is a file name inside it).
    stem : str
        The input's file name without its extension.
    sha256 : str
        Hex digest of the input's bytes.
    owner_of : callable
        Returns the sha256 that has reserved a stem (the ledger), or None.

    Returns
    -------
    str
        ``stem`` when it is free or already belongs to the same content,
        otherwise ``stem-<first 8 hex of sha256>``.
    """
    owner = owner_of(stem)
    if owner == sha256:
        return stem
    if owner is None:
        existing = folder / f"{stem}.json"
        if not existing.exists() or _json_sha256(existing) == sha256:
            return stem
    return f"{stem}-{sha256[:8]}"


@contextlib.contextmanager
def _locked(path: Path, *, create: bool = True) -> Iterator[int]:
    flags = os.O_RDWR | os.O_APPEND | (os.O_CREAT if create else 0)
    fd = os.open(path, flags, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing drops the lock


def append_rollup(
    path: Path,
    header: bytes,
    rows: bytes,
    *,
    before_append: Callable[[RollupIntent], None] = lambda _intent: None,
) -> RollupIntent | None:
    """Append one document's rows to a rollup CSV under an exclusive file lock.

    The header is written once, by whoever finds the file empty. Rows of one
    document are appended with one write and fsynced, so concurrent appenders
    (another digitd on the same outbox) never interleave.

    Parameters
    ----------
    path : Path
        The rollup file; created if missing.
    header : bytes
        The CSV header line, with its line ending.
    rows : bytes
        This document's CSV rows, each ending with a line ending; may be empty.
    before_append : callable
        Called with the intent (offset, length, digest) while the lock is held
        and before any byte is written, so the ledger can record it.

    Returns
    -------
    RollupIntent or None
        What was appended, or None when there was nothing to append.
    """
    if not rows:
        return None
    with _locked(path) as fd:
        offset = os.fstat(fd).st_size
        data = rows if offset > 0 else header + rows
        if offset > 0 and os.pread(fd, 1, offset - 1) != b"\n":
            data = b"\n" + data  # never glue our first row onto a torn line
        intent = RollupIntent(
            path=str(path), offset=offset, length=len(data), sha256=hashlib.sha256(data).hexdigest()
        )
        before_append(intent)
        view = memoryview(data)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    if offset == 0:
        fsync_dir(path.parent)
    return intent


def check_rollup(intent: RollupIntent) -> bool:
    """Whether an append recorded before a crash reached the file; undo a partial one.

    Returns True when the file holds exactly the intended bytes at the
    intended offset. Otherwise the file is cut back to the offset (removing a
    torn tail) and False is returned, so the document's rows can be appended
    again.
    """
    path = Path(intent.path)
    try:
        with _locked(path, create=False) as fd:
            size = os.fstat(fd).st_size
            if size >= intent.offset + intent.length:
                os.lseek(fd, intent.offset, os.SEEK_SET)
                data = os.read(fd, intent.length)
                if hashlib.sha256(data).hexdigest() == intent.sha256:
                    return True
            if size > intent.offset and size <= intent.offset + intent.length:
                os.ftruncate(fd, intent.offset)
                os.fsync(fd)
    except OSError as exc:
        if exc.errno != errno.ENOENT:
            raise
    return False


def publish_files(folder: Path, files: Sequence[tuple[str, bytes]]) -> list[Path]:
    """Write one document's output files atomically into ``folder``, in the given order.

    Each file appears whole under its final name; the folder is fsynced once
    at the end, so when this returns every file is durable.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data in files:
        path = folder / name
        write_atomic(path, data, sync_dir=False)
        written.append(path)
    fsync_dir(folder)
    return written
