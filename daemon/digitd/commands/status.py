"""``digitd status``: what the ledger knows, and what waits in the inbox."""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["HELP", "add_arguments", "run"]

HELP = "show counts by state, the last documents, and the oldest file waiting in the inbox"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="YAML configuration of the daemon (default: built-in defaults)",
    )
    parser.add_argument(
        "--last", type=int, default=10, metavar="N", help="how many recent documents to list"
    )
    parser.add_argument("--json", action="store_true", help="print one JSON object")


def run(args: argparse.Namespace) -> int:
    """Print the status; return 0.

    Raises
    ------
    ConfigError
        The configuration is invalid.
    """
    from digitd.config import load_config
    from digitd.service.daemon import LEDGER_NAME
    from digitd.service.ledger import STATES, Ledger
    from digitd.service.watcher import FileFilter, scan_inbox

    config = load_config(args.config)
    ledger_path = config.state_dir.resolve() / LEDGER_NAME
    counts: dict[str, int] = dict.fromkeys(STATES, 0)
    recent: list[dict[str, Any]] = []
    if ledger_path.exists():
        with Ledger(ledger_path, readonly=True) as ledger:
            counts = ledger.count_by_state()
            for row in ledger.recent(max(0, args.last)):
                recent.append(
                    {
                        "updated_at": row.updated_at,
                        "state": row.state,
                        "source": row.source,
                        "sha256": row.sha256,
                        "fields": row.fields,
                        "attempts": row.attempts,
                        "error": row.error,
                    }
                )
    inbox = config.inbox.resolve()
    file_filter = FileFilter(tuple(config.watch.patterns), tuple(config.watch.ignore))
    waiting = []
    if inbox.is_dir():
        for path in scan_inbox(inbox, inbox, recursive=config.watch.recursive):
            rel = path.relative_to(inbox)
            if path.is_symlink() or not file_filter.is_wanted(rel):
                continue
            try:
                waiting.append((path.stat().st_mtime, str(rel)))
            except OSError:
                continue
    oldest = None
    if waiting:
        mtime, name = min(waiting)
        oldest = {"source": name, "waiting_seconds": round(max(0.0, time.time() - mtime), 1)}
    report = {
        "ledger": str(ledger_path),
        "counts": counts,
        "inbox_waiting": len(waiting),
        "oldest_waiting": oldest,
        "recent": recent,
    }
    if args.json:
        json.dump(report, sys.stdout, indent=2, ensure_ascii=False)
        print()
        return 0
    _print_table(report, ledger_exists=ledger_path.exists())
    return 0


def _print_table(report: dict[str, Any], *, ledger_exists: bool) -> None:
    print(f"ledger: {report['ledger']}" + ("" if ledger_exists else " (none yet)"))
    print("counts: " + ", ".join(f"{k} {v}" for k, v in report["counts"].items()))
    oldest = report["oldest_waiting"]
    if oldest is None:
        print(f"inbox: {report['inbox_waiting']} waiting")
    else:
        print(
            f"inbox: {report['inbox_waiting']} waiting; oldest {oldest['source']!r} "
            f"for {oldest['waiting_seconds']:g} s"
        )
    if report["recent"]:
        print("recent:")
        for r in report["recent"]:
            extra = f"  error: {r['error']}" if r["error"] else f"  fields: {r['fields']}"
            print(f"  {r['updated_at']}  {r['state']:<10}  {r['source']}{extra}")
