"""Decide when a file in the inbox is complete enough to take.

A scanner may write a page in slow chunks, or pause between them, or write a
temporary name and rename it. A file is taken only after it has stayed
unchanged (size and mtime) for a quiet period:

- ``settle_seconds`` after a close-after-write event (the writer said it is done);
- ``stable_seconds`` after a created, modified or moved event, or when a scan
  finds it (polling mode, rescans) - except a file found by a scan whose mtime
  is already older than ``stable_seconds``, which needs only ``settle_seconds``.

Any change restarts the quiet period; a file is never given up on for being
busy. The tracker only decides; the caller stats nothing itself.
"""

from __future__ import annotations

import os
import stat
import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

__all__ = ["Hint", "Ready", "StabilityTracker"]


class Hint(Enum):
    """What made the caller look at a file."""

    CLOSED = "closed"  # close-after-write
    CHANGED = "changed"  # created, modified, moved in
    SCANNED = "scanned"  # found by a directory scan


@dataclass(frozen=True, slots=True)
class Ready:
    """A file that has been quiet long enough.

    Attributes
    ----------
    path : Path
    size : int
    mtime_ns : int
    quiet_seconds : float
        How long its size and mtime have been unchanged, as observed.
    """

    path: Path
    size: int
    mtime_ns: int
    quiet_seconds: float


@dataclass(slots=True)
class _Tracked:
    size: int
    mtime_ns: int
    quiet_since: float
    required: float
    due: float


class StabilityTracker:
    """Files being watched for completeness.

    Parameters
    ----------
    settle_seconds : float
        Quiet period after a close-after-write event.
    stable_seconds : float
        Quiet period otherwise.
    """

    def __init__(self, *, settle_seconds: float, stable_seconds: float) -> None:
        self.settle_seconds = float(settle_seconds)
        self.stable_seconds = float(stable_seconds)
        self._files: dict[Path, _Tracked] = {}

    def __contains__(self, path: object) -> bool:
        return path in self._files

    def __len__(self) -> int:
        return len(self._files)

    def note(self, path: Path, hint: Hint, *, now: float | None = None) -> None:
        """Start or refresh tracking of ``path`` (a file that may still be written)."""
        now = time.monotonic() if now is None else now
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            self._files.pop(path, None)
            return
        if not stat.S_ISREG(st.st_mode):
            self._files.pop(path, None)
            return
        old_enough = time.time() - st.st_mtime > self.stable_seconds
        if hint is Hint.CLOSED or (hint is Hint.SCANNED and old_enough):
            required = self.settle_seconds
        else:
            required = self.stable_seconds
        old = self._files.get(path)
        if old is not None and (old.size, old.mtime_ns) == (st.st_size, st.st_mtime_ns):
            # Unchanged: keep the quiet clock; a close event may shorten the wait.
            if hint is Hint.CLOSED:
                old.required = min(old.required, required)
            old.due = min(old.due, old.quiet_since + old.required)
            return
        self._files[path] = _Tracked(st.st_size, st.st_mtime_ns, now, required, now + required)

    def require(self, ready: Ready, seconds: float, *, now: float | None = None) -> None:
        """Track a file handed out as ready again, asking for ``seconds`` of quiet.

        Used when a file looked complete but did not decode: if it is still
        being written it will change; if not, it is handed back once it has
        been quiet for ``seconds`` in all.
        """
        now = time.monotonic() if now is None else now
        try:
            st = os.stat(ready.path, follow_symlinks=False)
        except OSError:
            self._files.pop(ready.path, None)
            return
        quiet_since = now
        if (ready.size, ready.mtime_ns) == (st.st_size, st.st_mtime_ns):
            quiet_since = now - ready.quiet_seconds
        self._files[ready.path] = _Tracked(
            st.st_size, st.st_mtime_ns, quiet_since, seconds, max(now, quiet_since + seconds)
        )

    def forget(self, path: Path) -> None:
        self._files.pop(path, None)

    def pop_ready(self, *, now: float | None = None) -> list[Ready]:
        """Stat the files whose quiet period is over; return (and stop tracking) the complete ones.

        A file that changed starts a new quiet period; a file that vanished is
        dropped; a file that cannot be opened for reading (locked, no
        permission yet) is checked again later.
        """
        now = time.monotonic() if now is None else now
        ready: list[Ready] = []
        for path, t in list(self._files.items()):
            if t.due > now:
                continue
            try:
                st = os.stat(path, follow_symlinks=False)
            except OSError:
                del self._files[path]
                continue
            if not stat.S_ISREG(st.st_mode):
                del self._files[path]
                continue
            if (st.st_size, st.st_mtime_ns) != (t.size, t.mtime_ns):
                t.size, t.mtime_ns, t.quiet_since = st.st_size, st.st_mtime_ns, now
                t.required = max(t.required, self.stable_seconds)
                t.due = now + t.required
                continue
            if not _is_readable(path):
                t.due = now + max(self.settle_seconds, 0.5)
                continue
            del self._files[path]
            ready.append(Ready(path, st.st_size, st.st_mtime_ns, now - t.quiet_since))
        return ready

    def next_due(self) -> float | None:
        """Monotonic time of the earliest pending check, or None when idle."""
        return min((t.due for t in self._files.values()), default=None)


def _is_readable(path: Path) -> bool:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return False
    os.close(fd)
    return True
