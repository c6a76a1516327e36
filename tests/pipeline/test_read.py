"""Assembling per-digit predictions into fields, and choosing templates."""

from __future__ import annotations

import numpy as np
import pytest

from digitd.model.nondigits import generate_nondigits
from digitd.model.sources import read_digits_png
from digitd.model.training import TrainParams, build_model
from digitd.pipeline.read import assemble_fields, choose_template, make_crop_scorer
from digitd.pipeline.recognize import Predictions, classify_digits
from digitd.pipeline.segment import DigitCrop, Field, SegmentedPage, Template, Zone


def _page(*field_sizes: int) -> SegmentedPage:
    fields = []
    x = 0
    for i, n in enumerate(field_sizes):
        crops = tuple(
            DigitCrop(box=(x + 30 * j, 10 * i, 20, 30), image=np.full((30, 20), 255, np.uint8))
            for j in range(n)
        )
        fields.append(Field(name=f"line-{i + 1}", box=(x, 10 * i, 30 * n, 30), digits=crops))
    return SegmentedPage(fields=tuple(fields), skew_degrees=0.5)


def _predictions(labels: str, confidences: list[float], rejected: list[bool]) -> Predictions:
    n = len(labels)
    top_labels = np.array([[c, "1", "7"] for c in labels], dtype="<U1")
    conf = np.asarray(confidences, np.float32)
    top_probs = np.stack([conf, (1 - conf) * 0.75, (1 - conf) * 0.25], axis=1).astype(np.float32)
    return Predictions(
        labels=np.array(list(labels), dtype="<U1"),
        confidences=conf,
        top_labels=top_labels.reshape(n, 3),
        top_probs=top_probs,
        rejected=np.asarray(rejected, bool),
    )


def test_fields_join_digits_in_order_and_flag_low_confidence() -> None:
    page = _page(3, 2)
    preds = _predictions("12345", [0.99, 0.98, 0.97, 0.99, 0.5], [False] * 5)
    fields = assemble_fields(page, preds, review_threshold=0.9)
    assert [f.text for f in fields] == ["123", "45"]
    assert [f.needs_review for f in fields] == [False, True]
    assert fields[0].confidence == pytest.approx(0.99 * 0.98 * 0.97, rel=1e-5)
    assert fields[1].digits[1].box == page.fields[1].digits[1].box
    assert fields[0].digits[0].alternatives[0][0] == "1"


def test_rejected_marks_leave_the_text_and_empty_fields_are_dropped() -> None:
    page = _page(3, 1)
    preds = _predictions("90x5", [0.99, 0.99, 0.99, 0.99], [False, True, False, True])
    fields = assemble_fields(page, preds, review_threshold=0.9)
    assert len(fields) == 1
    assert fields[0].text == "9x"
    assert len(fields[0].digits) == 2


def test_zero_probability_alternatives_are_left_out() -> None:
    page = _page(1)
    preds = _predictions("4", [1.0], [False])
    (field,) = assemble_fields(page, preds, review_threshold=0.9)
    assert field.digits[0].alternatives == ()


def test_choose_template_matches_the_first_glob_case_insensitively() -> None:
    zone = Zone(name="amount", x=1, y=2, w=3, h=4)
    cheque = Template(name="cheque", zones=(zone,), match="cheque*")
    anything = Template(name="any", zones=(zone,), match="*")
    assert choose_template("CHEQUE-0001.TIF", (cheque, anything)) is cheque
    assert choose_template("form.png", (cheque, anything)) is anything
    assert choose_template("form.png", (cheque,)) is None


def test_the_crop_scorer_gives_confidences_and_how_far_out_a_crop_lies() -> None:
    images, labels = read_digits_png()
    rng = np.random.default_rng(1)
    pick = rng.permutation(len(labels))
    model = build_model(
        images[pick[:1500]],
        labels[pick[:1500]],
        nondigits=generate_nondigits(300, seed=3),
        params=TrainParams(dims=30, clusters=4, probes=2, holdout=0.2),
        model_id="small",
    ).model
    singles = [images[i] for i in pick[1500:1540]]
    # Two digits side by side, touching: read as one crop they are unlike any digit.
    pairs = [
        np.minimum(np.hstack([a[:, :16], b[:, 2:]]), 255)
        for a, b in zip(singles[::2], singles[1::2], strict=True)
    ]
    read = make_crop_scorer(model)(singles + pairs)
    assert read.shape == (len(singles) + len(pairs), 2)
    predictions = classify_digits(singles + pairs, model)
    expected = np.where(predictions.rejected, 0.0, predictions.confidences)
    np.testing.assert_allclose(read[:, 0], expected, rtol=1e-6)
    assert np.isfinite(read[:, 1]).all() and (read[:, 1] >= 0).all()
    assert np.median(read[len(singles) :, 1]) > 1.2 * np.median(read[: len(singles), 1])
