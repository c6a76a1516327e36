"""The ``digitd`` command line: one entry point, one place that maps errors to exit codes."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from digitd import __version__
from digitd.errors import DigitdError, ExitCode

__all__ = ["build_parser", "main"]

# Each subcommand lives in its own module exposing ``HELP``,
# ``add_arguments(parser)`` and ``run(args) -> int``; heavy imports stay
# inside ``run`` so that ``digitd --help`` is instant.
COMMANDS: dict[str, str] = {
    "run": "digitd.commands.run",
    "process": "digitd.commands.process",
    "check-config": "digitd.commands.check_config",
    "status": "digitd.commands.status",
    "train": "digitd.commands.train",
    "evaluate": "digitd.commands.evaluate",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="digitd", description="Read handwritten digits from scanned cheques and forms."
    )
    parser.add_argument("--version", action="version", version=f"digitd {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, module_name in COMMANDS.items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue  # a command not built yet in this checkout
        p = sub.add_parser(name, help=module.HELP, description=module.HELP)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; turn expected errors into one line and an exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args._run(args))
    except KeyboardInterrupt:
        print("digitd: interrupted", file=sys.stderr)
        return ExitCode.INTERRUPTED
    except DigitdError as exc:
        problems = getattr(exc, "problems", None) or [str(exc)]
        for line in problems:
            print(f"digitd: error: {line}", file=sys.stderr)
        return exc.exit_code
