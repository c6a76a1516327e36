"""Fixtures of the end-to-end tests; the harness itself is ``daemon_harness``."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from daemon_harness import Daemon


@pytest.fixture
def make_daemon(tmp_path: Path) -> Iterator[Callable[..., Daemon]]:
    started: list[Daemon] = []

    def make(overrides: dict[str, Any] | None = None, root: Path | None = None) -> Daemon:
        d = Daemon(root or tmp_path, overrides)
        started.append(d)
        return d

    yield make
    for d in started:
        d.stop()
