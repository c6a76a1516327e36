"""The SQLite ledger: every input the daemon ever took, keyed by sha256.

One row per distinct content. A document moves through these states:

    processing --> written --> done        outputs durable, original disposed of
         \\
          `-----> failing --> failed       error recorded, original in failed/

``processing`` rows left by a crash are taken up again when their file is seen
in the inbox (the attempt counter bounds how often); ``written`` and
``failing`` rows are finished by :func:`digitd.service.daemon` recovery from
the destination recorded before the move. The database runs in WAL mode with
``synchronous=FULL`` so a committed state survives a power cut.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from digitd.errors import DigitdError

__all__ = ["STATES", "Ledger", "LedgerRow", "RollupIntent", "utc_now"]

State = Literal["processing", "written", "done", "failing", "failed"]
STATES: tuple[State, ...] = ("processing", "written", "done", "failing", "failed")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    sha256        TEXT PRIMARY KEY,
    source        TEXT NOT NULL,
    state         TEXT NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    stem          TEXT,
    outputs       TEXT NOT NULL DEFAULT '[]',
    destination   TEXT,
    error         TEXT,
    error_type    TEXT,
    fields        INTEGER,
    timings       TEXT NOT NULL DEFAULT '{}',
    rollup        TEXT,
    duplicates    INTEGER NOT NULL DEFAULT 0,
    first_seen    TEXT NOT NULL,
    started_at    TEXT,
    finished_at   TEXT,
    updated_at    TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_state ON documents (state);
CREATE INDEX IF NOT EXISTS documents_updated ON documents (updated_at);
CREATE TABLE IF NOT EXISTS stems (
    stem    TEXT PRIMARY KEY,
    sha256  TEXT NOT NULL
);
"""


def utc_now() -> str:
    """The current time as ISO 8601 UTC with a ``Z`` suffix, to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class RollupIntent:
    """Where one document's rows go in a daily rollup file, recorded before the append.

    After a crash the bytes at ``offset`` tell whether the append happened.
    """

    path: str
    offset: int
    length: int
    sha256: str


@dataclass(frozen=True, slots=True)
class LedgerRow:
    """One document as the ledger knows it."""

    sha256: str
    source: str
    state: State
    attempts: int
    stem: str | None
    outputs: tuple[str, ...]
    destination: str | None
    error: str | None
    error_type: str | None
    fields: int | None
    timings: dict[str, float]
    rollup: RollupIntent | None
    duplicates: int
    first_seen: str
    started_at: str | None
    finished_at: str | None
    updated_at: str


def _row(r: sqlite3.Row) -> LedgerRow:
    rollup = json.loads(r["rollup"]) if r["rollup"] else None
    return LedgerRow(
        sha256=r["sha256"],
        source=r["source"],
        state=r["state"],
        attempts=int(r["attempts"]),
        stem=r["stem"],
        outputs=tuple(json.loads(r["outputs"])),
        destination=r["destination"],
        error=r["error"],
        error_type=r["error_type"],
        fields=r["fields"],
        timings=json.loads(r["timings"]),
        rollup=None if rollup is None else RollupIntent(**rollup),
        duplicates=int(r["duplicates"]),
        first_seen=r["first_seen"],
        started_at=r["started_at"],
        finished_at=r["finished_at"],
        updated_at=r["updated_at"],
    )


def _lock_exclusively(path: Path) -> int:
    """Hold an exclusive lock on ``path`` for the life of the returned descriptor.

    Raises
    ------
    DigitdError
        Another process holds it (a second daemon on the same ``state_dir``).
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "unknown"
        os.close(fd)
        raise DigitdError(
            f"state_dir {str(path.parent)!r} is in use by another digitd (pid {holder}); "
            "stop that one, or give this one its own state_dir"
        ) from None
    os.ftruncate(fd, 0)
    os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
    return fd


