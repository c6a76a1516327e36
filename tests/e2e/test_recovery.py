"""A crash at each step between 'read' and 'original moved', then a real restart.

The state a crash leaves is built with the daemon's own steps (worker,
atomic writes, locked rollup append, ledger), stopped at the chosen point;
then ``digitd run`` starts on it. Whatever the point: every input ends in
exactly one place, its outputs exist once, its rollup rows appear once.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from pathlib import Path

import pytest
from daemon_harness import (
    Daemon,
    check_accounted,
    check_outbox,
    drop,
    page_png,
    sha256,
    wait_settled,
)

from digitd import output
from digitd.config import SHIPPED_MODEL, OutputsConfig
from digitd.model.format import load_model
from digitd.pipeline.read import ReadParams
from digitd.service.daemon import LEDGER_NAME
from digitd.service.ledger import Ledger, RollupIntent
from digitd.service.outbox import append_rollup, publish_files
from digitd.service.worker import Job, WorkerSettings, process_job

SETTINGS = WorkerSettings(
    model_path=SHIPPED_MODEL,
    params=ReadParams(),
    outputs=OutputsConfig(),
    max_pixels=2_000_000,
    max_pages=5,
)


@pytest.fixture(scope="module")
def model():
    return load_model(SHIPPED_MODEL)


def _rollup(root: Path) -> Path:
    return root / "outbox" / output.rollup_name(datetime.now(UTC).date())


def _crash_after(step: str, root: Path, name: str, data: bytes, model) -> None:
    """Run the daemon's steps for one document up to ``step``, then 'crash'."""
    digest = sha256(data)
    stem = Path(name).stem
    drop(root / "inbox" / name, data)
    with Ledger(root / "state" / LEDGER_NAME) as ledger:
        ledger.start(digest, name, stem)
        if step == "started":
            return
        outcome = process_job(Job(1, name, stem, data, digest), model, SETTINGS)
        assert outcome.status == "ok"
        publish_files(root / "outbox", outcome.files)
        if step == "outputs":
            return
        rollup = _rollup(root)
        if step == "torn-rollup":
            header = b"" if rollup.exists() else output.encode_rollup_header()
            offset = rollup.stat().st_size if rollup.exists() else 0
            full = header + outcome.rollup_rows
            intent = RollupIntent(str(rollup), offset, len(full), hashlib.sha256(full).hexdigest())
            ledger.record_rollup(digest, intent)
            with rollup.open("ab") as f:
                f.write(full[: len(full) // 2])
            return
        append_rollup(
            rollup,
            output.encode_rollup_header(),
            outcome.rollup_rows,
            before_append=lambda intent: ledger.record_rollup(digest, intent),
        )
        if step == "rollup":
            return
        destination = root / "archive" / name
        ledger.mark_written(
            digest,
            outputs=[n for n, _ in outcome.files],
            destination=str(destination),
            fields=outcome.fields,
            timings=outcome.timings_ms,
        )
        if step == "written":
            return
        destination.parent.mkdir(parents=True, exist_ok=True)
        (root / "inbox" / name).rename(destination)  # moved; ledger not yet 'done'
        assert step == "moved"


def _failing_crash(root: Path, name: str, data: bytes) -> None:
    digest = sha256(data)
    drop(root / "inbox" / name, data)
    with Ledger(root / "state" / LEDGER_NAME) as ledger:
        ledger.start(digest, name, Path(name).stem)
        ledger.mark_failing(
            digest,
            error="file is empty (0 bytes)",
            error_type="input",
            destination=str(root / "failed" / name),
            outputs=[],
        )


# A torn append is the very last thing before a crash, so it comes last here.
STEPS = ["started", "outputs", "rollup", "written", "moved", "torn-rollup"]


def test_restart_after_a_crash_at_every_step(tmp_path: Path, model) -> None:
    daemon = Daemon(tmp_path)
    for folder in ("inbox", "outbox", "archive", "failed", "state"):
        (tmp_path / folder).mkdir()
    inputs = {f"{step}.png": page_png(1300 + i) for i, step in enumerate(STEPS)}
    for step, (name, data) in zip(STEPS, inputs.items(), strict=True):
        _crash_after(step, tmp_path, name, data, model)
    failing = b"\x89PNG truncated"
    _failing_crash(tmp_path, "failing.png", failing)
    poison = page_png(1399)  # a document the daemon died on three times already
    drop(tmp_path / "inbox" / "poison.png", poison)
    with Ledger(tmp_path / "state" / LEDGER_NAME) as ledger:
        for _ in range(3):  # retry.max_attempts in the harness
            ledger.start(sha256(poison), "poison.png", "poison")
    daemon.start()
    try:
        all_inputs = {**inputs, "failing.png": failing, "poison.png": poison}
        wait_settled(tmp_path, all_inputs)
        where = check_accounted(tmp_path, all_inputs)
        assert where["failing.png"] == tmp_path / "failed" / "failing.png"
        assert (tmp_path / "failed" / "failing.error.json").exists()
        assert where["poison.png"] == tmp_path / "failed" / "poison.png"
        report = (tmp_path / "failed" / "poison.error.json").read_text()
        assert "gave up after 3 attempts" in report
        for name in inputs:
            assert where[name] == tmp_path / "archive" / name
        results = check_outbox(tmp_path / "outbox")
        rows = _rollup(tmp_path).read_text().splitlines()
        assert rows.count(rows[0]) == 1  # one header
        assert results[sha256(poison)]["status"] == "failed"
        for name, data in inputs.items():
            doc = results[sha256(data)]
            assert doc["_path"].name == name.replace(".png", ".json")
            fields = len(doc["pages"][0]["fields"])
            assert sum(sha256(data) in r for r in rows) == fields, f"rollup rows of {name}"
        for source in ("started.png", "outputs.png", "torn-rollup.png"):
            daemon.wait_event("document", source=source)  # logged just after the move
        reprocessed = {e["source"] for e in daemon.find("document", status="ok")}
        assert reprocessed == {"started.png", "outputs.png", "torn-rollup.png"}
        recovered = {e["source"] for e in daemon.find("recovered")}
        assert recovered == {"rollup.png", "written.png", "moved.png", "failing.png"}
    finally:
        daemon.stop()
