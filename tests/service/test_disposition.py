"""Moving originals to archive/ and failed/ without ever overwriting."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from digitd.service.disposition import free_destination, move_file, write_error_report

SHA = "0123abcd" + "f" * 56


def test_free_destination_avoids_taken_names(tmp_path: Path) -> None:
    assert free_destination(tmp_path, "a.png", SHA) == tmp_path / "a.png"
    (tmp_path / "a.png").write_bytes(b"1")
    assert free_destination(tmp_path, "a.png", SHA) == tmp_path / "a-0123abcd.png"
    (tmp_path / "a-0123abcd.png").write_bytes(b"2")
    assert free_destination(tmp_path, "a.png", SHA) == tmp_path / "a-0123abcd-2.png"


def test_a_leftover_error_report_also_makes_a_name_taken(tmp_path: Path) -> None:
    (tmp_path / "a.error.json").write_text("{}")
    assert free_destination(tmp_path, "a.png", SHA) == tmp_path / "a-0123abcd.png"


def test_move_file_moves_and_refuses_to_overwrite(tmp_path: Path) -> None:
    src = tmp_path / "in" / "a.png"
    src.parent.mkdir()
    src.write_bytes(b"scan")
    dst = tmp_path / "archive" / "sub" / "a.png"
    move_file(src, dst)
    assert dst.read_bytes() == b"scan" and not src.exists()
    src.write_bytes(b"other")
    with pytest.raises(FileExistsError):
        move_file(src, dst)
    assert src.exists() and dst.read_bytes() == b"scan"


def test_error_report_names_reason_attempts_and_time(tmp_path: Path) -> None:
    original = tmp_path / "failed" / "bad scan.png"
    report = write_error_report(
        original,
        source="bad scan.png",
        sha256=SHA,
        error="file is empty (0 bytes)",
        error_type="input",
        attempts=1,
        at="2026-01-01T00:00:00.000Z",
    )
    assert report == tmp_path / "failed" / "bad scan.error.json"
    body = json.loads(report.read_text())
    assert body["reason"] == "file is empty (0 bytes)"
    assert body["attempts"] == 1
    assert body["failed_at"] == "2026-01-01T00:00:00.000Z"