class Ledger:
    """The ledger database at ``path`` (created with its folder if missing).

    Every method is one committed transaction. Not thread-safe: the daemon's
    main loop is its only user. ``exclusive=True`` (the daemon) also locks
    the ledger against a second daemon on the same ``state_dir``.

    Raises
    ------
    DigitdError
        ``exclusive`` and another process holds the ledger.
    """

    def __init__(self, path: Path, *, readonly: bool = False, exclusive: bool = False) -> None:
        self.path = Path(path)
        self._lock_fd: int | None = None
        if exclusive:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._lock_fd = _lock_exclusively(self.path.with_name(self.path.name + ".lock"))
        if readonly:
            uri = f"{self.path.resolve().as_uri()}?mode=ro"
            self._db = sqlite3.connect(uri, uri=True, isolation_level=None, timeout=10.0)
        else:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(self.path, isolation_level=None, timeout=10.0)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        self._db.row_factory = sqlite3.Row

    def close(self) -> None:
        self._db.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # drops the lock
            self._lock_fd = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- reading -----------------------------------------------------------

    def get(self, sha256: str) -> LedgerRow | None:
        r = self._db.execute("SELECT * FROM documents WHERE sha256 = ?", (sha256,)).fetchone()
        return None if r is None else _row(r)

    def in_state(self, *states: State) -> list[LedgerRow]:
        marks = ",".join("?" * len(states))
        rows = self._db.execute(
            f"SELECT * FROM documents WHERE state IN ({marks}) ORDER BY updated_at", states
        ).fetchall()
        return [_row(r) for r in rows]

    def count_by_state(self) -> dict[str, int]:
        counts = dict.fromkeys(STATES, 0)
        for state, n in self._db.execute("SELECT state, COUNT(*) FROM documents GROUP BY state"):
            counts[state] = int(n)
        return counts

    def recent(self, limit: int) -> list[LedgerRow]:
        rows = self._db.execute(
            "SELECT * FROM documents ORDER BY updated_at DESC, rowid DESC LIMIT ?", (limit,)
        ).fetchall()
        return [_row(r) for r in rows]

    def stem_owner(self, stem: str) -> str | None:
        r = self._db.execute("SELECT sha256 FROM stems WHERE stem = ?", (stem,)).fetchone()
        return None if r is None else str(r[0])

    # -- writing -----------------------------------------------------------

    def _update(self, sha256: str, **values: Any) -> None:
        values["updated_at"] = utc_now()
        cols = ", ".join(f"{k} = ?" for k in values)
        cur = self._db.execute(
            f"UPDATE documents SET {cols} WHERE sha256 = ?", (*values.values(), sha256)
        )
        if cur.rowcount != 1:
            raise KeyError(f"no ledger row for sha256 {sha256}")

    def start(self, sha256: str, source: str, stem: str) -> LedgerRow:
        """Record that a document is being processed (one more attempt) under ``stem``.

        The stem is reserved for this content so no other input's outputs take it.
        """
        now = utc_now()
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            self._db.execute(
                "INSERT INTO documents (sha256, source, state, first_seen, updated_at) "
                "VALUES (?, ?, 'processing', ?, ?) ON CONFLICT (sha256) DO NOTHING",
                (sha256, source, now, now),
            )
            self._db.execute(
                "UPDATE documents SET source = ?, state = 'processing', attempts = attempts + 1, "
                "stem = ?, error = NULL, rollup = NULL, destination = NULL, started_at = ?, "
                "finished_at = NULL, updated_at = ? WHERE sha256 = ?",
                (source, stem, now, now, sha256),
            )
            self._db.execute(
                "INSERT INTO stems (stem, sha256) VALUES (?, ?) ON CONFLICT (stem) DO NOTHING",
                (stem, sha256),
            )
        row = self.get(sha256)
        assert row is not None
        return row

    def record_rollup(self, sha256: str, intent: RollupIntent) -> None:
        """Record where the document's rollup rows are about to be appended."""
        self._update(
            sha256,
            rollup=json.dumps(
                {
                    "path": intent.path,
                    "offset": intent.offset,
                    "length": intent.length,
                    "sha256": intent.sha256,
                }
            ),
        )

    def mark_written(
        self,
        sha256: str,
        *,
        outputs: list[str],
        destination: str | None,
        fields: int,
        timings: dict[str, float],
    ) -> None:
        """Outputs are durable; the original is about to go to ``destination``."""
        self._update(
            sha256,
            state="written",
            outputs=json.dumps(outputs),
            destination=destination,
            fields=fields,
            timings=json.dumps(timings),
        )

    def mark_failing(
        self,
        sha256: str,
        *,
        error: str,
        error_type: str,
        destination: str | None,
        outputs: list[str],
    ) -> None:
        """The document failed; the original is about to go to ``destination``."""
        self._update(
            sha256,
            state="failing",
            error=error,
            error_type=error_type,
            destination=destination,
            outputs=json.dumps(outputs),
        )

    def finish(self, sha256: str) -> None:
        """The original reached its destination.

        ``written`` becomes ``done`` and ``failing`` becomes ``failed``.

        Other states are left as they are.
        """
        row = self.get(sha256)
        if row is None:
            raise KeyError(f"no ledger row for sha256 {sha256}")
        final = {"written": "done", "failing": "failed"}.get(row.state, row.state)
        self._update(sha256, state=final, finished_at=utc_now())

    def forget_attempt(self, sha256: str) -> None:
        """Take back an attempt on bytes that turned out to be a file still being written.

        A row created by that attempt alone is deleted with its stem
        reservation; an older row just gets its attempt back.
        """
        with self._db:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute(
                "SELECT attempts, duplicates, state FROM documents WHERE sha256 = ?", (sha256,)
            ).fetchone()
            if row is None or row["state"] != "processing":
                return
            if row["attempts"] <= 1 and row["duplicates"] == 0:
                self._db.execute("DELETE FROM documents WHERE sha256 = ?", (sha256,))
                self._db.execute("DELETE FROM stems WHERE sha256 = ?", (sha256,))
            else:
                self._db.execute(
                    "UPDATE documents SET attempts = attempts - 1 WHERE sha256 = ?", (sha256,)
                )

    def count_duplicate(self, sha256: str) -> None:
        self._db.execute(
            "UPDATE documents SET duplicates = duplicates + 1, updated_at = ? WHERE sha256 = ?",
            (utc_now(), sha256),
        )
