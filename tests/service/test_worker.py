"""One document through a worker, in-process: outputs as bytes, failures as values."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import cv2
import jsonschema
import numpy as np
import pytest

from digitd import output
from digitd.config import SHIPPED_MODEL, OutputsConfig
from digitd.model.format import Model, load_model
from digitd.pipeline.read import ReadParams
from digitd.service.worker import Job, WorkerSettings, process_job


@pytest.fixture(scope="module")
def model() -> Model:
    return load_model(SHIPPED_MODEL)


def _settings(**kw: object) -> WorkerSettings:
    base = dict(
        model_path=SHIPPED_MODEL,
        params=ReadParams(),
        outputs=OutputsConfig(),
        max_pixels=10_000_000,
        max_pages=5,
    )
    base.update(kw)
    return WorkerSettings(**base)  # type: ignore[arg-type]


def _job(data: bytes, source: str = "cheque 1.png", stem: str = "cheque 1") -> Job:
    return Job(1, source, stem, data, hashlib.sha256(data).hexdigest())


def test_a_page_yields_png_csv_json_in_that_order(model: Model, page: bytes) -> None:
    outcome = process_job(_job(page), model, _settings())
    assert outcome.status == "ok", outcome.error
    names = [name for name, _ in outcome.files]
    assert names == ["cheque 1.annotated.png", "cheque 1.csv", "cheque 1.json"]
    files = dict(outcome.files)
    doc = json.loads(files["cheque 1.json"])
    jsonschema.validate(doc, output.load_result_schema())
    assert doc["source"] == "cheque 1.png"
    assert doc["pages"][0]["annotated"] == "cheque 1.annotated.png"
    assert doc["sha256"] == hashlib.sha256(page).hexdigest()
    image = cv2.imdecode(np.frombuffer(files["cheque 1.annotated.png"], np.uint8), 1)
    assert image.shape[:2] == (240, 700)
    assert files["cheque 1.csv"].startswith(b"source,page,field")
    assert outcome.fields == len(doc["pages"][0]["fields"])
    assert outcome.rollup_rows.count(b"\n") == outcome.fields


def test_switched_off_outputs_are_not_made(model: Model, page: bytes) -> None:
    switches = OutputsConfig(json=True, csv=False, annotated=False, rollup=False)
    outcome = process_job(_job(page), model, _settings(outputs=switches))
    assert [name for name, _ in outcome.files] == ["cheque 1.json"]
    assert outcome.rollup_rows == b""
    assert json.loads(outcome.files[0][1])["pages"][0]["annotated"] is None


@pytest.mark.parametrize(
    ("data", "kind", "match"),
    [
        (b"", "input", "empty"),
        (b"hello, I am text\n", "input", "not an image"),
    ],
)
def test_bad_input_is_a_failed_outcome_not_an_exception(
    model: Model, data: bytes, kind: str, match: str
) -> None:
    outcome = process_job(_job(data), model, _settings())
    assert (outcome.status, outcome.error_kind) == ("failed", kind)
    assert match in outcome.error
    assert outcome.files == ()


def test_truncated_png_fails_as_input(model: Model, page: bytes) -> None:
    outcome = process_job(_job(page[: len(page) // 2]), model, _settings())
    assert (outcome.status, outcome.error_kind) == ("failed", "input")


def test_too_many_pixels_is_a_limit_failure(model: Model, page: bytes) -> None:
    outcome = process_job(_job(page), model, _settings(max_pixels=1000))
    assert (outcome.status, outcome.error_kind) == ("failed", "limit")
    assert "max_pixels" in outcome.error


def test_output_stem_may_differ_from_the_source_name(model: Model, page: bytes) -> None:
    outcome = process_job(_job(page, stem="cheque 1-1f2e3d4c"), model, _settings())
    doc = json.loads(dict(outcome.files)["cheque 1-1f2e3d4c.json"])
    assert doc["source"] == "cheque 1.png"


def test_sources_in_subfolders_keep_only_their_name_in_the_result(
    model: Model, page: bytes, tmp_path: Path
) -> None:
    outcome = process_job(_job(page, source="branch/a.png", stem="a"), model, _settings())
    assert json.loads(dict(outcome.files)["a.json"])["source"] == "a.png"


def test_each_page_of_a_tiff_gets_its_annotated_image(model: Model, page: bytes) -> None:
    import io

    from PIL import Image

    frame = Image.open(io.BytesIO(page))
    buf = io.BytesIO()
    frame.save(buf, format="TIFF", save_all=True, append_images=[frame.copy()])
    outcome = process_job(_job(buf.getvalue(), source="two.tif", stem="two"), model, _settings())
    assert outcome.status == "ok", outcome.error
    names = [name for name, _ in outcome.files]
    assert names == ["two.annotated.png", "two.p2.annotated.png", "two.csv", "two.json"]
    doc = json.loads(dict(outcome.files)["two.json"])
    assert [p["annotated"] for p in doc["pages"]] == ["two.annotated.png", "two.p2.annotated.png"]
