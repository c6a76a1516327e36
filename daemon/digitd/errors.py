"""Error types that carry their process exit code.

Only the CLI entry point turns these into exit codes; everything else raises.
A message names the bad value and says how to fix it.
"""

from __future__ import annotations

from enum import IntEnum

__all__ = [
    "ConfigError",
    "DigitdError",
    "ExitCode",
    "InputError",
    "InputLimitError",
    "ModelError",
]


class ExitCode(IntEnum):
    OK = 0
    FAILURE = 1  # some inputs failed (batch mode) or an unexpected error
    BAD_ARGS = 2  # bad command line or configuration
    BAD_INPUT = 3
    BAD_MODEL = 4
    INTERRUPTED = 130


class DigitdError(Exception):
    """Base of every expected digitd failure."""

    exit_code: ExitCode = ExitCode.FAILURE


class ConfigError(DigitdError):
    """A configuration value is missing, unknown or of the wrong type.

    ``problems`` holds one line per problem, each naming the key path.
    """

    exit_code = ExitCode.BAD_ARGS

    def __init__(self, problems: list[str] | str) -> None:
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("; ".join(self.problems))


class InputError(DigitdError):
    """An input document cannot be read (corrupt, truncated, wrong format)."""

    exit_code = ExitCode.BAD_INPUT


class InputLimitError(InputError):
    """An input document exceeds a configured limit (pixels, pages, bytes)."""


class ModelError(DigitdError):
    """A model file is missing, corrupt, tampered with or incompatible."""

    exit_code = ExitCode.BAD_MODEL
