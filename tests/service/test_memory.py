"""Workers keep freed page buffers: the same allocations twice fault no pages in anew."""

from __future__ import annotations

import platform
import subprocess
import sys

import pytest

# Allocate and free a page's worth of buffers (6, 18 and 24 MB) once, then five
# times more, and print the minor page faults of the five.
_PAGES = """
import resource, sys
import numpy as np
from digitd.service.memory import keep_freed_memory
if sys.argv[1] == "kept":
    assert keep_freed_memory()
def page():
    grey = np.ones((3000, 2000), np.uint8)
    rgb = np.ones((3000, 2000, 3), np.uint8)
    labels = np.ones((3000, 2000), np.int32)
    del rgb, labels, grey
page()
before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
for _ in range(5):
    page()
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""

glibc_only = pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="mallopt settings are glibc's",
)


def _faults(mode: str) -> int:
    done = subprocess.run(
        [sys.executable, "-c", _PAGES, mode], capture_output=True, text=True, check=True
    )
    return int(done.stdout.strip())


@glibc_only
def test_kept_buffers_are_reused_without_page_faults() -> None:
    returned, kept = _faults("plain"), _faults("kept")
    # 48 MB a page, five pages: about 12,000 faults when freed memory goes back.
    assert kept < 500
    assert returned > 10 * max(kept, 100)
