"""``digitd run``: the watch-folder daemon, in the foreground (systemd style)."""

from __future__ import annotations

import argparse
from pathlib import Path

HELP = "Watch the inbox and read every scan dropped there (runs in the foreground)."


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        metavar="FILE",
        help="YAML configuration (default: built-in defaults; see config/digitd.yaml)",
    )


def run(args: argparse.Namespace) -> int:
    from digitd.config import load_config
    from digitd.log import configure_logging
    from digitd.service.daemon import Daemon

    config = load_config(args.config)
    configure_logging(config.logging)
    return Daemon(config, args.config).run()
