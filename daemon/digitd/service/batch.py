"""The one-shot batch behind ``digitd process``: inputs through the pool to the outbox."""

from __future__ import annotations

import hashlib
import sys
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import structlog
from tqdm import tqdm

from digitd import output
from digitd.config import Config, worker_count
from digitd.service.daemon import worker_settings
from digitd.service.outbox import append_rollup, choose_stem, publish_files, write_atomic
from digitd.service.pool import Completion, WorkerPool
from digitd.service.watcher import FileFilter, scan_inbox
from digitd.service.worker import Job

__all__ = ["BatchSummary", "collect_inputs", "run_batch"]

log = structlog.get_logger("digitd")


@dataclass(frozen=True, slots=True)
class BatchSummary:
    ok: int
    failed: int


@dataclass(frozen=True, slots=True)
class _Input:
    path: Path
    relative: Path  # mirrored below the outbox


def collect_inputs(paths: list[Path], config: Config) -> list[_Input]:
    """Files named directly, plus the matching files of named folders, sorted, once each."""
    file_filter = FileFilter(tuple(config.watch.patterns), tuple(config.watch.ignore))
    seen: set[Path] = set()
    out: list[_Input] = []
    for given in paths:
        if given.is_dir():
            root = given.resolve()
            found = scan_inbox(root, root, recursive=config.watch.recursive)
            for path in sorted(found):
                rel = path.relative_to(root)
                if path.is_symlink() or not file_filter.is_wanted(rel):
                    continue
                if path not in seen:
                    seen.add(path)
                    out.append(_Input(path, rel))
        else:
            path = given.resolve()
            if path not in seen:
                seen.add(path)
                out.append(_Input(path, Path(path.name)))
    return out


def run_batch(config: Config, paths: list[Path], outbox: Path) -> BatchSummary:
    """Read every input in the worker pool and write its outputs to ``outbox``."""
    inputs = collect_inputs(paths, config)
    if not inputs:
        log.warning("no_inputs", note="nothing matched watch.patterns")
        return BatchSummary(0, 0)
    outbox.mkdir(parents=True, exist_ok=True)
    pool = WorkerPool(
        worker_settings(config),
        max(1, min(worker_count(config), len(inputs))),
        document_timeout_seconds=config.limits.document_timeout_seconds,
    )
    pool.start()
    pending = deque(enumerate(inputs))
    reserved: dict[str, str] = {}  # output stem (relative) -> sha256, within this batch
    ok = failed = 0
    bar = tqdm(total=len(inputs), unit="doc", disable=not sys.stderr.isatty())
    try:
        while pending or pool.busy():
            while pending and pool.idle_count() > 0:
                index, item = pending.popleft()
                job = _make_job(index, item, outbox, reserved, config)
                if isinstance(job, str):
                    log.warning(
                        "document",
                        source=str(item.relative),
                        status="failed",
                        error=job,
                        error_type="unreadable" if job.startswith("cannot") else "limit",
                    )
                    failed += 1
                    bar.update(1)
                    continue
                pool.submit(job)
            for completion in pool.poll(0.1):
                item = inputs[completion.job.job_id]
                if _finish(completion, item, outbox, config):
                    ok += 1
                else:
                    failed += 1
                bar.update(1)
    finally:
        bar.close()
        pool.close()
    log.info("batch_done", ok=ok, failed=failed, outbox=str(outbox))
    return BatchSummary(ok, failed)


def _make_job(
    index: int, item: _Input, outbox: Path, reserved: dict[str, str], config: Config
) -> Job | str:
    """The job for one input, or the reason it cannot be read (a string)."""
    try:
        size = item.path.stat().st_size
        if size > config.limits.max_file_bytes:
            limit = config.limits.max_file_bytes
            return f"file is {size} bytes, more than limits.max_file_bytes={limit}"
        data = item.path.read_bytes()
    except OSError as exc:
        return f"cannot read the file: {exc.strerror or exc}"
    sha = hashlib.sha256(data).hexdigest()
    sub = item.relative.parent

    def owner_of(stem: str) -> str | None:
        return reserved.get(str(sub / stem))

    stem = choose_stem(outbox / sub, Path(item.relative.name).stem, sha, owner_of=owner_of)
    reserved[str(sub / stem)] = sha
    return Job(index, str(item.relative), stem, data, sha)


def _finish(completion: Completion, item: _Input, outbox: Path, config: Config) -> bool:
    job, outcome = completion.job, completion.outcome
    folder = outbox / item.relative.parent
    if outcome is not None and outcome.status == "ok":
        publish_files(folder, outcome.files)
        if outcome.rollup_rows:
            append_rollup(
                outbox / output.rollup_name(datetime.now(UTC).date()),
                output.encode_rollup_header(),
                outcome.rollup_rows,
            )
        log.info(
            "document",
            source=str(item.relative),
            sha256=job.sha256,
            **outcome.summary(),
            outputs=[name for name, _ in outcome.files],
        )
        return True
    error = completion.failure if outcome is None else (outcome.error or "failed")
    kind = completion.kind if outcome is None else outcome.error_kind
    document = output.failed_document(
        source=item.relative.name,
        sha256=job.sha256,
        error=error or "failed",
        processed_at=output.format_timestamp(datetime.now(UTC)),
    )
    if config.outputs.json:
        folder.mkdir(parents=True, exist_ok=True)
        write_atomic(folder / output.json_name(job.stem), output.encode_json(document))
    log.warning(
        "document",
        source=str(item.relative),
        sha256=job.sha256,
        status="failed",
        error=error,
        error_type=kind,
    )
    return False
