"""The daemon: watch the inbox, read documents in the pool, publish, dispose.

Lifecycle (one thread; the observer thread only queues events):

``startup``
    check folders, open the ledger, finish what a crash left half done,
    start the pool (the model is loaded once per worker), start watching,
    queue the backlog oldest first, log ``ready``.
``main loop``
    take watcher events -> stability tracker -> ready files, oldest first ->
    read bytes, hash, ledger ``processing`` -> worker -> outputs written
    atomically -> rollup appended -> ledger ``written`` -> original moved ->
    ledger ``done``. Failures go the same way to failed/.
``shutdown``
    stop taking files, let documents in progress finish within the grace
    period, abandon the rest (their originals never left the inbox).

The signal handlers only record the signal; the loop acts on it.
"""

from __future__ import annotations

import hashlib
import heapq
import logging
import os
import signal
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

import structlog

from digitd import output
from digitd.config import Config, check_environment, load_config, model_path, read_params
from digitd.config import worker_count as config_worker_count
from digitd.errors import ConfigError, DigitdError
from digitd.log import configure_logging
from digitd.service.disposition import free_destination, move_file, write_error_report
from digitd.service.ledger import Ledger, LedgerRow, utc_now
from digitd.service.outbox import (
    append_rollup,
    choose_stem,
    fsync_dir,
    publish_files,
    remove_orphan_temps,
    write_atomic,
)
from digitd.service.pool import Completion, WorkerPool
from digitd.service.recovery import archive_destination, finish_interrupted, sha256_file
from digitd.service.sdnotify import Notifier, watchdog_interval
from digitd.service.stability import Hint, Ready, StabilityTracker
from digitd.service.watcher import (
    FileFilter,
    InboxWatcher,
    classify_entry,
    is_inside,
    relative_to_inbox,
    scan_inbox,
)
from digitd.service.worker import Job, JobOutcome, WorkerSettings

__all__ = ["LEDGER_NAME", "Daemon", "Folders", "worker_settings"]

log = structlog.get_logger("digitd")

LEDGER_NAME = "ledger.sqlite3"
_TICK = 0.1


@dataclass(frozen=True, slots=True)
class Folders:
    """The daemon's folders, resolved to absolute paths."""

    inbox: Path
    outbox: Path
    archive: Path
    failed: Path
    state_dir: Path

    @classmethod
    def of(cls, config: Config) -> Folders:
        return cls(
            inbox=config.inbox.resolve(),
            outbox=config.outbox.resolve(),
            archive=config.archive.resolve(),
            failed=config.failed.resolve(),
            state_dir=config.state_dir.resolve(),
        )

    def create(self) -> None:
        for folder in (self.inbox, self.outbox, self.archive, self.failed, self.state_dir):
            folder.mkdir(parents=True, exist_ok=True)


def worker_settings(config: Config) -> WorkerSettings:
    """What each worker process needs from the configuration."""
    return WorkerSettings(
        model_path=model_path(config),
        params=read_params(config),
        outputs=config.outputs,
        max_pixels=config.limits.max_pixels,
        max_pages=config.limits.max_pages,
        pdf_dpi=config.load.pdf_dpi,
    )


@dataclass(slots=True)
class _InFlight:
    """A document handed to a worker."""

    ready: Ready
    relative: Path
    sha256: str
    stem: str
    dispatched: float
    worker_pid: int


@dataclass(order=True, slots=True)
class _Queued:
    """A ready file waiting for a worker; ordered oldest first."""

    mtime_ns: int
    path: Path = field(compare=True)
    ready: Ready = field(compare=False)
    not_before: float = field(default=0.0, compare=False)
    tries: int = field(default=0, compare=False)


