"""Files dropped the way scanners drop them, into one running daemon.

After each: every input is in exactly one place (archive/, failed/ with a
reason, or the inbox if never started), every output parses, and no
temporary file is left in the outbox.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from daemon_harness import (
    Daemon,
    check_accounted,
    check_outbox,
    drop,
    locations,
    page_png,
    sha256,
    wait_settled,
    wait_until,
)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Daemon]:
    d = Daemon(tmp_path_factory.mktemp("scanners")).start()
    yield d
    d.stop()
    assert d.proc is not None and d.proc.returncode == 0


def _settle_and_check(daemon: Daemon, inputs: dict[str, bytes]) -> dict[str, Path]:
    wait_settled(daemon.root, inputs)
    where = check_accounted(daemon.root, inputs)
    check_outbox(daemon.root / "outbox")
    return where


def _result(daemon: Daemon, data: bytes) -> dict:
    return check_outbox(daemon.root / "outbox")[sha256(data)]


def test_fifty_files_at_once(daemon: Daemon) -> None:
    inputs = {f"burst-{i:02d}.png": page_png(1000 + i) for i in range(50)}
    for name, data in inputs.items():
        drop(daemon.inbox / name, data)
    where = _settle_and_check(daemon, inputs)
    assert all(p.parent.name == "archive" for p in where.values())
    results = check_outbox(daemon.root / "outbox")
    for name, data in inputs.items():
        doc = results[sha256(data)]
        assert doc["status"] == "ok" and doc["source"] == name
        assert doc["_path"].name == name.replace(".png", ".json")
    rollups = list((daemon.root / "outbox").glob("results-*.csv"))
    rows = [r for f in rollups for r in f.read_text().splitlines()[1:]]
    for data in inputs.values():  # each document's rows appear exactly once
        fields = len(results[sha256(data)]["pages"][0]["fields"])
        assert sum(sha256(data) in r for r in rows) == fields


def test_slow_writer_in_chunks_over_five_seconds(daemon: Daemon) -> None:
    data = page_png(2001)
    chunks = np.array_split(np.frombuffer(data, np.uint8), 10)
    path = daemon.inbox / "slow.png"
    with path.open("wb") as f:
        for chunk in chunks:
            f.write(chunk.tobytes())
            f.flush()
            time.sleep(0.5)
    where = _settle_and_check(daemon, {"slow.png": data})
    assert where["slow.png"].parent.name == "archive"
    doc = _result(daemon, data)
    assert doc["status"] == "ok"  # the whole file was read, never a half page
    assert not list((daemon.root / "failed").glob("slow*"))


def test_temp_name_then_rename(daemon: Daemon) -> None:
    data = page_png(2002)
    tmp = daemon.inbox / "renamed.png.part"
    with tmp.open("wb") as f:
        f.write(data[:100])
        f.flush()
        time.sleep(1.5)  # longer than stable_seconds: the .part name must still be ignored
        f.write(data[100:])
    os.rename(tmp, daemon.inbox / "renamed.png")
    where = _settle_and_check(daemon, {"renamed.png": data})
    assert where["renamed.png"] == daemon.root / "archive" / "renamed.png"
    assert _result(daemon, data)["status"] == "ok"


@pytest.mark.parametrize(
    ("name", "make", "reason"),
    [
        ("zero.png", lambda: b"", "empty"),
        ("truncated.png", lambda: page_png(2003)[:3000], "truncated"),
        ("text.png", lambda: b"this is not an image\n" * 20, "not an image"),
        ("huge.png", lambda: page_png(2004, width=2000, height=1200, n=3), "max_pixels"),
    ],
)
def test_broken_and_hostile_files_go_to_failed_with_the_reason(
    daemon: Daemon, name: str, make, reason: str
) -> None:
    data = make()
    drop(daemon.inbox / name, data)
    where = _settle_and_check(daemon, {name: data})
    assert where[name] == daemon.root / "failed" / name
    report = json.loads((daemon.root / "failed" / name).with_suffix(".error.json").read_text())
    assert reason in report["reason"]
    assert report["sha256"] == sha256(data)
    doc = _result(daemon, data)
    assert doc["status"] == "failed" and reason in doc["error"]


def test_symlink_to_a_file_outside_the_inbox_is_left_alone(daemon: Daemon) -> None:
    secret = daemon.root / "secret.png"
    secret.write_bytes(page_png(2005))
    link = daemon.inbox / "link.png"
    link.symlink_to(secret)
    daemon.wait_event("refused", source="link.png", timeout=30)
    marker = page_png(2006)  # a file dropped after it proves the daemon moved on
    drop(daemon.inbox / "after-link.png", marker)
    _settle_and_check(daemon, {"after-link.png": marker})
    assert link.is_symlink() and secret.exists()
    assert sha256(secret.read_bytes()) not in check_outbox(daemon.root / "outbox")
    assert locations(daemon.root, sha256(secret.read_bytes())) == []  # not followed, not moved


def test_file_deleted_while_queued(daemon: Daemon) -> None:
    burst = {f"queue-{i:02d}.png": page_png(3000 + i) for i in range(12)}
    for name, data in burst.items():
        drop(daemon.inbox / name, data)
    victim = page_png(3100)
    drop(daemon.inbox / "victim.png", victim)
    daemon.wait_event("queued", source="victim.png", timeout=30)  # newest: last in line
    (daemon.inbox / "victim.png").unlink()
    daemon.wait_event("vanished", source="victim.png", timeout=30)
    _settle_and_check(daemon, burst)
    assert locations(daemon.root, sha256(victim)) == []
    assert not (daemon.root / "failed" / "victim.error.json").exists()
    assert daemon.proc is not None and daemon.proc.poll() is None


def test_name_with_spaces_and_non_ascii(daemon: Daemon) -> None:
    name = "Scheck Nr 7 – März ünd 東京.png"
    data = page_png(2007)
    drop(daemon.inbox / name, data)
    where = _settle_and_check(daemon, {name: data})
    assert where[name] == daemon.root / "archive" / name
    doc = _result(daemon, data)
    assert doc["source"] == name
    assert doc["_path"].name == "Scheck Nr 7 – März ünd 東京.json"
    assert (doc["_path"].parent / "Scheck Nr 7 – März ünd 東京.annotated.png").exists()


def test_same_stem_different_bytes_never_overwrites(daemon: Daemon) -> None:
    first, second = page_png(2008), page_png(2009)
    drop(daemon.inbox / "same.png", first)
    _settle_and_check(daemon, {"a": first})
    drop(daemon.inbox / "same.png", second)
    where = _settle_and_check(daemon, {"b": second})
    results = check_outbox(daemon.root / "outbox")
    assert results[sha256(first)]["_path"].name == "same.json"
    assert results[sha256(second)]["_path"].name == f"same-{sha256(second)[:8]}.json"
    assert where["b"].name == f"same-{sha256(second)[:8]}.png"


def test_same_bytes_twice_is_a_logged_duplicate(daemon: Daemon) -> None:
    data = page_png(2010)
    drop(daemon.inbox / "twice-a.png", data)
    wait_settled(daemon.root, {"a": data})
    drop(daemon.inbox / "twice-b.png", data)
    event = daemon.wait_event("duplicate", source="twice-b.png", timeout=30)
    assert event["first_source"] == "twice-a.png"
    wait_until(lambda: not (daemon.inbox / "twice-b.png").exists(), 30, "duplicate archived")
    archived = sorted(p.name for p in locations(daemon.root, sha256(data)))
    assert archived == ["twice-a.png", "twice-b.png"]
    assert not (daemon.root / "outbox" / "twice-b.json").exists()


def test_files_in_subfolders_are_not_taken_without_recursive(daemon: Daemon) -> None:
    data = page_png(2011)
    drop(daemon.inbox / "sub" / "deep.png", data)
    marker = page_png(2012)
    drop(daemon.inbox / "after-sub.png", marker)
    _settle_and_check(daemon, {"after-sub.png": marker})
    assert (daemon.inbox / "sub" / "deep.png").exists()
