"""Serializing results: JSON against the published schema, CSV, rollup rows, PNG, names."""

from __future__ import annotations

import copy
import csv
import dataclasses
import hashlib
import io
import json
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import cv2
import jsonschema
import numpy as np
import pytest
from PIL import Image

from digitd.config import Config, model_path, read_params
from digitd.model.format import load_model
from digitd.output import (
    CSV_COLUMNS,
    ROLLUP_COLUMNS,
    annotated_name,
    encode_csv,
    encode_error,
    encode_json,
    encode_png,
    encode_rollup_header,
    encode_rollup_rows,
    error_name,
    failed_document,
    format_timestamp,
    load_error_schema,
    load_result_schema,
    rollup_name,
    with_annotated_names,
)
from digitd.pipeline.load import load_pages
from digitd.pipeline.read import read_pages
from digitd.results import DigitResult, DocumentResult, FieldResult, ModelInfo, PageResult

OPENCV_DIGITS = Path("/usr/share/doc/opencv-doc/examples/data/digits.png")
SHA = hashlib.sha256(b"scan").hexdigest()
WHEN = "2026-11-30T07:44:24.123Z"


def _validate(payload: dict) -> None:
    jsonschema.Draft202012Validator(load_result_schema()).validate(payload)


def _is_valid(payload: dict) -> bool:
    return jsonschema.Draft202012Validator(load_result_schema()).is_valid(payload)


def _field(name: str, text: str, *, review: bool = False, printed: bool = False) -> FieldResult:
    digits = tuple(
        DigitResult(
            text=c,
            confidence=0.97,
            box=(100 + 40 * i, 200, 30, 50),
            alternatives=(("7", 0.02), ("1", 0.01)),
        )
        for i, c in enumerate(text)
    )
    return FieldResult(
        name=name,
        text=text,
        confidence=0.97 ** len(text),
        needs_review=review,
        box=(100, 200, 40 * len(text), 50),
        digits=digits,
        printed=printed,
    )


def _document(source: str = "cheque 7 é.png") -> DocumentResult:
    page1 = PageResult(
        page=1,
        width=2480,
        height=1100,
        dpi=300.0,
        skew_degrees=-1.2,
        fields=(
            dataclasses.replace(_field("amount", "1250"), raw="12,50"),
            _field("date", "301126", review=True),
        ),
    )
    page2 = PageResult(
        page=2,
        width=2480,
        height=1100,
        dpi=None,
        skew_degrees=0.0,
        fields=(_field("line-1", "42", printed=True),),
    )
    return DocumentResult(
        source=source,
        sha256=SHA,
        status="ok",
        error=None,
        processed_at=WHEN,
        model=ModelInfo(id="knn-hog-1", sha256="ab" * 32),
        pages=(page1, page2),
        timings_ms={"load": 3.0, "segment": 20.5, "recognize": 11.25, "total": 35.0},
    )


# --- JSON ---------------------------------------------------------------------


def test_json_of_a_document_satisfies_the_schema() -> None:
    result = with_annotated_names(_document(), "sub/cheque 7 é")
    payload = json.loads(encode_json(result))
    _validate(payload)
    assert payload["schema"] == 1
    assert payload["source"] == "cheque 7 é.png"
    assert [p["annotated"] for p in payload["pages"]] == [
        "cheque 7 é.annotated.png",
        "cheque 7 é.p2.annotated.png",
    ]
    assert payload["pages"][0]["fields"][0]["digits"][0]["alternatives"] == [
        ["7", 0.02],
        ["1", 0.01],
    ]
    assert payload == result.to_dict()


def test_json_is_utf8_and_ends_with_a_newline() -> None:
    data = encode_json(_document())
    assert data.endswith(b"}\n")
    assert "é".encode() in data


def test_json_of_a_failed_document_satisfies_the_schema() -> None:
    result = failed_document(
        source="broken.png",
        sha256=SHA,
        error="not a readable image: truncated PNG",
        processed_at=WHEN,
    )
    payload = json.loads(encode_json(result))
    _validate(payload)
    assert payload["status"] == "failed"
    assert payload["error"] == "not a readable image: truncated PNG"
    assert payload["pages"] == []
    assert payload["model"] is None


def test_json_refuses_numbers_json_cannot_carry() -> None:
    bad = dataclasses.replace(_document(), timings_ms={"total": float("nan")})
    with pytest.raises(ValueError):
        encode_json(bad)


