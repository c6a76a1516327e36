"""Crashes, signals and restarts of the real daemon: nothing lost, nothing doubled."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from daemon_harness import (
    check_accounted,
    check_outbox,
    drop,
    heavy_tiff,
    locations,
    page_png,
    sha256,
    wait_settled,
    wait_until,
)


def _rollup_rows(outbox: Path) -> list[str]:
    return [r for f in outbox.glob("results-*.csv") for r in f.read_text().splitlines()[1:]]


def _check_no_duplicates(outbox: Path, inputs: dict[str, bytes]) -> None:
    results = check_outbox(outbox)
    rows = _rollup_rows(outbox)
    for name, data in inputs.items():
        doc = results[sha256(data)]
        assert doc["_path"].name == name.replace(".png", ".json"), "outputs were written twice"
        fields = sum(len(p["fields"]) for p in doc["pages"])
        assert sum(sha256(data) in r for r in rows) == fields, f"rollup rows of {name}"


def test_kill_9_of_a_worker_fails_only_its_document(make_daemon) -> None:
    daemon = make_daemon({"limits": {"max_pixels": 20_000_000}}).start()
    heavy = heavy_tiff(1)
    drop(daemon.inbox / "heavy.tif", heavy)
    started = daemon.wait_event("dispatched", source="heavy.tif", timeout=30)
    os.kill(started["worker_pid"], signal.SIGKILL)
    event = daemon.wait_event("document", source="heavy.tif", timeout=30)
    assert event["status"] == "failed" and event["error_type"] == "crash"
    after = {f"after-{i}.png": page_png(400 + i) for i in range(4)}
    for name, data in after.items():
        drop(daemon.inbox / name, data)
    wait_settled(daemon.root, {"heavy.tif": heavy, **after})
    where = check_accounted(daemon.root, {"heavy.tif": heavy, **after})
    assert where["heavy.tif"] == daemon.root / "failed" / "heavy.tif"
    report = json.loads((daemon.root / "failed" / "heavy.error.json").read_text())
    assert "SIGKILL" in report["reason"]
    assert all(where[n].parent.name == "archive" for n in after)
    check_outbox(daemon.root / "outbox")
    assert started["worker_pid"] not in daemon.worker_pids()


def test_sigterm_mid_batch_then_restart(make_daemon) -> None:
    daemon = make_daemon({"workers": 1}).start()
    inputs = {f"batch-{i:02d}.png": page_png(500 + i) for i in range(10)}
    for name, data in inputs.items():
        drop(daemon.inbox / name, data)
    daemon.wait_event("document", timeout=60)
    daemon.send(signal.SIGTERM)
    assert daemon.wait_exit(60) == 0
    assert daemon.find("stopped", forced=False)
    where = check_accounted(daemon.root, inputs)  # archived or still in the inbox, once
    waiting = [n for n, p in where.items() if p.parent == daemon.inbox]
    assert waiting, "the batch finished before SIGTERM; the test proves nothing"
    assert not any(p.parent.name == "failed" for p in where.values())
    check_outbox(daemon.root / "outbox")

    daemon.start()
    wait_settled(daemon.root, inputs)
    where = check_accounted(daemon.root, inputs)
    assert all(p.parent.name == "archive" for p in where.values())
    _check_no_duplicates(daemon.root / "outbox", inputs)


def test_kill_9_of_the_daemon_mid_batch_then_restart(make_daemon) -> None:
    daemon = make_daemon().start()
    inputs = {f"crash-{i:02d}.png": page_png(600 + i) for i in range(12)}
    for name, data in inputs.items():
        drop(daemon.inbox / name, data)
    daemon.wait_event("document", timeout=60)
    workers = daemon.worker_pids()
    daemon.send(signal.SIGKILL)
    daemon.wait_exit(30)
    for pid in workers:  # orphaned workers see their pipe close and exit
        wait_until(lambda pid=pid: not Path(f"/proc/{pid}").exists(), 30, f"worker {pid} exit")
    check_accounted(daemon.root, inputs)
    daemon.start()
    wait_settled(daemon.root, inputs)
    where = check_accounted(daemon.root, inputs)
    assert all(p.parent.name == "archive" for p in where.values())
    _check_no_duplicates(daemon.root / "outbox", inputs)


def test_second_signal_cuts_the_grace_period_short(make_daemon) -> None:
    daemon = make_daemon({"workers": 1, "limits": {"max_pixels": 20_000_000}}).start()
    heavy = heavy_tiff(2, pages=6)
    drop(daemon.inbox / "slow.tif", heavy)
    daemon.wait_event("dispatched", source="slow.tif", timeout=30)
    daemon.send(signal.SIGTERM)
    daemon.wait_event("stopping", timeout=10)
    daemon.send(signal.SIGTERM)
    assert daemon.wait_exit(30) == 1
    assert daemon.find("abandoned")
    assert locations(daemon.root, sha256(heavy)) == [daemon.inbox / "slow.tif"]


def test_sighup_reloads_and_a_bad_new_config_is_rejected(make_daemon) -> None:
    daemon = make_daemon().start()
    good = dict(daemon.config)
    daemon.config_path.write_text("workers: [oops]\nwatch: {stable_secondz: 1}\n")
    daemon.send(signal.SIGHUP)
    rejected = daemon.wait_event("reload_rejected", timeout=30)
    assert any("stable_secondz" in p for p in rejected["problems"])
    first = page_png(700)
    drop(daemon.inbox / "still-working.png", first)
    wait_settled(daemon.root, {"a": first})
    assert (daemon.root / "outbox" / "still-working.annotated.png").exists()

    daemon.write_config({**good, "outputs": {"annotated": False}})
    ready_count = len(daemon.find("ready"))
    daemon.send(signal.SIGHUP)
    wait_until(lambda: len(daemon.find("ready")) > ready_count, 60, "ready after reload")
    second = page_png(701)
    drop(daemon.inbox / "reloaded.png", second)
    wait_settled(daemon.root, {"b": second})
    assert (daemon.root / "outbox" / "reloaded.json").exists()
    assert not (daemon.root / "outbox" / "reloaded.annotated.png").exists()

    # A new config that passes checks but whose model cannot load: back to the old one.
    bad_model = daemon.root / "broken.joblib"
    bad_model.write_bytes(b"not a model")
    daemon.write_config({**good, "model": str(bad_model)})
    ready_count = len(daemon.find("ready"))
    daemon.send(signal.SIGHUP)
    failed = daemon.wait_event("reload_failed", timeout=60)
    assert "broken.joblib" in failed["error"]
    wait_until(lambda: len(daemon.find("ready")) > ready_count, 60, "ready after fallback")
    third = page_png(702)
    drop(daemon.inbox / "after-bad-reload.png", third)
    wait_settled(daemon.root, {"c": third})
    assert check_outbox(daemon.root / "outbox")[sha256(third)]["status"] == "ok"
    assert not (daemon.root / "outbox" / "after-bad-reload.annotated.png").exists()


def test_backlog_is_read_oldest_first_and_subfolders_mirrored(make_daemon, tmp_path) -> None:
    daemon = make_daemon({"workers": 1, "watch": {"recursive": True}})
    inputs = {}
    for i, name in enumerate(["c.png", "a.png", "sub/b.png", "sub/deeper/d.png"]):
        data = page_png(800 + i)
        drop(daemon.inbox / name, data)
        os.utime(daemon.inbox / name, (1_000_000 + i, 1_000_000 + i))
        inputs[name] = data
    daemon.start()
    wait_settled(daemon.root, inputs)
    daemon.wait_event("document", source="sub/deeper/d.png")  # logged just after the move
    order = [e["source"] for e in daemon.find("document")]
    assert order == ["c.png", "a.png", "sub/b.png", "sub/deeper/d.png"]
    where = check_accounted(daemon.root, inputs)
    assert where["sub/deeper/d.png"] == daemon.root / "archive" / "sub" / "deeper" / "d.png"
    assert (daemon.root / "outbox" / "sub" / "deeper" / "d.json").exists()

    # A whole folder moved into the recursive inbox is picked up.
    staged = tmp_path / "staged-folder"
    moved = {"moved/e.png": page_png(810), "moved/inner/f.png": page_png(811)}
    for name, data in moved.items():
        drop(staged / Path(name).relative_to("moved"), data)
    os.rename(staged, daemon.inbox / "moved")
    wait_settled(daemon.root, moved)
    where = check_accounted(daemon.root, moved)
    assert where["moved/inner/f.png"] == daemon.root / "archive" / "moved" / "inner" / "f.png"


def test_outputs_inside_the_inbox_are_refused_at_start(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text(f"inbox: {tmp_path / 'in'}\noutbox: {tmp_path / 'in' / 'out'}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "digitd", "run", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
    )
    assert proc.returncode == 2
    assert "lies inside the inbox" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_disposition_keep_reads_once_and_leaves_the_original(make_daemon) -> None:
    daemon = make_daemon({"disposition": "keep", "watch": {"rescan_seconds": 0.3}}).start()
    data = page_png(1200)
    drop(daemon.inbox / "kept.png", data)
    daemon.wait_event("document", source="kept.png", timeout=30)
    time.sleep(0.8)  # several rescans
    assert len(daemon.find("document", source="kept.png")) == 1
    assert not daemon.find("duplicate")
    assert locations(daemon.root, sha256(data)) == [daemon.inbox / "kept.png"]
    daemon.stop()
    daemon.start()  # a restart remembers it through the ledger
    time.sleep(0.8)
    assert not daemon.find("document", source="kept.png")
    assert not daemon.find("duplicate")


def test_a_deleted_inbox_is_recreated_and_watched_again(make_daemon) -> None:
    daemon = make_daemon().start()
    shutil.rmtree(daemon.inbox)
    daemon.wait_event("watcher_died", timeout=30)
    wait_until(daemon.inbox.is_dir, 30, "inbox recreated")
    data = page_png(1400)
    drop(daemon.inbox / "after-rmtree.png", data)
    wait_settled(daemon.root, {"a": data})
    assert daemon.proc is not None and daemon.proc.poll() is None
