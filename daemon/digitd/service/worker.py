"""The worker process: the model loaded once, then one document at a time.

The parent sends a :class:`Job` (the input's bytes and the output stem it
chose) over a pipe; the worker decodes, reads, annotates and serializes, and
sends back a :class:`JobOutcome` holding the finished output files as bytes.
The worker never touches the inbox or outbox: a worker killed at any moment
leaves nothing behind. It ignores SIGINT and SIGTERM (the parent decides when
work stops) and exits when its pipe closes.
"""

from __future__ import annotations

import os
import signal
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from digitd import output
from digitd.config import OutputsConfig
from digitd.errors import InputError, InputLimitError, ModelError
from digitd.model.format import Model, load_model
from digitd.pipeline.annotate import annotate_page
from digitd.pipeline.load import load_pages
from digitd.pipeline.read import ReadParams, prepare_model, read_pages
from digitd.results import DocumentResult, ModelInfo
from digitd.service.memory import keep_freed_memory

__all__ = [
    "ErrorKind",
    "Job",
    "JobOutcome",
    "WorkerSettings",
    "process_job",
    "worker_main",
]

ErrorKind = Literal["input", "limit", "model", "internal"]

# zlib level of annotated images: on a noisy 300-dpi cheque level 1 encodes in
# about 2/3 of the time of level 3 for files about 20% larger, and encoding is
# the largest part of a cheque's drop-to-output latency.
_PNG_LEVEL = 1


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    """Everything a worker needs, fixed for its lifetime."""

    model_path: Path
    params: ReadParams
    outputs: OutputsConfig
    max_pixels: int
    max_pages: int
    pdf_dpi: float = 300.0


@dataclass(frozen=True, slots=True)
class Job:
    """One document to read.

    Attributes
    ----------
    job_id : int
    source : str
        The input's path relative to the inbox (``NAME.EXT`` or ``sub/NAME.EXT``).
    stem : str
        File name stem for the outputs (``NAME`` or ``NAME-<sha8>``).
    data : bytes
        The whole input file.
    sha256 : str
    """

    job_id: int
    source: str
    stem: str
    data: bytes
    sha256: str


@dataclass(frozen=True, slots=True)
class JobOutcome:
    """What a worker made of a job.

    Attributes
    ----------
    files : tuple of (str, bytes)
        Output file names (inside the outbox folder of the input) and their
        contents; the JSON last, so it can serve as the document's marker.
    rollup_rows : bytes
        The document's rows for the daily rollup CSV, without header.
    error_kind : {'input', 'limit', 'model', 'internal'} or None
    """

    job_id: int
    status: Literal["ok", "failed"]
    error: str | None
    error_kind: ErrorKind | None
    files: tuple[tuple[str, bytes], ...]
    rollup_rows: bytes
    fields: int
    pages: int
    timings_ms: dict[str, float]
    worker_pid: int

    def summary(self) -> dict[str, Any]:
        """The outcome's part of a ``document`` log event."""
        return {
            "status": self.status,
            "fields": self.fields,
            "pages": self.pages,
            "timings_ms": {k: round(v, 1) for k, v in self.timings_ms.items()},
        }


def process_job(job: Job, model: Model, settings: WorkerSettings) -> JobOutcome:
    """Read one document and serialize its outputs; never raises for a bad input."""
    t0 = time.perf_counter()
    info = ModelInfo(id=model.id, sha256=model.sha256)
    name = Path(job.source).name
    switches = settings.outputs
    try:
        pages = load_pages(
            job.data,
            max_pixels=settings.max_pixels,
            max_pages=settings.max_pages,
            pdf_dpi=settings.pdf_dpi,
        )
        t_load = time.perf_counter()
        outcome = read_pages(pages, model, params=settings.params, source_name=name)
        t_read = time.perf_counter()
        files: list[tuple[str, bytes]] = []
        if switches.annotated:
            for page, result in zip(pages, outcome.pages, strict=True):
                image = annotate_page(page.image, result)
                png = output.encode_png(image, dpi=page.dpi, compress_level=_PNG_LEVEL)
                files.append((output.annotated_name(job.stem, result.page), png))
        t_end = time.perf_counter()
        timings = {
            "load": (t_load - t0) * 1000.0,
            **outcome.timings_ms,
            "annotate": (t_end - t_read) * 1000.0,
            "total": (t_end - t0) * 1000.0,
        }
        document = DocumentResult(
            source=name,
            sha256=job.sha256,
            status="ok",
            error=None,
            processed_at=output.format_timestamp(datetime.now(UTC)),
            model=info,
            pages=outcome.pages,
            timings_ms=timings,
        )
        if switches.annotated:
            document = output.with_annotated_names(document, job.stem)
        if switches.csv:
            files.append((output.csv_name(job.stem), output.encode_csv(document)))
        if switches.json:
            files.append((output.json_name(job.stem), output.encode_json(document)))
        rows = output.encode_rollup_rows(document) if switches.rollup else b""
        n_fields = sum(len(p.fields) for p in document.pages)
        return JobOutcome(
            job.job_id,
            "ok",
            None,
            None,
            tuple(files),
            rows,
            n_fields,
            len(pages),
            timings,
            os.getpid(),
        )
    except InputLimitError as exc:
        return _failed(job, str(exc), "limit", t0)
    except InputError as exc:
        return _failed(job, str(exc), "input", t0)
    except ModelError as exc:
        return _failed(job, str(exc), "model", t0)
    except MemoryError:
        return _failed(job, "out of memory while reading the document", "internal", t0)
    except Exception as exc:  # a bug must fail one document, not the worker
        detail = "".join(traceback.format_exception_only(exc)).strip()
        return _failed(job, f"internal error: {detail}", "internal", t0)


def _failed(job: Job, error: str, kind: ErrorKind, t0: float) -> JobOutcome:
    timings = {"total": (time.perf_counter() - t0) * 1000.0}
    return JobOutcome(job.job_id, "failed", error, kind, (), b"", 0, 0, timings, os.getpid())


def worker_main(conn: Connection, settings: WorkerSettings) -> None:
    """Entry point of a worker process: load the model, then serve jobs until EOF."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    keep_freed_memory()  # page buffers reused, not faulted in anew for every page
    try:
        model = load_model(settings.model_path)
        try:
            prepare_model(model)  # per-model caches now, not on the first document
        except ModelError as exc:  # a fault inside the model: say which file holds it
            raise ModelError(f"model file {settings.model_path}: {exc}") from None
    except ModelError as exc:
        conn.send(("error", str(exc)))
        return
    except Exception as exc:
        conn.send(("error", f"cannot load model {settings.model_path}: {exc!r}"))
        return
    conn.send(("ready", os.getpid()))
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):
            return
        if job is None:
            return
        outcome = process_job(job, model, settings)
        try:
            conn.send(("done", outcome))
        except OSError:  # the daemon is gone; the ledger has the document as unfinished
            return
