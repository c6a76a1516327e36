"""Fixtures for the service tests: small scan-like pages as PNG bytes."""

from __future__ import annotations

import cv2
import numpy as np
import pytest


def page_png(text: str = "4071", *, width: int = 700, height: int = 240) -> bytes:
    """A white strip with ``text`` drawn in dark strokes, as PNG bytes."""
    page = np.full((height, width), 255, np.uint8)
    cv2.putText(page, text, (40, 160), cv2.FONT_HERSHEY_SIMPLEX, 3.0, 20, 9, cv2.LINE_AA)
    ok, buf = cv2.imencode(".png", page)
    assert ok
    return buf.tobytes()


@pytest.fixture
def page() -> bytes:
    return page_png()
