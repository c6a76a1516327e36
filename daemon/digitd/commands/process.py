"""``digitd process``: read files once, write the same outputs as the daemon.

Originals stay where they are; no ledger is kept. The exit status is 1 when
any input failed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["HELP", "add_arguments", "run"]

HELP = "read scans once and write their outputs (originals are left in place)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        metavar="FILE|DIR",
        help="scans to read; a folder means the files in it matching watch.patterns",
    )
    parser.add_argument(
        "--outbox",
        type=Path,
        default=None,
        metavar="DIR",
        help="where outputs go (default: the configuration's outbox)",
    )
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="YAML configuration (default: built-in defaults)",
    )
    parser.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="worker processes (default: the configuration's workers)",
    )


def run(args: argparse.Namespace) -> int:
    """Read every input; return 0 when all succeeded, 1 when any failed.

    Raises
    ------
    ConfigError
        The configuration is invalid, the model file is missing, or an input
        does not exist.
    ModelError
        The model cannot be loaded.
    """
    import dataclasses

    from digitd.config import check_model_file, load_config
    from digitd.errors import ConfigError
    from digitd.log import configure_logging
    from digitd.service.batch import run_batch

    config = load_config(args.config)
    if args.workers is not None:
        if args.workers < 1:
            raise ConfigError(f"--workers must be at least 1, got {args.workers}")
        config = dataclasses.replace(config, workers=args.workers)
    check_model_file(config)
    configure_logging(config.logging)
    missing = [str(p) for p in args.inputs if not p.exists()]
    if missing:
        raise ConfigError([f"input {m!r} does not exist" for m in missing])
    outbox = (args.outbox if args.outbox is not None else config.outbox).resolve()
    summary = run_batch(config, list(args.inputs), outbox)
    return 1 if summary.failed else 0
