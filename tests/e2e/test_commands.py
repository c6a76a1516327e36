"""``digitd process``, ``digitd status`` and the systemd notifications of ``digitd run``."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from daemon_harness import check_outbox, drop, page_png, sha256, wait_settled


def _digitd(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "digitd", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def test_process_writes_the_same_outputs_and_leaves_originals(tmp_path: Path) -> None:
    scans = tmp_path / "scans"
    good = {f"p{i}.png": page_png(900 + i) for i in range(3)}
    for name, data in good.items():
        drop(scans / name, data)
    drop(scans / "broken.png", b"not an image")
    drop(scans / "notes.txt", b"ignored: not a scan pattern")
    outbox = tmp_path / "out"
    proc = _digitd("process", str(scans), "--outbox", str(outbox), "--workers", "2", cwd=tmp_path)
    assert proc.returncode == 1, proc.stderr  # one input failed
    results = check_outbox(outbox)
    for name, data in good.items():
        assert results[sha256(data)]["status"] == "ok"
        assert (scans / name).read_bytes() == data  # left in place
        assert (outbox / name.replace(".png", ".annotated.png")).exists()
    assert json.loads((outbox / "broken.json").read_text())["status"] == "failed"
    assert not (outbox / "notes.json").exists()
    events = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    assert next(e for e in events if e["event"] == "batch_done")["failed"] == 1

    again = _digitd("process", str(scans / "p0.png"), "--outbox", str(outbox), cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in outbox.glob("p0*.json")) == ["p0.json"]  # same bytes, same stem


def test_process_of_a_missing_input_is_a_clear_error(tmp_path: Path) -> None:
    proc = _digitd("process", str(tmp_path / "nope.png"), cwd=tmp_path)
    assert proc.returncode == 2
    assert "nope.png" in proc.stderr and "does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_status_counts_the_ledger_and_names_the_oldest_waiting_file(make_daemon) -> None:
    daemon = make_daemon()
    daemon.start()
    inputs = {"s1.png": page_png(950), "s2.png": page_png(951), "bad.png": b""}
    for name, data in inputs.items():
        drop(daemon.inbox / name, data)
    wait_settled(daemon.root, inputs)
    daemon.stop()
    drop(daemon.inbox / "waiting.png", page_png(952))
    proc = _digitd("status", "--config", str(daemon.config_path), "--json", cwd=daemon.root)
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["counts"]["done"] == 2 and report["counts"]["failed"] == 1
    assert report["oldest_waiting"]["source"] == "waiting.png"
    assert {r["source"] for r in report["recent"]} == set(inputs)
    text = _digitd("status", "--config", str(daemon.config_path), cwd=daemon.root)
    assert "done 2" in text.stdout and "waiting.png" in text.stdout


def test_systemd_hears_ready_watchdog_status_and_stopping(make_daemon, tmp_path: Path) -> None:
    sock_path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(sock_path))
    sock.settimeout(0.5)
    daemon = make_daemon()
    daemon.start(env={"NOTIFY_SOCKET": str(sock_path), "WATCHDOG_USEC": "400000"})
    messages: list[str] = []

    def receive_until(text: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in m for m in messages):
                return
            try:
                messages.append(sock.recv(4096).decode())
            except TimeoutError:
                continue
        raise AssertionError(f"{text} not among {messages}")

    try:
        receive_until("READY=1")
        receive_until("WATCHDOG=1")
        receive_until("STATUS=")
        daemon.send(signal.SIGTERM)
        receive_until("STOPPING=1")
        assert daemon.wait_exit(30) == 0
    finally:
        sock.close()
    assert sum("WATCHDOG=1" in m for m in messages) >= 1


def test_a_second_daemon_on_the_same_state_dir_is_refused(make_daemon, tmp_path: Path) -> None:
    first = make_daemon().start()
    second = make_daemon(root=tmp_path)
    second.start(wait_ready=False)
    assert second.wait_exit(60) == 1
    time.sleep(0.2)  # the reader thread takes the last lines
    assert any("in use by another digitd" in line for line in second.other_lines)
    assert first.proc is not None and first.proc.poll() is None


def test_polling_mode_takes_files_once_they_are_stable(make_daemon) -> None:
    daemon = make_daemon({"watch": {"polling": True, "poll_interval_seconds": 0.2}}).start()
    assert daemon.find("ready")[-1]["polling"] is True
    data = page_png(1500)
    drop(daemon.inbox / "polled.png", data)
    wait_settled(daemon.root, {"polled.png": data})
    assert check_outbox(daemon.root / "outbox")[sha256(data)]["status"] == "ok"
