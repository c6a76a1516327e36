"""Atomic outbox files, stem choice, and the locked daily rollup."""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import subprocess
import sys
from pathlib import Path

from digitd.service.ledger import RollupIntent
from digitd.service.outbox import (
    TEMP_SUFFIX,
    append_rollup,
    check_rollup,
    choose_stem,
    publish_files,
    remove_orphan_temps,
    write_atomic,
)

SHA = "1f2e3d4c" + "0" * 56
OTHER = "abcdef12" + "0" * 56
HEADER = b"source,text\n"


def test_write_atomic_replaces_the_file_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a.json"
    write_atomic(target, b"old")
    write_atomic(target, b"new contents")
    assert target.read_bytes() == b"new contents"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.json"]


def test_publish_files_writes_all_in_order_into_a_new_folder(tmp_path: Path) -> None:
    written = publish_files(tmp_path / "sub", [("a.csv", b"x\n"), ("a.json", b"{}")])
    assert [p.name for p in written] == ["a.csv", "a.json"]
    assert (tmp_path / "sub" / "a.json").read_bytes() == b"{}"


def test_orphan_temporaries_of_dead_writers_are_removed_live_ones_kept(tmp_path: Path) -> None:
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    dead_pid = int(dead.stdout)
    orphan = tmp_path / f".a.json.{dead_pid}.0badc0de{TEMP_SUFFIX}"
    live = tmp_path / f".b.json.{os.getppid()}.0badc0de{TEMP_SUFFIX}"
    other = tmp_path / ".hidden"
    for p in (orphan, live, other):
        p.write_bytes(b"partial")
    assert remove_orphan_temps(tmp_path) == [orphan]
    assert live.exists() and other.exists() and not orphan.exists()


def test_a_free_stem_is_kept_and_a_taken_one_gets_the_sha_prefix(tmp_path: Path) -> None:
    assert choose_stem(tmp_path, "cheque", SHA) == "cheque"
    (tmp_path / "cheque.json").write_text(json.dumps({"sha256": OTHER}))
    assert choose_stem(tmp_path, "cheque", SHA) == "cheque-1f2e3d4c"
    (tmp_path / "cheque.json").write_text(json.dumps({"sha256": SHA}))
    assert choose_stem(tmp_path, "cheque", SHA) == "cheque"


def test_a_stem_reserved_by_other_content_is_never_reused(tmp_path: Path) -> None:
    owners = {"cheque": OTHER}
    assert choose_stem(tmp_path, "cheque", SHA, owner_of=owners.get) == "cheque-1f2e3d4c"
    assert choose_stem(tmp_path, "cheque", OTHER, owner_of=owners.get) == "cheque"


def test_rollup_gets_its_header_once(tmp_path: Path) -> None:
    path = tmp_path / "results-2026-01-01.csv"
    first = append_rollup(path, HEADER, b"a.png,1\n")
    second = append_rollup(path, HEADER, b"b.png,2\nb.png,3\n")
    assert path.read_bytes() == b"source,text\na.png,1\nb.png,2\nb.png,3\n"
    assert first.offset == 0 and second.offset == len(HEADER) + 8
    assert append_rollup(path, HEADER, b"") is None


def _append_many(path: str, tag: str) -> None:
    for i in range(40):
        rows = "".join(f"{tag},{i},{j}\n" for j in range(5)).encode()
        append_rollup(Path(path), HEADER, rows)


def test_concurrent_appenders_never_interleave_a_documents_rows(tmp_path: Path) -> None:
    path = tmp_path / "results.csv"
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(path), t)) for t in "xyz"]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    lines = path.read_text().splitlines()
    assert lines.count("source,text") == 1
    body = lines[1:]
    assert len(body) == 3 * 40 * 5
    for k in range(0, len(body), 5):  # each document's 5 rows stay together
        assert len({line.rsplit(",", 1)[0] for line in body[k : k + 5]}) == 1


def test_check_rollup_confirms_a_complete_append(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    seen: list[RollupIntent] = []
    intent = append_rollup(path, HEADER, b"a.png,1\n", before_append=seen.append)
    assert seen == [intent]
    assert check_rollup(intent) is True


def test_check_rollup_cuts_a_torn_append_back(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(HEADER)
    rows = b"a.png,1\na.png,2\n"
    intent = RollupIntent(str(path), len(HEADER), len(rows), hashlib.sha256(rows).hexdigest())
    with path.open("ab") as f:
        f.write(rows[:5])  # a crash in the middle of the write
    assert check_rollup(intent) is False
    assert path.read_bytes() == HEADER


def test_check_rollup_of_a_missing_file_is_false(tmp_path: Path) -> None:
    intent = RollupIntent(str(tmp_path / "gone.csv"), 0, 3, "0" * 64)
    assert check_rollup(intent) is False
    assert not (tmp_path / "gone.csv").exists()


def test_rollup_rows_never_continue_a_torn_line(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_bytes(HEADER + b"torn,ro")
    append_rollup(path, HEADER, b"a.png,1\n")
    assert path.read_bytes().splitlines()[-1] == b"a.png,1"
