"""Logging: JSON lines off a terminal, syslog prefixes under systemd, console on a TTY."""

from __future__ import annotations

import io
import json
import logging
import os
from collections.abc import Iterator

import pytest
import structlog

from digitd.config import LoggingConfig
from digitd.errors import InputLimitError
from digitd.log import (
    choose_format,
    configure_logging,
    get_logger,
    is_under_systemd,
    syslog_priority,
)


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if isinstance(handler.formatter, structlog.stdlib.ProcessorFormatter):
            root.removeHandler(handler)


def _lines(stream: io.StringIO) -> list[str]:
    return stream.getvalue().splitlines()


def test_json_lines_when_not_a_terminal() -> None:
    stream = io.StringIO()
    assert configure_logging(LoggingConfig(), stream=stream, environ={}) == "json"
    log = get_logger(source="a.png", sha256="ab12")
    log.info("document_done", fields=3, timings_ms={"total": 12.5})
    log.debug("too_chatty")
    (line,) = _lines(stream)
    record = json.loads(line)
    assert record["event"] == "document_done"
    assert record["level"] == "info"
    assert record["source"] == "a.png"
    assert record["fields"] == 3
    assert record["timestamp"].endswith("Z")
    assert list(record)[:3] == ["timestamp", "level", "event"]


def test_level_comes_from_the_configuration() -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(level="debug"), stream=stream, environ={})
    get_logger().debug("shown")
    configure_logging(LoggingConfig(level="error"), stream=stream, environ={})
    get_logger().warning("hidden")
    get_logger().error("shown_too")
    assert [json.loads(x)["event"] for x in _lines(stream)] == ["shown", "shown_too"]


@pytest.mark.parametrize("variable", ["JOURNAL_STREAM", "INVOCATION_ID"])
def test_syslog_priority_prefix_under_systemd(variable: str) -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(level="debug"), stream=stream, environ={variable: "8:1234"})
    log = get_logger()
    log.debug("d")
    log.info("i")
    log.warning("w")
    log.error("e")
    lines = _lines(stream)
    assert [line[:3] for line in lines] == ["<7>", "<6>", "<4>", "<3>"]
    assert json.loads(lines[1][3:])["event"] == "i"


def test_no_prefix_outside_systemd() -> None:
    assert not is_under_systemd({"HOME": "/root"})
    assert is_under_systemd({"INVOCATION_ID": "abc"})
    assert syslog_priority("warning") == 4
    assert syslog_priority("critical") == 2


def test_expected_failures_have_no_traceback() -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(), stream=stream, environ={})
    try:
        raise InputLimitError("image has 9 pixels, more than limits.max_pixels=4")
    except InputLimitError:
        get_logger().exception("document_failed", source="big.png")
    record = json.loads(stream.getvalue())
    assert record["error"] == "image has 9 pixels, more than limits.max_pixels=4"
    assert record["error_type"] == "InputLimitError"
    assert "exception" not in record
    assert "Traceback" not in stream.getvalue()


def test_unexpected_failures_keep_their_traceback() -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(), stream=stream, environ={})
    try:
        raise KeyError("missing")
    except KeyError:
        get_logger().exception("bug")
    record = json.loads(stream.getvalue())
    assert record["exception"][0]["exc_type"] == "KeyError"
    assert record["exception"][0]["frames"]


def test_standard_library_records_use_the_same_renderer() -> None:
    stream = io.StringIO()
    configure_logging(LoggingConfig(), stream=stream, environ={"INVOCATION_ID": "x"})
    logging.getLogger("watchdog.observers").warning("inotify watch limit reached")
    line = stream.getvalue().strip()
    assert line.startswith("<4>")
    record = json.loads(line[3:])
    assert record["event"] == "inotify watch limit reached"
    assert record["logger"] == "watchdog.observers"
    assert record["level"] == "warning"


def test_console_on_a_terminal() -> None:
    leader, follower = os.openpty()
    with os.fdopen(follower, "w") as tty:
        assert configure_logging(LoggingConfig(), stream=tty, environ={}) == "console"
        get_logger().info("ready", workers=2)
        out = os.read(leader, 4096).decode()
    os.close(leader)
    assert "ready" in out
    assert "workers" in out
    assert not out.lstrip().startswith("{")


def test_forced_json_on_a_terminal_and_choice_rules() -> None:
    assert choose_format("auto", is_tty=True) == "console"
    assert choose_format("auto", is_tty=False) == "json"
    assert choose_format("json", is_tty=True) == "json"
    assert choose_format("console", is_tty=False) == "console"


def test_lines_are_written_through_without_buffering() -> None:
    read_end, write_end = os.pipe()
    os.set_blocking(read_end, False)
    with os.fdopen(write_end, "w") as pipe:  # a block-buffered text file
        configure_logging(LoggingConfig(), stream=pipe, environ={})
        get_logger().info("visible_at_once")
        data = os.read(read_end, 4096)  # before the file is flushed or closed
    os.close(read_end)
    assert json.loads(data)["event"] == "visible_at_once"
