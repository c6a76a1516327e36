"""A file is taken only after a quiet period; changes restart it."""

from __future__ import annotations

import os
from pathlib import Path

from digitd.service.stability import Hint, StabilityTracker


def _tracker() -> StabilityTracker:
    return StabilityTracker(settle_seconds=0.5, stable_seconds=5.0)


def test_a_closed_file_is_ready_after_the_settle_time(tmp_path: Path) -> None:
    f = tmp_path / "a.png"
    f.write_bytes(b"x" * 10)
    t = _tracker()
    t.note(f, Hint.CLOSED, now=100.0)
    assert t.pop_ready(now=100.4) == []
    (ready,) = t.pop_ready(now=100.6)
    assert ready.path == f and ready.size == 10
    assert ready.quiet_seconds >= 0.5
    assert f not in t


def test_a_created_file_needs_the_stable_time(tmp_path: Path) -> None:
    f = tmp_path / "a.png"
    f.write_bytes(b"x")
    t = _tracker()
    t.note(f, Hint.CHANGED, now=100.0)
    assert t.pop_ready(now=104.9) == []
    assert len(t.pop_ready(now=105.1)) == 1


def test_a_growing_file_restarts_its_quiet_period(tmp_path: Path) -> None:
    f = tmp_path / "a.png"
    f.write_bytes(b"x")
    t = _tracker()
    t.note(f, Hint.CLOSED, now=100.0)
    f.write_bytes(b"xx")  # the scanner wrote more
    assert t.pop_ready(now=100.6) == []  # changed: not ready, clock restarted
    assert t.pop_ready(now=105.5) == []  # a change asks for the full stable time
    assert len(t.pop_ready(now=105.7)) == 1


def test_a_scanned_old_file_only_needs_the_settle_time(tmp_path: Path) -> None:
    old = tmp_path / "old.png"
    new = tmp_path / "new.png"
    old.write_bytes(b"x")
    new.write_bytes(b"x")
    os.utime(old, (1_000_000, 1_000_000))
    t = _tracker()
    t.note(old, Hint.SCANNED, now=100.0)
    t.note(new, Hint.SCANNED, now=100.0)
    assert [r.path for r in t.pop_ready(now=100.6)] == [old]


def test_vanished_and_non_regular_files_are_dropped(tmp_path: Path) -> None:
    f = tmp_path / "a.png"
    f.write_bytes(b"x")
    t = _tracker()
    t.note(f, Hint.CLOSED, now=100.0)
    f.unlink()
    assert t.pop_ready(now=101.0) == []
    assert len(t) == 0
    t.note(tmp_path, Hint.CLOSED, now=100.0)
    assert len(t) == 0


def test_require_hands_an_unchanged_file_back_after_the_longer_wait(tmp_path: Path) -> None:
    f = tmp_path / "a.png"
    f.write_bytes(b"x")
    t = _tracker()
    t.note(f, Hint.CLOSED, now=100.0)
    (ready,) = t.pop_ready(now=100.5)
    t.require(ready, 5.0, now=101.0)  # quiet 0.5 s when handed out; time reading is not counted
    assert t.pop_ready(now=105.4) == []
    (again,) = t.pop_ready(now=105.6)
    assert again.quiet_seconds >= 5.0


def test_next_due_is_the_earliest_check(tmp_path: Path) -> None:
    t = _tracker()
    assert t.next_due() is None
    f = tmp_path / "a.png"
    f.write_bytes(b"x")
    t.note(f, Hint.CLOSED, now=10.0)
    assert t.next_due() == 10.5
