"""Watch the inbox: watchdog events and directory scans become candidate files.

The observer thread only puts ``(path, hint)`` pairs on a queue; the daemon's
main loop does everything else. An exception in the handler is caught and
queued as an error, so it can never kill the observer thread (a known failure
of hot folders). If the observer dies anyway, :meth:`InboxWatcher.check_alive`
restarts it; when inotify runs out of watches it falls back to polling.
"""

from __future__ import annotations

import contextlib
import errno
import fnmatch
import logging
import os
import queue
import stat
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from watchdog.events import (
    DirCreatedEvent,
    DirMovedEvent,
    FileClosedEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileSystemEvent,
    FileSystemEventHandler,
)
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

from digitd.service.stability import Hint

__all__ = ["Candidate", "FileFilter", "InboxWatcher", "is_inside", "scan_inbox"]


@dataclass(frozen=True, slots=True)
class Candidate:
    """Something the watcher saw.

    ``hint`` is None for a deletion (``path`` left the inbox), ``"scan"`` asks
    for a scan of the folder ``path``, and ``"error"`` carries ``message``.
    """

    path: Path
    hint: Hint | str | None
    message: str = ""


def is_inside(path: Path, folder: Path) -> bool:
    """Whether ``path`` is ``folder`` or lies below it (both resolved by the caller)."""
    return path == folder or folder in path.parents


@dataclass(frozen=True, slots=True)
class FileFilter:
    """Which names in the inbox are documents.

    Attributes
    ----------
    patterns : tuple of str
        Globs a file name must match (case-insensitive), e.g. ``"*.png"``.
    ignore : tuple of str
        Globs that exclude a file when any part of its relative path matches.
    """

    patterns: tuple[str, ...]
    ignore: tuple[str, ...]

    def is_wanted(self, relative: Path) -> bool:
        """Whether the file at ``relative`` (a path inside the inbox) should be read."""
        for part in relative.parts:
            low = part.lower()
            if any(fnmatch.fnmatchcase(low, g.lower()) for g in self.ignore):
                return False
        name = relative.name.lower()
        return any(fnmatch.fnmatchcase(name, p.lower()) for p in self.patterns)

    def is_ignored_dir(self, relative: Path) -> bool:
        return any(
            fnmatch.fnmatchcase(part.lower(), g.lower())
            for part in relative.parts
            for g in self.ignore
        )


def scan_inbox(root: Path, folder: Path, *, recursive: bool) -> Iterator[Path]:
    """Every regular file or symlink below ``folder`` (itself inside ``root``), unsorted.

    Never follows a symlinked folder. Symlinks to files are yielded so the
    caller can log and refuse them.
    """
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return
    for entry in entries:
        try:
            if entry.is_symlink() or entry.is_file(follow_symlinks=False):
                yield Path(entry.path)
            elif recursive and entry.is_dir(follow_symlinks=False):
                yield from scan_inbox(root, Path(entry.path), recursive=recursive)
        except OSError:
            continue


class _Handler(FileSystemEventHandler):
    def __init__(self, events: queue.SimpleQueue[Candidate], wake_fd: int) -> None:
        super().__init__()
        self._events = events
        self._wake_fd = wake_fd

    def dispatch(self, event: FileSystemEvent) -> None:
        try:
            self._route(event)
        except Exception as exc:  # never let an error kill the observer thread
            self._events.put(Candidate(Path(str(event.src_path)), "error", repr(exc)))
        with contextlib.suppress(OSError):  # full pipe: a wake-up is pending anyway
            os.write(self._wake_fd, b"!")

    def _route(self, event: FileSystemEvent) -> None:
        src = Path(os.fsdecode(event.src_path))
        put = self._events.put
        if isinstance(event, FileClosedEvent):
            put(Candidate(src, Hint.CLOSED))
        elif isinstance(event, FileCreatedEvent | FileModifiedEvent):
            put(Candidate(src, Hint.CHANGED))
        elif isinstance(event, FileMovedEvent):
            put(Candidate(src, None))
            put(Candidate(Path(os.fsdecode(event.dest_path)), Hint.CHANGED))
        elif isinstance(event, FileDeletedEvent):
            put(Candidate(src, None))
        elif isinstance(event, DirMovedEvent):
            put(Candidate(Path(os.fsdecode(event.dest_path)), "scan"))
        elif isinstance(event, DirCreatedEvent):
            put(Candidate(src, "scan"))