class Daemon:
    """The watch-folder service for one configuration.

    Parameters
    ----------
    config : Config
    config_path : Path or None
        Re-read on SIGHUP; None means the built-in defaults.
    """

    def __init__(self, config: Config, config_path: Path | None) -> None:
        self.config = config
        self.config_path = config_path
        self.folders = Folders.of(config)
        self._stop_requests = 0
        self._reload_requested = False
        self._ledger: Ledger | None = None
        self._pool: WorkerPool | None = None
        self._watcher: InboxWatcher | None = None
        self._tracker = StabilityTracker(settle_seconds=0.5, stable_seconds=5.0)
        self._filter = FileFilter((), ())
        self._queue: list[_Queued] = []
        self._queued_paths: set[Path] = set()
        self._in_flight: dict[int, _InFlight] = {}
        self._refused: set[Path] = set()
        self._kept: dict[Path, tuple[int, int]] = {}
        self._decode_retried: set[tuple[Path, int, int]] = set()
        self._next_job = 1
        self._next_rescan = 0.0
        self._next_status = 0.0
        self._counts = {"ok": 0, "failed": 0, "duplicate": 0}
        self._healthy = True
        self._notifier = Notifier.from_environ()
        self._watchdog_every = watchdog_interval()
        self._next_watchdog = 0.0
        self._next_watcher_try = 0.0

    # -- signals -----------------------------------------------------------

    def _on_stop(self, _signum: int, _frame: FrameType | None) -> None:
        # A second signal cuts the grace period short (see _drain).
        self._stop_requests += 1

    def _on_hup(self, _signum: int, _frame: FrameType | None) -> None:
        self._reload_requested = True

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self._on_stop)
        signal.signal(signal.SIGINT, self._on_stop)
        signal.signal(signal.SIGHUP, self._on_hup)

    # -- lifecycle ---------------------------------------------------------

    def run(self) -> int:
        """Run until SIGTERM/SIGINT; return the exit status.

        Raises
        ------
        ConfigError
            Folders coincide or nest, or the model file is missing.
        ModelError
            The model cannot be loaded.
        """
        self.install_signal_handlers()
        try:
            self._startup()
            self._main_loop()
            self._drain(self.config.shutdown_grace_seconds)
        finally:
            self._notifier.stopping()
            self._stop_components()
            self._notifier.close()
            if self._ledger is not None:
                self._ledger.close()
                self._ledger = None
        forced = self._stop_requests >= 2
        log.info("stopped", forced=forced, **self._counts)
        return 1 if forced else 0

    def _startup(self) -> None:
        # watchdog logs every inotify event at debug level: far too much for us.
        logging.getLogger("watchdog").setLevel(max(logging.INFO, logging.getLogger().level))
        check_environment(self.config)
        self.folders.create()
        if self._ledger is None:
            self._ledger = Ledger(self.folders.state_dir / LEDGER_NAME, exclusive=True)
        for path in remove_orphan_temps(self.folders.outbox, recursive=True):
            log.info("removed_orphan_temp", path=str(path))
        self._recover()
        self._start_components()

    def _start_components(self) -> None:
        cfg = self.config
        self.folders = Folders.of(cfg)
        self.folders.create()
        watch = cfg.watch
        self._tracker = StabilityTracker(
            settle_seconds=watch.settle_seconds, stable_seconds=watch.stable_seconds
        )
        self._filter = FileFilter(tuple(watch.patterns), tuple(watch.ignore))
        workers = config_worker_count(cfg)
        self._pool = WorkerPool(
            worker_settings(cfg),
            workers,
            document_timeout_seconds=cfg.limits.document_timeout_seconds,
        )
        self._pool.start()
        self._watcher = InboxWatcher(
            self.folders.inbox,
            recursive=watch.recursive,
            polling=watch.polling,
            poll_interval_seconds=watch.poll_interval_seconds,
        )
        self._watcher.start()
        if self._watcher.fallback_reason:
            log.warning("watch_fallback", reason=self._watcher.fallback_reason)
        self._rescan()
        self._healthy = True
        log.info(
            "ready",
            inbox=str(self.folders.inbox),
            outbox=str(self.folders.outbox),
            archive=str(self.folders.archive),
            failed=str(self.folders.failed),
            workers=workers,
            worker_pids=self._pool.pids(),
            polling=self._watcher.polling,
            backlog=len(self._tracker),
        )
        self._notifier.ready(self._status_line())

    def _stop_components(self) -> None:
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        if self._pool is not None:
            self._pool.kill()
            self._pool = None
        if self._in_flight:
            log.warning(
                "abandoned",
                count=len(self._in_flight),
                sources=[str(f.relative) for f in self._in_flight.values()],
                note="left in the inbox; read again on the next start",
            )
            self._in_flight.clear()
        self._queue.clear()
        self._queued_paths.clear()

    def _drain(self, grace: float, *, reason: str = "stop") -> None:
        """Stop taking files; let documents in progress finish for up to ``grace`` seconds."""
        if self._watcher is not None:
            self._watcher.stop()
        busy = len(self._in_flight)
        log.info(
            "stopping" if reason == "stop" else "draining", in_flight=busy, grace_seconds=grace
        )
        deadline = time.monotonic() + grace
        while (
            self._in_flight
            and self._pool is not None
            and time.monotonic() < deadline
            and self._stop_requests < 2
        ):
            for completion in self._pool.poll(_TICK):
                self._complete(completion)
            self._ping_watchdog()

    def _main_loop(self) -> None:
        assert self._pool is not None and self._watcher is not None
        while self._stop_requests == 0:
            if self._reload_requested:
                self._reload_requested = False
                self._reload()
            now = time.monotonic()
            self._take_events()
            if now >= self._next_rescan:
                self._rescan()
            self._check_watcher()
            for ready in self._tracker.pop_ready(now=now):
                self._enqueue(ready)
            self._dispatch_ready(now)
            timeout = _TICK
            due = self._tracker.next_due()
            if due is not None:
                timeout = min(timeout, max(0.0, due - time.monotonic()))
            for completion in self._pool.poll(timeout, wake=(self._watcher.wake_fd,)):
                self._complete(completion)
            if self._pool.broken is not None:
                raise DigitdError(f"a replacement worker failed: {self._pool.broken}")
            self._ping_watchdog()

    # -- reload ------------------------------------------------------------

    def _reload(self) -> None:
        try:
            new = load_config(self.config_path)
            check_environment(new)
        except ConfigError as exc:
            log.error(
                "reload_rejected",
                config=str(self.config_path),
                problems=exc.problems,
                note="keeping the current configuration",
            )
            return
        log.info("reloading", config=str(self.config_path))
        self._notifier.reloading()
        self._drain(self.config.shutdown_grace_seconds, reason="reload")
        self._stop_components()
        old = self.config
        try:
            self._switch_to(new)
        except DigitdError as exc:
            log.error(
                "reload_failed",
                config=str(self.config_path),
                error=str(exc),
                note="back to the previous configuration",
            )
            self._stop_components()
            self._switch_to(old)

    def _switch_to(self, config: Config) -> None:
        if Folders.of(config).state_dir != self.folders.state_dir and self._ledger is not None:
            self._ledger.close()
            self._ledger = None
        self.config = config
        self.folders = Folders.of(config)
        configure_logging(config.logging)
        self._startup()

    # -- watching ----------------------------------------------------------

    def _take_events(self) -> None:
        assert self._watcher is not None
        for cand in self._watcher.drain():
            if cand.hint == "error":
                log.error("watch_event_failed", path=str(cand.path), error=cand.message)
            elif cand.hint == "scan":
                self._scan_folder(cand.path)
            elif cand.hint is None:
                self._tracker.forget(cand.path)
            elif isinstance(cand.hint, Hint):
                self._consider(cand.path, cand.hint)

    def _rescan(self) -> None:
        self._scan_folder(self.folders.inbox)
        self._next_rescan = time.monotonic() + self.config.watch.rescan_seconds

    def _scan_folder(self, folder: Path) -> None:
        if not is_inside(folder, self.folders.inbox):
            return
        found = list(scan_inbox(self.folders.inbox, folder, recursive=self.config.watch.recursive))
        for path in found:
            self._consider(path, Hint.SCANNED)

    def _consider(self, path: Path, hint: Hint) -> None:
        """Start tracking a file the watcher saw, unless it is not ours to take."""
        inbox = self.folders.inbox
        relative = relative_to_inbox(path, inbox)
        if relative is None or relative == Path("."):
            return
        if not self.config.watch.recursive and len(relative.parts) > 1:
            return
        if path in self._queued_paths or self._is_in_flight(path):
            return
        if not self._filter.is_wanted(relative):
            return
        kind = classify_entry(path, inbox)
        if kind in ("symlink", "outside"):
            if path not in self._refused:
                self._refused.add(path)
                log.warning(
                    "refused",
                    source=str(relative),
                    reason="a symlink" if kind == "symlink" else "resolves outside the inbox",
                    note="not followed; left alone",
                )
            return
        if kind != "file":
            return
        kept = self._kept.get(path)
        if kept is not None:
            try:
                st = os.stat(path, follow_symlinks=False)
            except OSError:
                return
            if (st.st_size, st.st_mtime_ns) == kept:
                return
            del self._kept[path]
        self._tracker.note(path, hint)

    def _is_in_flight(self, path: Path) -> bool:
        return any(f.ready.path == path for f in self._in_flight.values())

    def _check_watcher(self) -> None:
        """Restart a dead observer; while it cannot be restarted, stop the watchdog pings."""
        assert self._watcher is not None
        now = time.monotonic()
        if self._watcher.is_alive() or now < self._next_watcher_try:
            return
        log.error("watcher_died", note="restarting the observer")
        try:
            self.folders.inbox.mkdir(parents=True, exist_ok=True)
            self._watcher.restart()
        except OSError as exc:
            self._healthy = False
            self._next_watcher_try = now + 5.0
            log.error(
                "watcher_restart_failed",
                error=str(exc),
                note="retrying every 5 s; systemd watchdog pings stopped",
            )
            return
        self._healthy = True
        if self._watcher.fallback_reason:
            log.warning("watch_fallback", reason=self._watcher.fallback_reason)
        self._rescan()

    # -- dispatching -------------------------------------------------------

    def _enqueue(self, ready: Ready, *, not_before: float = 0.0, tries: int = 0) -> None:
        if ready.path in self._queued_paths:
            return
        self._queued_paths.add(ready.path)
        heapq.heappush(self._queue, _Queued(ready.mtime_ns, ready.path, ready, not_before, tries))
        log.debug("queued", source=str(relative_to_inbox(ready.path, self.folders.inbox)))

    def _dispatch_ready(self, now: float) -> None:
        assert self._pool is not None
        deferred: list[_Queued] = []
        while self._queue and self._pool.idle_count() > 0:
            item = heapq.heappop(self._queue)
            if item.not_before > now:
                deferred.append(item)
                continue
            self._queued_paths.discard(item.path)
            try:
                self._dispatch(item)
            except DigitdError:
                raise
            except Exception as exc:  # one file's trouble never stops the daemon
                log.exception("dispatch_failed", source=str(item.path), error=str(exc))
        for item in deferred:
            heapq.heappush(self._queue, item)

    def _retry_later(self, item: _Queued, reason: str) -> None:
        retry = self.config.retry
        tries = item.tries + 1
        rel = relative_to_inbox(item.path, self.folders.inbox)
        if tries >= retry.max_attempts:
            if not item.path.exists():
                log.warning("vanished", source=str(rel), note="deleted before it was read")
                return
            log.warning("unreadable", source=str(rel), error=reason, attempts=tries)
            self._fail_unread(
                item.path,
                reason=f"cannot read the file: {reason}",
                error_type="unreadable",
                attempts=tries,
            )
            return
        delay = retry.backoff_seconds * (2 ** (tries - 1))
        log.info("retry_later", source=str(rel), error=reason, attempt=tries, delay_seconds=delay)
        self._queued_paths.add(item.path)
        heapq.heappush(
            self._queue,
            _Queued(item.mtime_ns, item.path, item.ready, time.monotonic() + delay, tries),
        )

    def _dispatch(self, item: _Queued) -> None:
        assert self._pool is not None and self._ledger is not None
        ready = item.ready
        path = ready.path
        relative = relative_to_inbox(path, self.folders.inbox)
        assert relative is not None
        limits = self.config.limits
        if ready.size > limits.max_file_bytes:
            self._fail_unread(
                path,
                reason=f"file is {ready.size} bytes, more than limits.max_file_bytes="
                f"{limits.max_file_bytes}",
                error_type="limit",
                attempts=1,
            )
            return
        try:
            data, st = _read_nofollow(path)
        except FileNotFoundError:
            self._retry_later(item, "file not found")
            return
        except OSError as exc:
            self._retry_later(item, exc.strerror or str(exc))
            return
        if (st.st_size, st.st_mtime_ns) != (ready.size, ready.mtime_ns):
            self._tracker.note(path, Hint.CHANGED)  # still being written
            return
        sha = hashlib.sha256(data).hexdigest()
        if any(f.sha256 == sha for f in self._in_flight.values()):
            # The same bytes under another name are being read right now:
            # decide about this copy once that one is finished.
            self._enqueue(ready, not_before=time.monotonic() + 1.0)
            return
        row = self._ledger.get(sha)
        if (
            row is not None
            and row.state == "done"
            and self.config.disposition == "keep"
            and row.source == str(relative)
        ):
            self._kept[path] = (st.st_size, st.st_mtime_ns)  # read before and kept on purpose
            return
        if row is not None and self._is_duplicate(row):
            self._handle_duplicate(path, relative, sha, row)
            return
        if (
            row is not None
            and row.state == "processing"
            and row.attempts >= self.config.retry.max_attempts
        ):
            self._fail_read(
                path,
                relative,
                sha,
                ready,
                error=f"gave up after {row.attempts} attempts that never finished (digitd "
                "stopped or crashed while reading it, or its outputs could not be written)",
                error_type="crash_loop",
                attempts=row.attempts,
            )
            return
        stem = self._choose_stem(relative, sha)
        self._ledger.start(sha, str(relative), str(relative.parent / stem))
        job = Job(self._next_job, str(relative), stem, data, sha)
        self._next_job += 1
        pid = self._pool.submit(job)
        self._in_flight[job.job_id] = _InFlight(ready, relative, sha, stem, time.monotonic(), pid)
        log.debug("dispatched", source=str(relative), sha256=sha, worker_pid=pid, job=job.job_id)

    def _choose_stem(self, relative: Path, sha: str) -> str:
        assert self._ledger is not None
        ledger = self._ledger
        sub = relative.parent

        def owner_of(stem: str) -> str | None:
            return ledger.stem_owner(str(sub / stem))

        return choose_stem(
            self.folders.outbox / sub, Path(relative.name).stem, sha, owner_of=owner_of
        )

    def _is_duplicate(self, row: LedgerRow) -> bool:
        return row.state == "done" and self.config.duplicates == "skip"

    def _handle_duplicate(self, path: Path, relative: Path, sha: str, row: LedgerRow) -> None:
        assert self._ledger is not None
        self._ledger.count_duplicate(sha)
        self._counts["duplicate"] += 1
        destination = self._dispose_ok(path, relative, sha)
        log.info(
            "duplicate",
            source=str(relative),
            sha256=sha,
            first_source=row.source,
            outputs=list(row.outputs),
            destination=None if destination is None else str(destination),
            note="same bytes already read; not read again (duplicates: skip)",
        )

    # -- completing --------------------------------------------------------

    def _complete(self, completion: Completion) -> None:
        flight = self._in_flight.pop(completion.job.job_id, None)
        if flight is None:
            return
        try:
            self._complete_one(completion, flight)
        except DigitdError:
            raise
        except Exception as exc:  # e.g. the outbox disk is full: the original stays put
            log.exception(
                "publish_failed",
                source=str(flight.relative),
                sha256=flight.sha256,
                error=str(exc),
                note="original left in the inbox; read again later",
            )
            self._enqueue(flight.ready, not_before=time.monotonic() + 30.0)

    def _complete_one(self, completion: Completion, flight: _InFlight) -> None:
        outcome = completion.outcome
        if outcome is None:
            self._fail_flight(
                flight, completion.failure or "unknown failure", completion.kind or "crash"
            )
            return
        if outcome.status == "ok":
            self._publish(flight, outcome)
            return
        key = (flight.ready.path, flight.ready.size, flight.ready.mtime_ns)
        stable = self.config.watch.stable_seconds
        if (
            outcome.error_kind == "input"
            and flight.ready.quiet_seconds < stable
            and key not in self._decode_retried
        ):
            # It may still be being written: wait for a full quiet period first.
            self._decode_retried.add(key)
            assert self._ledger is not None
            self._ledger.forget_attempt(flight.sha256)
            self._tracker.require(flight.ready, stable)
            log.info(
                "not_yet_complete",
                source=str(flight.relative),
                error=outcome.error,
                note=f"checked again after {stable:g} s without change",
            )
            return
        self._decode_retried.discard(key)
        self._fail_flight(flight, outcome.error or "failed", outcome.error_kind or "internal")

    def _fail_flight(self, flight: _InFlight, error: str, error_type: str) -> None:
        self._fail_read(
            flight.ready.path,
            flight.relative,
            flight.sha256,
            flight.ready,
            error=error,
            error_type=error_type,
            attempts=self._attempts(flight.sha256),
            stem=flight.stem,
        )

    def _attempts(self, sha: str) -> int:
        assert self._ledger is not None
        row = self._ledger.get(sha)
        return 1 if row is None else max(1, row.attempts)

    def _publish(self, flight: _InFlight, outcome: JobOutcome) -> None:
        assert self._ledger is not None
        self._decode_retried.discard((flight.ready.path, flight.ready.size, flight.ready.mtime_ns))
        ledger = self._ledger
        folder = self.folders.outbox / flight.relative.parent
        publish_files(folder, outcome.files)
        names = [str(flight.relative.parent / name) for name, _ in outcome.files]
        if outcome.rollup_rows:
            append_rollup(
                self.folders.outbox / output.rollup_name(datetime.now(UTC).date()),
                output.encode_rollup_header(),
                outcome.rollup_rows,
                before_append=lambda intent: ledger.record_rollup(flight.sha256, intent),
            )
        destination = self._plan_ok_destination(flight.relative, flight.sha256)
        ledger.mark_written(
            flight.sha256,
            outputs=names,
            destination=None if destination is None else str(destination),
            fields=outcome.fields,
            timings=outcome.timings_ms,
        )
        where = self._dispose_planned(flight.ready, destination)
        ledger.finish(flight.sha256)
        self._counts["ok"] += 1
        log.info(
            "document",
            source=str(flight.relative),
            sha256=flight.sha256,
            **outcome.summary(),
            seconds=round(time.monotonic() - flight.dispatched, 3),
            outputs=names,
            original=where,
            worker_pid=outcome.worker_pid,
        )

    # -- disposition -------------------------------------------------------

    def _plan_ok_destination(self, relative: Path, sha: str) -> Path | None:
        archive = self.folders.archive if self.config.disposition == "archive" else None
        return archive_destination(archive, relative, sha)

    def _dispose_planned(self, ready: Ready, destination: Path | None) -> str:
        """Move, delete or keep the original after success; say where it went."""
        path = ready.path
        try:
            st = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            return "vanished"
        if (st.st_size, st.st_mtime_ns) != (ready.size, ready.mtime_ns):
            # Rewritten while it was being read: these outputs are of the old
            # bytes; the new bytes are a new document.
            self._tracker.note(path, Hint.CHANGED)
            return "changed; read again"
        disposition = self.config.disposition
        if disposition == "archive" and destination is not None:
            move_file(path, destination)
            return str(destination)
        if disposition == "delete":
            path.unlink()
            fsync_dir(path.parent)
            return "deleted"
        self._kept[path] = (st.st_size, st.st_mtime_ns)
        return "kept"

    def _dispose_ok(self, path: Path, relative: Path, sha: str) -> Path | None:
        destination = self._plan_ok_destination(relative, sha)
        try:
            st = os.stat(path, follow_symlinks=False)
        except FileNotFoundError:
            return None
        ready = Ready(path, st.st_size, st.st_mtime_ns, 0.0)
        self._dispose_planned(ready, destination)
        return destination

    def _fail_unread(self, path: Path, *, reason: str, error_type: str, attempts: int) -> None:
        """Fail a file that was never handed to a worker (too big, unreadable)."""
        relative = relative_to_inbox(path, self.folders.inbox)
        assert relative is not None
        try:
            sha = sha256_file(path)
        except OSError:
            sha = None
        if sha is None:
            log.error("unreadable", source=str(relative), error=reason, note="left in the inbox")
            return
        try:
            st = os.stat(path, follow_symlinks=False)
        except OSError:
            return
        ready = Ready(path, st.st_size, st.st_mtime_ns, 0.0)
        self._fail_read(
            path, relative, sha, ready, error=reason, error_type=error_type, attempts=attempts
        )

    def _fail_read(
        self,
        path: Path,
        relative: Path,
        sha: str,
        ready: Ready,
        *,
        error: str,
        error_type: str,
        attempts: int,
        stem: str | None = None,
    ) -> None:
        """Send an original to failed/ with ``NAME.error.json``; write ``NAME.json`` (failed)."""
        assert self._ledger is not None
        ledger = self._ledger
        if stem is None:
            stem = self._choose_stem(relative, sha)
        row = ledger.get(sha)
        if row is None or row.state != "processing":
            ledger.start(sha, str(relative), str(relative.parent / stem))
        folder = self.folders.outbox / relative.parent
        folder.mkdir(parents=True, exist_ok=True)
        document = output.failed_document(
            source=relative.name, sha256=sha, error=error, processed_at=utc_now()
        )
        json_name = output.json_name(stem)
        outputs: list[str] = []
        if self.config.outputs.json:
            write_atomic(folder / json_name, output.encode_json(document))
            outputs.append(str(relative.parent / json_name))
        destination = free_destination(self.folders.failed / relative.parent, relative.name, sha)
        ledger.mark_failing(
            sha,
            error=error,
            error_type=error_type,
            destination=str(destination),
            outputs=outputs,
        )
        write_error_report(
            destination,
            source=str(relative),
            sha256=sha,
            error=error,
            error_type=error_type,
            attempts=attempts,
            at=utc_now(),
        )
        where = "vanished"
        if path.exists():
            move_file(path, destination)
            where = str(destination)
        ledger.finish(sha)
        self._counts["failed"] += 1
        log.warning(
            "document",
            source=str(relative),
            sha256=sha,
            status="failed",
            error=error,
            error_type=error_type,
            attempts=attempts,
            original=where,
        )

    # -- recovery ----------------------------------------------------------

    def _recover(self) -> None:
        """Finish documents a crash left between 'outputs durable' and 'original moved'."""
        assert self._ledger is not None
        disposition = self.config.disposition
        for item in finish_interrupted(
            self._ledger,
            inbox=self.folders.inbox,
            archive=self.folders.archive if disposition == "archive" else None,
            delete=disposition == "delete",
        ):
            if item.error is None:
                log.info(
                    "recovered",
                    source=item.source,
                    sha256=item.sha256,
                    state=item.state,
                    original=item.original,
                )
            else:
                log.error(
                    "recovery_failed",
                    source=item.source,
                    sha256=item.sha256,
                    error=item.error,
                    note="left as it is; retried at the next start",
                )

    # -- systemd -----------------------------------------------------------

    def _ping_watchdog(self) -> None:
        """Ping systemd's watchdog while healthy (a dead watcher stops the pings); post STATUS."""
        if not self._notifier.enabled:
            return
        now = time.monotonic()
        every = self._watchdog_every
        if every is not None and self._healthy and now >= self._next_watchdog:
            self._next_watchdog = now + every
            self._notifier.watchdog()
        if now >= self._next_status:
            self._next_status = now + 5.0
            self._notifier.status(self._status_line())

    def _status_line(self) -> str:
        return (
            f"ok {self._counts['ok']}, failed {self._counts['failed']}, "
            f"duplicates {self._counts['duplicate']}, in progress {len(self._in_flight)}, "
            f"waiting {len(self._queue) + len(self._tracker)}"
        )


def _read_nofollow(path: Path) -> tuple[bytes, os.stat_result]:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        st = os.fstat(fd)
        chunks = []
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks), st
    finally:
        os.close(fd)