def test_schema_rejects_broken_contracts() -> None:
    good = _document().to_dict()
    assert _is_valid(good)

    def broken(change) -> dict:
        payload = copy.deepcopy(good)
        change(payload)
        return payload

    assert not _is_valid(broken(lambda p: p.pop("sha256")))
    assert not _is_valid(broken(lambda p: p.update(schema=2)))
    assert not _is_valid(broken(lambda p: p.update(status="failed")))  # failed needs an error
    assert not _is_valid(broken(lambda p: p.update(error="x")))  # ok has no error
    assert not _is_valid(broken(lambda p: p.update(processed_at="30/11/2026")))
    assert not _is_valid(broken(lambda p: p["pages"][0]["fields"][0].update(box=[1, 2, 3])))
    assert not _is_valid(broken(lambda p: p["pages"][0]["fields"][0].update(confidence=1.5)))
    assert not _is_valid(broken(lambda p: p["pages"][0]["fields"][0]["digits"][0].pop("text")))
    # keys may be added within schema 1
    assert _is_valid(broken(lambda p: p.update(extra={"anything": 1})))


def test_schema_files_are_valid_draft_2020_12_schemas() -> None:
    jsonschema.Draft202012Validator.check_schema(load_result_schema())
    jsonschema.Draft202012Validator.check_schema(load_error_schema())


def _digits_page() -> bytes:
    """A 300-dpi PNG page with two strings of real handwritten digits on it."""
    sheet = cv2.imread(str(OPENCV_DIGITS), cv2.IMREAD_GRAYSCALE)
    assert sheet is not None, f"install opencv-doc for {OPENCV_DIGITS}"
    page = np.full((900, 1800), 255, np.uint8)
    for row, (y, labels) in enumerate([(150, [1, 2, 5, 0]), (500, [3, 0, 1, 1, 2, 6])]):
        for i, label in enumerate(labels):
            cell = sheet[label * 100 : label * 100 + 20, 20 * (row + 3) : 20 * (row + 4)]
            big = cv2.resize(255 - cell, (90, 90), interpolation=cv2.INTER_CUBIC)
            page[y : y + 90, 200 + 100 * i : 290 + 100 * i] = big
    return encode_png(page, dpi=300)


def test_json_from_the_real_pipeline_satisfies_the_schema() -> None:
    data = _digits_page()
    model = load_model(model_path(Config()))
    pages = load_pages(data, max_pixels=10**8, max_pages=5, pdf_dpi=300)
    outcome = read_pages(pages, model, params=read_params(Config()), source_name="form.png")
    result = DocumentResult(
        source="form.png",
        sha256=hashlib.sha256(data).hexdigest(),
        status="ok",
        error=None,
        processed_at=format_timestamp(datetime(2026, 11, 30, 8, 0, tzinfo=UTC)),
        model=ModelInfo(id=model.id, sha256=model.sha256),
        pages=outcome.pages,
        timings_ms={**outcome.timings_ms, "total": sum(outcome.timings_ms.values())},
    )
    payload = json.loads(encode_json(with_annotated_names(result, "form")))
    _validate(payload)
    assert payload["pages"][0]["annotated"] == "form.annotated.png"
    assert payload["pages"][0]["width"] == 1800
    assert len(payload["pages"][0]["fields"]) >= 1
    rows = list(csv.reader(io.StringIO(encode_csv(result).decode())))
    assert len(rows) == 1 + len(payload["pages"][0]["fields"])


# --- CSV ----------------------------------------------------------------------


def test_csv_header_is_the_contract_with_additions_at_the_end() -> None:
    assert CSV_COLUMNS[:10] == (
        "source",
        "page",
        "field",
        "text",
        "confidence",
        "needs_review",
        "x",
        "y",
        "w",
        "h",
    )
    assert CSV_COLUMNS[10:] == ("printed", "raw")
    header = encode_csv(_document()).split(b"\n", 1)[0]
    assert header == b"source,page,field,text,confidence,needs_review,x,y,w,h,printed,raw"


def test_csv_has_one_row_per_field_in_reading_order() -> None:
    rows = list(csv.DictReader(io.StringIO(encode_csv(_document()).decode("utf-8"))))
    assert [(r["page"], r["field"], r["text"]) for r in rows] == [
        ("1", "amount", "1250"),
        ("1", "date", "301126"),
        ("2", "line-1", "42"),
    ]
    assert rows[0]["source"] == "cheque 7 é.png"
    assert rows[0]["confidence"] == f"{0.97**4:.4f}"
    assert [r["needs_review"] for r in rows] == ["false", "true", "false"]
    assert [r["printed"] for r in rows] == ["false", "false", "true"]
    assert [r["raw"] for r in rows] == ["12,50", "", ""]
    assert (rows[1]["x"], rows[1]["y"], rows[1]["w"], rows[1]["h"]) == ("100", "200", "240", "50")


