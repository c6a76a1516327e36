"""``digitd check-config``: validate a configuration file and print the effective one."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["HELP", "add_arguments", "run"]

HELP = "validate a configuration file and print the effective configuration"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "file",
        type=Path,
        nargs="?",
        help="the YAML file to check; without it, print the built-in defaults",
    )
    parser.add_argument(
        "--no-environment",
        action="store_true",
        help="check the file alone, not the model file and folders it names "
        "(for a file meant for another machine)",
    )


def run(args: argparse.Namespace) -> int:
    """Print the effective configuration as YAML; raise ``ConfigError`` on any problem.

    Raises
    ------
    ConfigError
        One line per problem: the file is unreadable, a key is unknown, a value
        has the wrong type, or (unless ``--no-environment``) the model file is
        missing or the folders overlap.
    """
    from digitd.config import (
        check_environment,
        format_config,
        load_config,
        model_path,
        worker_count,
    )

    config = load_config(args.file)
    if not args.no_environment:
        check_environment(config)
    sys.stdout.write(format_config(config))
    if config.workers == "auto":
        sys.stdout.write(f"# workers: auto means {worker_count(config)} on this machine\n")
    if config.model is None:
        sys.stdout.write(f"# model: null means {model_path(config)}\n")
    return 0
