"""The systemd unit: its sandbox score and the settings the daemon relies on."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from digitd.config import Config

UNIT = Path(__file__).resolve().parents[1] / "systemd" / "digitd.service"
MAX_EXPOSURE = 1.5  # systemd-analyze calls up to 1.9 "OK"; the product brief asks for 1.5


def _settings() -> dict[str, list[str]]:
    """Every ``Key=value`` of the unit, values in order of appearance."""
    settings: dict[str, list[str]] = {}
    for line in UNIT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", ";", "[")):
            continue
        key, _, value = line.partition("=")
        settings.setdefault(key, []).append(value)
    return settings


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_sandbox_exposure_is_at_most_1_5() -> None:
    done = subprocess.run(
        ["systemd-analyze", "security", "--offline=yes", str(UNIT)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    found = re.search(r"Overall exposure level for digitd\.service: (\d+\.\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    assert float(found.group(1)) <= MAX_EXPOSURE, done.stdout


def test_unit_is_a_notify_service_with_a_watchdog() -> None:
    s = _settings()
    assert s["Type"] == ["notify"]
    assert s["NotifyAccess"] == ["main"]
    assert int(s["WatchdogSec"][0]) >= 10
    assert s["Restart"] == ["on-failure"]
    assert s["ExecStart"][0].split()[1:3] == ["run", "--config"]
    assert s["ExecReload"] == ["/bin/kill -HUP $MAINPID"]


def test_unit_runs_as_a_dedicated_user_in_a_sandbox() -> None:
    s = _settings()
    assert s["User"] == ["digitd"]
    for key in (
        "NoNewPrivileges",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
        "PrivateNetwork",
    ):
        assert s[key] == ["yes"], key
    assert s["ProtectSystem"] == ["strict"]
    assert s["RestrictAddressFamilies"] == ["AF_UNIX"]
    assert "@system-service" in s["SystemCallFilter"]
    assert s["MemoryMax"]
    assert s["OOMPolicy"] == ["continue"]  # a worker killed for memory fails one document only


def test_working_directory_is_writable() -> None:
    s = _settings()
    (work,) = s["WorkingDirectory"]
    writable = " ".join(s["ReadWritePaths"]).split()
    assert any(work == w or work.startswith(w.rstrip("/") + "/") for w in writable)


def test_stop_timeout_leaves_room_for_the_grace_period() -> None:
    s = _settings()
    assert s["KillMode"] == ["mixed"]  # SIGTERM to the daemon alone, not to its workers
    assert float(s["TimeoutStopSec"][0]) > Config().shutdown_grace_seconds + 10