def test_csv_quotes_awkward_names() -> None:
    result = dataclasses.replace(_document(), source='a, "b".png')
    rows = list(csv.reader(io.StringIO(encode_csv(result).decode())))
    assert rows[1][0] == 'a, "b".png'


def test_csv_of_a_document_without_fields_is_the_header_alone() -> None:
    result = failed_document(source="x.png", sha256=SHA, error="bad", processed_at=WHEN)
    assert encode_csv(result) == b",".join(c.encode() for c in CSV_COLUMNS) + b"\n"


def test_rollup_rows_follow_the_header_and_name_the_document() -> None:
    data = (
        encode_rollup_header() + encode_rollup_rows(_document()) + encode_rollup_rows(_document())
    )
    rows = list(csv.DictReader(io.StringIO(data.decode())))
    assert len(rows) == 6
    assert tuple(rows[0]) == ROLLUP_COLUMNS
    assert {r["sha256"] for r in rows} == {SHA}
    assert {r["processed_at"] for r in rows} == {WHEN}
    failed = failed_document(source="x.png", sha256=SHA, error="bad", processed_at=WHEN)
    assert encode_rollup_rows(failed) == b""


# --- PNG ----------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(30, 40), (30, 40, 3)])
def test_png_decodes_to_the_same_pixels(shape: tuple[int, ...]) -> None:
    image = np.random.default_rng(1).integers(0, 256, size=shape, dtype=np.uint8)
    with Image.open(io.BytesIO(encode_png(image, dpi=300))) as decoded:
        assert decoded.format == "PNG"
        assert decoded.info["dpi"] == pytest.approx((300, 300), abs=0.1)
        np.testing.assert_array_equal(np.asarray(decoded), image)


def test_png_refuses_what_is_not_a_uint8_image() -> None:
    with pytest.raises(ValueError, match="uint8"):
        encode_png(np.zeros((4, 4), np.float32))
    with pytest.raises(ValueError, match=r"\(4, 4, 4\)"):
        encode_png(np.zeros((4, 4, 4), np.uint8))
    with pytest.raises(ValueError, match="compress_level"):
        encode_png(np.zeros((4, 4), np.uint8), compress_level=10)


# --- names and times ----------------------------------------------------------


def test_names_of_outputs() -> None:
    assert annotated_name("cheque", 1) == "cheque.annotated.png"
    assert annotated_name("cheque", 2) == "cheque.p2.annotated.png"
    assert error_name("cheque") == "cheque.error.json"
    assert rollup_name(date(2026, 11, 30)) == "results-2026-11-30.csv"


def test_names_refuse_nonsense() -> None:
    with pytest.raises(ValueError, match="page numbers start at 1"):
        annotated_name("c", 0)


def test_timestamps_are_utc_with_z() -> None:
    plus_two = timezone(timedelta(hours=2))
    stamp = format_timestamp(datetime(2026, 11, 30, 10, 0, 0, 123456, tzinfo=plus_two))
    assert stamp == "2026-11-30T08:00:00.123Z"
    assert _is_valid({**_document().to_dict(), "processed_at": stamp})
    with pytest.raises(ValueError, match="time zone"):
        format_timestamp(datetime(2026, 11, 30))


def test_error_file_names_the_reason_and_attempts() -> None:
    payload = json.loads(
        encode_error(
            source="x.png",
            sha256=SHA,
            reason="image has 200000000 pixels, more than limits.max_pixels=100000000",
            error_type="InputLimitError",
            attempts=1,
            failed_at=WHEN,
        )
    )
    jsonschema.Draft202012Validator(load_error_schema()).validate(payload)
    assert payload["reason"].startswith("image has 200000000 pixels")
    assert payload["attempts"] == 1
    assert payload["error_type"] == "InputLimitError"


def test_error_schema_rejects_a_report_without_its_reason() -> None:
    payload = json.loads(
        encode_error(
            source="x.png", sha256=SHA, reason="r", error_type="input", attempts=1, failed_at=WHEN
        )
    )
    validator = jsonschema.Draft202012Validator(load_error_schema())
    assert validator.is_valid(payload)
    assert not validator.is_valid({**payload, "attempts": 0})
    assert not validator.is_valid({k: v for k, v in payload.items() if k != "reason"})
