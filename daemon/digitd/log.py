"""Logging for the service shell: structlog, JSON lines or a console, unbuffered.

``configure_logging`` is called once at start-up (and again after a config
reload). With ``format: auto`` the output is one JSON object per line when
stdout is not a terminal (journald, files, pipes) and a readable console
rendering on a terminal. Under systemd each JSON line starts with the syslog
priority prefix ``<N>`` so that journald keeps the level (``journalctl -p
warning`` works). Every line is flushed as it is written.

Expected failures (``DigitdError``) are logged without a stack trace, with
``error`` and ``error_type`` keys; anything else logged with ``exc_info`` keeps
its traceback. Records of the standard library's ``logging`` (watchdog, ...)
pass through the same renderer.

The pipeline never logs; only the service layer and commands do.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Mapping, MutableMapping
from typing import TYPE_CHECKING, Any, Literal, TextIO

import structlog

from digitd.errors import DigitdError

if TYPE_CHECKING:
    from digitd.config import LoggingConfig

__all__ = [
    "choose_format",
    "configure_logging",
    "get_logger",
    "is_under_systemd",
    "syslog_priority",
]

_LEVELS = {
    "debug": logging.DEBUG,
    "info": logging.INFO,
    "warning": logging.WARNING,
    "error": logging.ERROR,
    "critical": logging.CRITICAL,
}

# syslog(3) priorities, as journald reads them from a "<N>" line prefix.
_PRIORITIES = {
    "critical": 2,
    "exception": 3,
    "error": 3,
    "warning": 4,
    "warn": 4,
    "info": 6,
    "debug": 7,
}

_handler: logging.Handler | None = None


def is_under_systemd(environ: Mapping[str, str]) -> bool:
    """True when systemd started this process (``JOURNAL_STREAM`` or ``INVOCATION_ID`` set)."""
    return bool(environ.get("JOURNAL_STREAM") or environ.get("INVOCATION_ID"))


def choose_format(
    fmt: Literal["auto", "json", "console"], *, is_tty: bool
) -> Literal["json", "console"]:
    """The renderer for a configured ``logging.format``: ``auto`` follows the terminal."""
    if fmt == "auto":
        return "console" if is_tty else "json"
    return fmt


def syslog_priority(level: str) -> int:
    """The syslog priority of a structlog level name (``info`` -> 6); unknown ones are 6."""
    return _PRIORITIES.get(level.lower(), 6)


def _exception_of(exc_info: Any) -> BaseException | None:
    if isinstance(exc_info, BaseException):
        return exc_info
    if isinstance(exc_info, tuple) and len(exc_info) == 3:
        return exc_info[1]
    if exc_info is True:
        return sys.exc_info()[1]
    return None


def _drop_expected_tracebacks(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Replace the traceback of an expected failure by its message and type."""
    exc = _exception_of(event_dict.get("exc_info"))
    if isinstance(exc, DigitdError):
        del event_dict["exc_info"]
        event_dict.setdefault("error", str(exc))
        event_dict.setdefault("error_type", type(exc).__name__)
    return event_dict


class _JSONLines:
    """Render an event as one JSON object, with a ``<N>`` syslog prefix if asked."""

    def __init__(self, *, syslog_prefix: bool) -> None:
        self._syslog_prefix = syslog_prefix

    def __call__(self, _logger: Any, method: str, event_dict: MutableMapping[str, Any]) -> str:
        level = str(event_dict.get("level", method))
        ordered = {
            key: event_dict[key] for key in ("timestamp", "level", "event") if key in event_dict
        }
        ordered.update(event_dict)
        line = json.dumps(ordered, default=str, ensure_ascii=False)
        if self._syslog_prefix:
            return f"<{syslog_priority(level)}>{line}"
        return line


def configure_logging(
    settings: LoggingConfig,
    *,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
) -> Literal["json", "console"]:
    """Configure structlog and the standard library's logging for this process.

    Parameters
    ----------
    settings : LoggingConfig
        The ``logging`` section: format and level.
    stream : text file or None
        Where lines go; standard output by default.
    environ : mapping or None
        The environment, for systemd detection; ``os.environ`` by default.

    Returns
    -------
    {'json', 'console'}
        The renderer chosen.
    """
    stream = sys.stdout if stream is None else stream
    environ = os.environ if environ is None else environ
    try:
        is_tty = stream.isatty()
    except (AttributeError, ValueError):
        is_tty = False
    chosen = choose_format(settings.format, is_tty=is_tty)
    level = _LEVELS[settings.level]

    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        _drop_expected_tracebacks,
        structlog.processors.StackInfoRenderer(),
    ]
    renderer: list[Any]
    if chosen == "json":
        renderer = [
            structlog.processors.dict_tracebacks,
            _JSONLines(syslog_prefix=is_under_systemd(environ)),
        ]
    else:
        renderer = [structlog.dev.ConsoleRenderer(colors=is_tty)]

    structlog.configure(
        processors=[*shared, *renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.WriteLoggerFactory(file=stream),
        cache_logger_on_first_use=False,
    )

    global _handler
    root = logging.getLogger()
    if _handler is not None:
        root.removeHandler(_handler)
    _handler = logging.StreamHandler(stream)
    _handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[structlog.stdlib.add_logger_name, *shared],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
        )
    )
    root.addHandler(_handler)
    root.setLevel(level)
    return chosen


def get_logger(**initial_values: Any) -> Any:
    """A structlog logger with ``initial_values`` bound (e.g. ``source``, ``sha256``)."""
    return structlog.get_logger(**initial_values)
