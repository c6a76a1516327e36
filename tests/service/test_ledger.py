"""The SQLite ledger: states, attempts, stems, persistence."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import pytest

from digitd.errors import DigitdError
from digitd.service.ledger import Ledger, RollupIntent

SHA = "a" * 64
OTHER = "b" * 64


def test_a_document_walks_from_processing_to_done(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        row = ledger.start(SHA, "one.png", "one")
        assert (row.state, row.attempts, row.stem) == ("processing", 1, "one")
        ledger.mark_written(
            SHA, outputs=["one.json"], destination="/a/one.png", fields=2, timings={"total": 5.0}
        )
        assert ledger.get(SHA).state == "written"
        ledger.finish(SHA)
        row = ledger.get(SHA)
        assert row.state == "done"
        assert row.outputs == ("one.json",)
        assert row.fields == 2
        assert row.finished_at is not None
        assert ledger.count_by_state()["done"] == 1


def test_failures_end_in_failed_with_their_reason(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        ledger.start(SHA, "bad.png", "bad")
        ledger.mark_failing(
            SHA, error="file is empty", error_type="input", destination="/f/bad.png", outputs=[]
        )
        ledger.finish(SHA)
        row = ledger.get(SHA)
        assert (row.state, row.error, row.error_type) == ("failed", "file is empty", "input")


def test_each_start_counts_an_attempt_and_state_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "state" / "l.db"
    with Ledger(path) as ledger:
        ledger.start(SHA, "one.png", "one")
        ledger.start(SHA, "one.png", "one")
    with Ledger(path) as ledger:
        row = ledger.get(SHA)
        assert (row.state, row.attempts) == ("processing", 2)
        assert [r.sha256 for r in ledger.in_state("processing")] == [SHA]


def test_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    Ledger(tmp_path / "l.db").close()
    db = sqlite3.connect(tmp_path / "l.db")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_a_stem_belongs_to_the_first_content_that_took_it(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        ledger.start(SHA, "one.png", "one")
        ledger.start(OTHER, "one.png", "one-bbbbbbbb")
        assert ledger.stem_owner("one") == SHA
        assert ledger.stem_owner("one-bbbbbbbb") == OTHER
        assert ledger.stem_owner("two") is None


def test_forget_attempt_removes_a_row_made_by_that_attempt_alone(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger:
        ledger.start(SHA, "one.png", "one")
        ledger.forget_attempt(SHA)
        assert ledger.get(SHA) is None
        assert ledger.stem_owner("one") is None
        ledger.start(OTHER, "two.png", "two")
        ledger.start(OTHER, "two.png", "two")
        ledger.forget_attempt(OTHER)
        assert ledger.get(OTHER).attempts == 1


def test_rollup_intent_round_trips(tmp_path: Path) -> None:
    intent = RollupIntent(path="/o/results.csv", offset=10, length=20, sha256=OTHER)
    with Ledger(tmp_path / "l.db") as ledger:
        ledger.start(SHA, "one.png", "one")
        ledger.record_rollup(SHA, intent)
        assert ledger.get(SHA).rollup == intent


def test_recent_lists_newest_first_and_readonly_ledgers_cannot_write(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    with Ledger(path) as ledger:
        ledger.start(SHA, "one.png", "one")
        ledger.start(OTHER, "two.png", "two")
    with Ledger(path, readonly=True) as ledger:
        assert [r.source for r in ledger.recent(5)] == ["two.png", "one.png"]
        with pytest.raises(sqlite3.OperationalError):
            ledger.start("c" * 64, "three.png", "three")


def test_updating_an_unknown_document_is_an_error(tmp_path: Path) -> None:
    with Ledger(tmp_path / "l.db") as ledger, pytest.raises(KeyError, match="no ledger row"):
        ledger.finish(SHA)


def test_an_exclusive_ledger_refuses_a_second_holder(tmp_path: Path) -> None:
    path = tmp_path / "l.db"
    first = Ledger(path, exclusive=True)
    with pytest.raises(DigitdError, match=f"in use by another digitd \\(pid {os.getpid()}\\)"):
        Ledger(path, exclusive=True)
    with Ledger(path, readonly=True) as reader:  # status still reads it
        assert reader.count_by_state()["done"] == 0
    first.close()
    Ledger(path, exclusive=True).close()
