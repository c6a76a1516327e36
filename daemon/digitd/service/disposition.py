"""Where an original goes when digitd is done with it: archive/ or failed/.

A move is one ``rename`` (atomic on one file system; across file systems a
copy, fsync and unlink), so an input is at every instant in exactly one
place. Names never collide: a taken name gets ``-<sha8>``, then a counter.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
from pathlib import Path

from digitd import output
from digitd.service.outbox import fsync_dir, write_atomic

__all__ = ["error_report_path", "free_destination", "move_file", "write_error_report"]


def free_destination(folder: Path, name: str, sha256: str) -> Path:
    """A path in ``folder`` for a file called ``name`` that no existing file holds.

    ``NAME.EXT`` if free, else ``NAME-<sha8>.EXT``, else ``NAME-<sha8>-2.EXT``, ...
    The companion ``NAME.error.json`` must be free too, so a failed file and its
    report always share a stem.
    """
    stem, ext = os.path.splitext(name)
    candidates = [stem, f"{stem}-{sha256[:8]}"]
    n = 2
    while True:
        for candidate in candidates:
            path = folder / f"{candidate}{ext}"
            if not path.exists() and not error_report_path(path).exists():
                return path
        candidates = [f"{stem}-{sha256[:8]}-{n}"]
        n += 1


def error_report_path(original: Path) -> Path:
    """``failed/NAME.error.json`` beside ``failed/NAME.EXT``."""
    return original.with_name(f"{original.stem}.error.json")


def move_file(src: Path, dst: Path) -> None:
    """Move ``src`` to ``dst`` durably, never overwriting ``dst``.

    Raises
    ------
    FileExistsError
        ``dst`` already exists.
    FileNotFoundError
        ``src`` no longer exists.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    if dst.exists():
        raise FileExistsError(errno.EEXIST, "destination exists", str(dst))
    try:
        os.rename(src, dst)  # digitd alone writes dst's folder, so the check above holds
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise
        _copy_then_unlink(src, dst)
    fsync_dir(dst.parent)
    fsync_dir(src.parent)


def _copy_then_unlink(src: Path, dst: Path) -> None:
    tmp = dst.with_name(f".{dst.name}.{os.getpid()}.partial")
    try:
        with src.open("rb") as fin, tmp.open("xb") as fout:
            shutil.copyfileobj(fin, fout, 1 << 20)
            fout.flush()
            os.fsync(fout.fileno())
        shutil.copystat(src, tmp)
        os.rename(tmp, dst)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    os.unlink(src)


def write_error_report(
    original: Path,
    *,
    source: str,
    sha256: str,
    error: str,
    error_type: str,
    attempts: int,
    at: str,
) -> Path:
    """Write ``NAME.error.json`` (reason, attempts, time) beside a failed original."""
    report = error_report_path(original)
    report.parent.mkdir(parents=True, exist_ok=True)
    body = output.encode_error(
        source=source,
        sha256=sha256,
        reason=error,
        error_type=error_type,
        attempts=attempts,
        failed_at=at,
    )
    write_atomic(report, body)
    return report