class InboxWatcher:
    """A watchdog observer on one inbox folder.

    Parameters
    ----------
    inbox : Path
        Resolved inbox folder.
    recursive : bool
    polling : bool
        Use the polling observer (NFS/SMB mounts) instead of the native one.
    poll_interval_seconds : float
    """

    def __init__(
        self, inbox: Path, *, recursive: bool, polling: bool, poll_interval_seconds: float
    ) -> None:
        self.inbox = inbox
        self.recursive = recursive
        self.polling = polling
        self.poll_interval_seconds = poll_interval_seconds
        self.events: queue.SimpleQueue[Candidate] = queue.SimpleQueue()
        # Readable whenever events are queued, so the main loop can sleep on it.
        self.wake_fd, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.restarts = 0
        self.fallback_reason: str | None = None
        self._observer: BaseObserver | None = None
        self._identity: tuple[int, int] = (0, 0)

    def _make(self) -> BaseObserver:
        if self.polling:
            return PollingObserver(timeout=self.poll_interval_seconds)
        return Observer()

    def start(self) -> None:
        """Start observing; fall back to polling when inotify cannot watch the inbox.

        Raises
        ------
        OSError
            Not even the polling observer can start.
        """
        try:
            self._start_one()
        except OSError as exc:
            if self.polling:
                raise
            self.fallback_reason = _explain(exc)
            self.polling = True
            self._start_one()

    def _start_one(self) -> None:
        observer = self._make()
        observer.schedule(
            _Handler(self.events, self._wake_w), str(self.inbox), recursive=self.recursive
        )
        observer.daemon = True
        observer.start()
        self._observer = observer
        st = os.stat(self.inbox)
        self._identity = (st.st_dev, st.st_ino)

    def is_alive(self) -> bool:
        """Whether the observer runs and still watches the inbox folder it started on.

        A deleted (or deleted and recreated) inbox counts as dead: inotify would
        report nothing more about it.
        """
        if self._observer is None or not self._observer.is_alive():
            return False
        try:
            st = os.stat(self.inbox)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self._identity

    def restart(self) -> None:
        """Replace a dead observer (falling back to polling if the native one fails)."""
        self.stop()
        self.restarts += 1
        self.start()

    def stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is None:
            return
        # Stopping makes watchdog log a spurious error from its emitter thread.
        quiet = logging.getLogger("watchdog.observers.inotify")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            observer.stop()
            if observer.is_alive():
                observer.join(timeout=5.0)
        except Exception:  # a dead observer may fail to stop; it is gone either way
            pass
        finally:
            quiet.setLevel(level)

    def close(self) -> None:
        """Stop observing and release the wake-up pipe."""
        self.stop()
        for fd in (self.wake_fd, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def drain(self, limit: int = 10_000) -> list[Candidate]:
        """The queued events, oldest first (at most ``limit``)."""
        with contextlib.suppress(OSError):
            while os.read(self.wake_fd, 4096):
                pass
        out: list[Candidate] = []
        while len(out) < limit:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                break
        return out


def _explain(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return (
            "the system ran out of inotify watches (raise fs.inotify.max_user_watches "
            "with sysctl, or set watch.polling: true); falling back to polling"
        )
    if exc.errno == errno.EMFILE:
        return (
            "too many inotify instances (raise fs.inotify.max_user_instances, or set "
            "watch.polling: true); falling back to polling"
        )
    return f"native file watching failed ({exc}); falling back to polling"


def classify_entry(path: Path, inbox: Path) -> str:
    """What an inbox entry is: ``"file"``, ``"symlink"``, ``"outside"`` or ``"other"``.

    ``"symlink"`` and ``"outside"`` (resolves out of the inbox) are refused.
    """
    try:
        st = os.lstat(path)
    except OSError:
        return "other"
    if stat.S_ISLNK(st.st_mode):
        return "symlink"
    if not stat.S_ISREG(st.st_mode):
        return "other"
    try:
        real = path.resolve(strict=True)
    except OSError:
        return "other"
    return "file" if is_inside(real, inbox) else "outside"


def relative_to_inbox(path: Path, inbox: Path) -> Path | None:
    """``path`` relative to the inbox, or None when it is not inside it."""
    try:
        return path.relative_to(inbox)
    except ValueError:
        return None


def sorted_oldest_first(paths: Sequence[Path]) -> list[Path]:
    """Paths ordered by modification time, oldest first (vanished ones last)."""

    def key(p: Path) -> tuple[float, str]:
        try:
            return (os.lstat(p).st_mtime, str(p))
        except OSError:
            return (float("inf"), str(p))

    return sorted(paths, key=key)
