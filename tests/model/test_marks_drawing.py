"""How the marks training draws handwriting: a digit with a pen, a hurried line."""

from __future__ import annotations

import cv2
import numpy as np

from digitd.model.marks_training import PlacedGlyph, _restroke_pressure, wobble_glyphs


def test_the_pressure_pen_keeps_a_loop_the_source_filled() -> None:
    # A 9 whose loop a marker filled: a solid disc on a thin stem, 120 px tall.
    # Tracing only the centre line would leave a dot on a stick (a 1).
    nine = np.zeros((120, 80), np.uint8)
    cv2.circle(nine, (35, 30), 22, 1, -1)
    cv2.line(nine, (55, 30), (50, 115), 1, 8)
    ink = _restroke_pressure(nine.astype(np.float32), 4.0, np.random.default_rng(0))
    depth = cv2.distanceTransform((ink > 0.5).astype(np.uint8), cv2.DIST_L2, 3)
    assert depth.max() > 3 * 4.0 / 2  # the disc stays solid, wider than the pen
    assert 2 <= ink[100].sum() <= 8  # the stem is thinned to about the pen


def _line(labels: list[str], height: int = 60) -> list[PlacedGlyph]:
    """Bars of one height standing on one baseline, one per label."""
    ink = np.ones((height, 10), np.float32)
    return [PlacedGlyph(ink, 20 + 30 * i, 30, label) for i, label in enumerate(labels)]


def test_a_wobbled_line_wanders_in_baseline_and_size_whatever_its_marks_are() -> None:
    height = 60
    labels = ["hand", "other", "sep:/", "sep:tick"] * 10
    line = _line(labels, height)
    moved = wobble_glyphs(line, height, np.random.default_rng(3), baseline=0.1, size=0.06)
    assert [g.label for g in moved] == labels
    for kind in ("hand", "other", "sep:/"):  # digits, letters and separators alike
        of = [g for g in moved if g.label == kind]
        bottoms = np.array([g.y + g.ink.shape[0] for g in of])
        sizes = np.array([g.ink.shape[0] for g in of])
        assert 0.04 * height < bottoms.std() < 0.2 * height, kind
        assert 0.02 * height < sizes.std() < 0.12 * height, kind
        assert sizes.min() >= 0.75 * height and sizes.max() <= 1.25 * height, kind
    # The ticks of a comb are printed on the form: they stay put.
    ticks = [(g.x, g.y, g.ink.shape) for g in moved if g.label == "sep:tick"]
    assert set(ticks) == {(g.x, g.y, g.ink.shape) for g in line if g.label == "sep:tick"}


def test_a_steady_hand_does_not_wobble() -> None:
    line = _line(["hand", "other"] * 3)
    moved = wobble_glyphs(line, 60, np.random.default_rng(0), baseline=0.0, size=0.0)
    assert [(g.x, g.y, g.ink.shape) for g in moved] == [(g.x, g.y, g.ink.shape) for g in line]
