"""A pool of worker processes, each holding one document at a time.

Unlike ``concurrent.futures.ProcessPoolExecutor``, whose pool breaks as a
whole when one worker dies, this pool knows which document each worker holds:
a worker that crashes (segfault, OOM killer, kill -9) or overruns the
per-document timeout fails only that document, and is replaced. Workers are
started with ``spawn`` (the parent runs threads) and load the model once.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess

from digitd.errors import ModelError
from digitd.service.worker import Job, JobOutcome, WorkerSettings, worker_main

__all__ = ["Completion", "WorkerPool"]

_CTX = multiprocessing.get_context("spawn")


@dataclass(frozen=True, slots=True)
class Completion:
    """A job that left the pool: with an outcome, or with the reason it has none."""

    job: Job
    outcome: JobOutcome | None
    failure: str | None = None
    worker_pid: int | None = None
    kind: str | None = None  # "crash" or "timeout" when there is no outcome


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    conn: Connection
    ready: bool = False
    job: Job | None = None
    started: float = 0.0
    spawned: float = field(default_factory=time.monotonic)


class WorkerPool:
    """``size`` worker processes serving :class:`Job` objects.

    Parameters
    ----------
    settings : WorkerSettings
    size : int
    document_timeout_seconds : float
        A job running longer is cancelled by killing its worker.
    """

    def __init__(
        self, settings: WorkerSettings, size: int, *, document_timeout_seconds: float
    ) -> None:
        self.settings = settings
        self.size = size
        self.document_timeout_seconds = document_timeout_seconds
        self.replaced = 0
        self.broken: str | None = None
        self._workers: list[_Worker] = []

    # -- lifecycle -----------------------------------------------------------

    def _spawn(self) -> _Worker:
        parent, child = _CTX.Pipe(duplex=True)
        process = _CTX.Process(
            target=worker_main, args=(child, self.settings), name="digitd-worker", daemon=True
        )
        process.start()
        child.close()
        return _Worker(process=process, conn=parent)

    def start(self, *, timeout: float = 120.0) -> None:
        """Start the workers and wait until each has loaded the model.

        Raises
        ------
        ModelError
            A worker could not load the model (the message names the file).
        """
        self._workers = [self._spawn() for _ in range(self.size)]
        deadline = time.monotonic() + timeout
        for w in self._workers:
            remaining = max(0.0, deadline - time.monotonic())
            if not w.conn.poll(remaining):
                self.kill()
                raise ModelError(f"worker did not load model {self.settings.model_path} in time")
            try:
                kind, value = w.conn.recv()
            except EOFError:
                self.kill()
                raise ModelError(
                    f"worker died while loading model {self.settings.model_path}"
                ) from None
            if kind != "ready":
                self.kill()
                raise ModelError(str(value))
            w.ready = True

    def pids(self) -> list[int]:
        return [w.process.pid for w in self._workers if w.process.pid is not None]

    def busy(self) -> list[Job]:
        return [w.job for w in self._workers if w.job is not None]

    def idle_count(self) -> int:
        return sum(1 for w in self._workers if w.ready and w.job is None)

    def submit(self, job: Job) -> int:
        """Hand ``job`` to an idle worker; return the worker's pid.

        Raises
        ------
        RuntimeError
            No worker is idle (check :meth:`idle_count` first).
        """
        for w in self._workers:
            if w.ready and w.job is None:
                w.conn.send(job)
                w.job = job
                w.started = time.monotonic()
                return int(w.process.pid or 0)
        raise RuntimeError("no idle worker")

    def poll(self, timeout: float, *, wake: Sequence[int] = ()) -> list[Completion]:
        """Wait up to ``timeout`` seconds; return finished, crashed and timed-out jobs.

        ``wake`` are file descriptors that end the wait early when readable.
        """
        handles: list[object] = list(wake)
        for w in self._workers:
            handles.append(w.conn)
            handles.append(w.process.sentinel)
        deadlines = [
            w.started + self.document_timeout_seconds for w in self._workers if w.job is not None
        ]
        if deadlines:  # wake up in time to cancel an overrunning document
            timeout = max(0.0, min(timeout, min(deadlines) - time.monotonic()))
        ready = set(wait(handles, timeout)) if handles else set()
        if not handles:
            time.sleep(timeout)
        done: list[Completion] = []
        for w in list(self._workers):
            if w.conn in ready:
                try:
                    while w.conn.poll():
                        kind, value = w.conn.recv()
                        if kind == "ready":
                            w.ready = True
                        elif kind == "done" and w.job is not None:
                            done.append(Completion(w.job, value, None, w.process.pid))
                            w.job = None
                        elif kind == "error":
                            self.broken = str(value)  # a replacement could not load the model
                except (EOFError, OSError):
                    pass
            if not w.process.is_alive():
                w.process.join(timeout=0)
                if w.job is not None:
                    done.append(
                        Completion(w.job, None, _death_reason(w.process), w.process.pid, "crash")
                    )
                    w.job = None
                self._replace(w)
            elif w.job is not None and (
                time.monotonic() - w.started > self.document_timeout_seconds
            ):
                job, pid = w.job, w.process.pid
                w.job = None
                w.process.kill()
                w.process.join(timeout=5.0)
                done.append(
                    Completion(
                        job,
                        None,
                        f"timed out after {self.document_timeout_seconds:g} s "
                        "(limits.document_timeout_seconds); its worker was stopped",
                        pid,
                        "timeout",
                    )
                )
                self._replace(w)
        return done

    def _replace(self, old: _Worker) -> None:
        index = self._workers.index(old)
        old.conn.close()
        if self.broken is not None:
            del self._workers[index]
            return
        self._workers[index] = self._spawn()
        self.replaced += 1

    def close(self) -> None:
        """Ask idle workers to exit; kill what is left after a short wait."""
        for w in self._workers:
            with contextlib.suppress(OSError):
                w.conn.send(None)
        deadline = time.monotonic() + 5.0
        for w in self._workers:
            w.process.join(timeout=max(0.0, deadline - time.monotonic()))
        self.kill()

    def kill(self) -> None:
        """Stop every worker now (jobs in progress are abandoned)."""
        for w in self._workers:
            if w.process.is_alive():
                w.process.kill()
        for w in self._workers:
            w.process.join(timeout=5.0)
            w.conn.close()
        self._workers = []


def _death_reason(process: BaseProcess) -> str:
    code = process.exitcode
    if code is not None and code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the worker process was killed by {name} while reading this document"
    return f"the worker process exited (status {code}) while reading this document"
