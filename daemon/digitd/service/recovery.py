"""Finish what a crash left between 'outputs durable' and 'original moved'.

Run at start-up, before the inbox is watched. Every ledger row records its
planned destination before the original moves, so each interrupted document
can be completed exactly once:

- ``processing`` with a rollup append on record: if the rows reached the file
  the outputs are durable too (they are written first): the row becomes
  ``written``; a torn append is cut back and the document is simply read
  again when the inbox is scanned.
- ``written`` / ``failing``: move the original (if it is still in the inbox
  with the same bytes) to its destination, writing ``NAME.error.json`` first
  for a failure; then mark the row ``done`` / ``failed``.
- ``processing`` without an append on record: nothing to do; the file is in
  the inbox and is read again under the same output stem.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from digitd.service.disposition import free_destination, move_file, write_error_report
from digitd.service.ledger import Ledger, LedgerRow, utc_now
from digitd.service.outbox import check_rollup

__all__ = ["Recovered", "finish_interrupted", "sha256_file"]


@dataclass(frozen=True, slots=True)
class Recovered:
    """One interrupted document and what became of its original.

    ``original`` is the destination path, ``"deleted"``, ``"kept"``,
    ``"already moved"`` or ``"vanished"``; ``error`` is set when the step
    failed (the row is left as it was, for the next start).
    """

    source: str
    sha256: str
    state: str
    original: str
    error: str | None = None


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def archive_destination(archive: Path | None, relative: Path, sha256: str) -> Path | None:
    """Where a successful original goes: a free name in ``archive``, or None (delete/keep)."""
    if archive is None:
        return None
    return free_destination(archive / relative.parent, relative.name, sha256)


def finish_interrupted(
    ledger: Ledger, *, inbox: Path, archive: Path | None, delete: bool
) -> list[Recovered]:
    """Complete every document a crash interrupted; return what was done.

    Parameters
    ----------
    ledger : Ledger
    inbox : Path
        Sources in the ledger are relative to it.
    archive : Path or None
        The archive folder, or None when originals are deleted or kept.
    delete : bool
        Delete successful originals (``disposition: delete``) instead of keeping
        them, when ``archive`` is None.
    """
    for row in ledger.in_state("processing"):
        if row.rollup is not None and check_rollup(row.rollup):
            destination = archive_destination(archive, Path(row.source), row.sha256)
            ledger.mark_written(
                row.sha256,
                outputs=list(row.outputs),
                destination=None if destination is None else str(destination),
                fields=row.fields or 0,
                timings=row.timings,
            )
    done: list[Recovered] = []
    for row in ledger.in_state("written", "failing"):
        try:
            original = _finish_row(ledger, ledger.get(row.sha256) or row, inbox, delete=delete)
        except OSError as exc:  # one stuck file must not keep the daemon from starting
            done.append(Recovered(row.source, row.sha256, row.state, "left in place", str(exc)))
            continue
        done.append(Recovered(row.source, row.sha256, row.state, original))
    return done


def _finish_row(ledger: Ledger, row: LedgerRow, inbox: Path, *, delete: bool) -> str:
    src = inbox / row.source
    dst = None if row.destination is None else Path(row.destination)
    where = "already moved"
    if src.is_file() and not src.is_symlink() and sha256_file(src) == row.sha256:
        if row.state == "failing" and dst is not None:
            write_error_report(
                dst,
                source=row.source,
                sha256=row.sha256,
                error=row.error or "failed",
                error_type=row.error_type or "internal",
                attempts=row.attempts,
                at=utc_now(),
            )
        if dst is not None:
            if dst.exists():
                dst = free_destination(dst.parent, src.name, row.sha256)
            move_file(src, dst)
            where = str(dst)
        elif delete and row.state == "written":
            src.unlink()
            where = "deleted"
        else:
            where = "kept"
    elif dst is None or not dst.exists():
        where = "vanished"
    ledger.finish(row.sha256)
    return where
