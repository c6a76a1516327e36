"""The worker pool with real processes: results, crashes, timeouts, backpressure."""

from __future__ import annotations

import hashlib
import io
import os
import signal
import time
from dataclasses import replace

import cv2
import numpy as np
import pytest
from PIL import Image

from digitd.config import SHIPPED_MODEL, OutputsConfig
from digitd.errors import ModelError
from digitd.model.format import load_model, save_with_extras
from digitd.pipeline.marks import MARKS_FORMAT_VERSION
from digitd.pipeline.read import ReadParams
from digitd.service.pool import Completion, WorkerPool
from digitd.service.worker import Job, WorkerSettings

SETTINGS = WorkerSettings(
    model_path=SHIPPED_MODEL,
    params=ReadParams(),
    outputs=OutputsConfig(),
    max_pixels=10_000_000,
    max_pages=5,
)


def _job(job_id: int, data: bytes) -> Job:
    return Job(job_id, f"doc{job_id}.png", f"doc{job_id}", data, hashlib.sha256(data).hexdigest())


def _collect(pool: WorkerPool, n: int, timeout: float = 60.0) -> list[Completion]:
    done: list[Completion] = []
    deadline = time.monotonic() + timeout
    while len(done) < n and time.monotonic() < deadline:
        done.extend(pool.poll(0.1))
    return done


def _wait_idle(pool: WorkerPool, n: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while pool.idle_count() < n and time.monotonic() < deadline:
        pool.poll(0.1)
    assert pool.idle_count() == n


def test_a_killed_worker_fails_only_its_document_and_is_replaced(page: bytes) -> None:
    pool = WorkerPool(SETTINGS, 2, document_timeout_seconds=60)
    pool.start()
    try:
        assert pool.idle_count() == 2
        victim_pid = pool.submit(_job(1, page))
        pool.submit(_job(2, page))
        with pytest.raises(RuntimeError, match="no idle worker"):
            pool.submit(_job(3, page))  # bounded: one document per worker
        os.kill(victim_pid, signal.SIGKILL)
        done = {c.job.job_id: c for c in _collect(pool, 2)}
        assert done[1].outcome is None and done[1].kind == "crash"
        assert "SIGKILL" in done[1].failure
        assert done[2].outcome is not None and done[2].outcome.status == "ok"
        assert pool.replaced == 1
        assert victim_pid not in pool.pids()
        _wait_idle(pool, 2)
        pool.submit(_job(4, page))
        (after,) = _collect(pool, 1)
        assert after.outcome is not None and after.outcome.status == "ok"
    finally:
        pool.close()
    assert pool.pids() == []


def _slow_document() -> bytes:
    """Five A4 pages: seconds of work, far longer than any delay before the first poll."""
    page = np.full((3508, 2480), 255, np.uint8)
    for y in range(200, 3500, 300):
        cv2.putText(page, "4071 2958", (100, y), cv2.FONT_HERSHEY_SIMPLEX, 3.0, 20, 9, cv2.LINE_AA)
    frames = [Image.fromarray(page)] * 5
    buf = io.BytesIO()
    frames[0].save(
        buf, format="TIFF", save_all=True, append_images=frames[1:], compression="tiff_lzw"
    )
    return buf.getvalue()


def test_a_document_over_its_time_limit_is_cancelled() -> None:
    pool = WorkerPool(SETTINGS, 1, document_timeout_seconds=0.001)
    pool.start()
    try:
        pid = pool.submit(_job(1, _slow_document()))
        (done,) = _collect(pool, 1)
        assert done.outcome is None and done.kind == "timeout"
        assert "document_timeout_seconds" in done.failure
        assert pid not in pool.pids()
    finally:
        pool.kill()


def test_a_missing_model_is_a_model_error_at_start(tmp_path) -> None:
    settings = WorkerSettings(
        model_path=tmp_path / "nope.joblib",
        params=ReadParams(),
        outputs=OutputsConfig(),
        max_pixels=1,
        max_pages=1,
    )
    pool = WorkerPool(settings, 1, document_timeout_seconds=5)
    with pytest.raises(ModelError, match=r"nope\.joblib"):
        pool.start()


def test_a_marks_classifier_of_an_older_format_stops_the_pool_at_start(tmp_path) -> None:
    # Found once, naming the file, rather than failing every document it is given.
    marks = dict(load_model(SHIPPED_MODEL).extras["marks"])
    marks["format_version"] = MARKS_FORMAT_VERSION - 1
    old = tmp_path / "old.joblib"
    save_with_extras(SHIPPED_MODEL, old, {"marks": marks}, {"note": "older marks classifier"})
    pool = WorkerPool(replace(SETTINGS, model_path=old), 1, document_timeout_seconds=5)
    with pytest.raises(ModelError, match=r"old\.joblib.*marks classifier has format version"):
        pool.start()
