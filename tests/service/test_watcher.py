"""Which files the watcher takes, and the events a real observer delivers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from digitd.service.stability import Hint
from digitd.service.watcher import Candidate, FileFilter, InboxWatcher, classify_entry, scan_inbox

FILTER = FileFilter(
    patterns=("*.png", "*.jpg", "*.jpeg", "*.tif", "*.tiff", "*.bmp", "*.pdf"),
    ignore=(".*", "*.tmp", "*.part", "*.crdownload", "~*"),
)


@pytest.mark.parametrize(
    ("name", "wanted"),
    [
        ("cheque.png", True),
        ("CHEQUE.PNG", True),
        ("scan 1 é.TIFF", True),
        ("notes.txt", False),
        (".cheque.png", False),
        ("cheque.png.part", False),
        ("~cheque.png", False),
        ("upload.tmp", False),
        ("sub/cheque.pdf", True),
        (".hidden/cheque.pdf", False),
    ],
)
def test_patterns_and_ignore_globs(name: str, wanted: bool) -> None:
    assert FILTER.is_wanted(Path(name)) is wanted


def test_symlinks_and_paths_leading_outside_are_refused(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    outside = tmp_path / "secret.png"
    outside.write_bytes(b"x")
    (inbox / "link.png").symlink_to(outside)
    (inbox / "real.png").write_bytes(b"x")
    (inbox / "sub").mkdir()
    assert classify_entry(inbox / "link.png", inbox) == "symlink"
    assert classify_entry(inbox / "real.png", inbox) == "file"
    assert classify_entry(inbox / "sub", inbox) == "other"
    assert classify_entry(inbox / "missing.png", inbox) == "other"


def test_scan_lists_files_and_recurses_only_when_asked(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "b.png").write_bytes(b"x")
    (tmp_path / "linkdir").symlink_to(tmp_path / "sub")
    flat = {p.name for p in scan_inbox(tmp_path, tmp_path, recursive=False)}
    deep = {
        p.relative_to(tmp_path).as_posix() for p in scan_inbox(tmp_path, tmp_path, recursive=True)
    }
    assert flat == {"a.png", "linkdir"}
    assert deep == {"a.png", "sub/b.png", "linkdir"}  # a symlinked folder is not followed


def _wait_for(watcher: InboxWatcher, want: Candidate, timeout: float = 5.0) -> list[Candidate]:
    seen: list[Candidate] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        seen.extend(watcher.drain())
        if want in seen:
            return seen
        time.sleep(0.05)
    raise AssertionError(f"{want} not among {seen}")


@pytest.mark.parametrize("polling", [False, True])
def test_observer_reports_writes_and_moves_into_the_inbox(tmp_path: Path, polling: bool) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    watcher = InboxWatcher(inbox, recursive=True, polling=polling, poll_interval_seconds=0.1)
    watcher.start()
    try:
        assert watcher.is_alive()
        (inbox / "a.png").write_bytes(b"data")
        hint = Hint.CHANGED if polling else Hint.CLOSED
        _wait_for(watcher, Candidate(inbox / "a.png", hint))
        staged = tmp_path / "staged.png"
        staged.write_bytes(b"data")
        os.rename(staged, inbox / "b.png")
        _wait_for(watcher, Candidate(inbox / "b.png", Hint.CHANGED))
        folder = tmp_path / "batch"
        folder.mkdir()
        (folder / "c.png").write_bytes(b"data")
        os.rename(folder, inbox / "batch")
        seen = _wait_for(watcher, Candidate(inbox / "batch", "scan")) if not polling else []
        if polling:  # the polling observer reports the files of a moved-in folder itself
            seen = _wait_for(watcher, Candidate(inbox / "batch" / "c.png", Hint.CHANGED))
        assert seen
    finally:
        watcher.close()
    assert not watcher.is_alive()


def test_a_dead_observer_is_restarted(tmp_path: Path) -> None:
    watcher = InboxWatcher(tmp_path, recursive=False, polling=False, poll_interval_seconds=1.0)
    watcher.start()
    watcher._observer.stop()  # simulate the observer thread dying
    watcher._observer.join(5)
    assert not watcher.is_alive()
    watcher.restart()
    try:
        assert watcher.is_alive() and watcher.restarts == 1
        (tmp_path / "x.png").write_bytes(b"1")
        _wait_for(watcher, Candidate(tmp_path / "x.png", Hint.CLOSED))
    finally:
        watcher.close()
