"""Serialize a ``DocumentResult`` into the bytes of the output contract (schema 1).

Pure functions: results in, bytes and file names out. The service writes the
bytes atomically; nothing here touches the file system or the clock.

For an input ``NAME.EXT`` the outbox receives ``NAME.json``, ``NAME.csv`` and
``NAME.annotated.png`` (page 1), ``NAME.p2.annotated.png``, ... A different
input with the same stem gets ``NAME-<first 8 hex of sha256>.*`` instead.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from pathlib import PurePosixPath
from typing import Any

import numpy as np
from PIL import Image

from digitd.results import DocumentResult, FieldResult, ModelInfo

__all__ = [
    "CSV_COLUMNS",
    "ROLLUP_COLUMNS",
    "annotated_name",
    "csv_name",
    "encode_csv",
    "encode_error",
    "encode_json",
    "encode_png",
    "encode_rollup_header",
    "encode_rollup_rows",
    "error_name",
    "failed_document",
    "format_timestamp",
    "json_name",
    "load_error_schema",
    "load_result_schema",
    "rollup_name",
    "with_annotated_names",
]

CSV_COLUMNS: tuple[str, ...] = (
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
    # added columns go at the end, never between the ones above
    "printed",
    "raw",
)
"""Columns of ``NAME.csv``: one row per field."""

ROLLUP_COLUMNS: tuple[str, ...] = (*CSV_COLUMNS, "sha256", "processed_at")
"""Columns of the daily ``results-YYYY-MM-DD.csv``: the CSV's, plus the document's identity."""


# --- file names ---------------------------------------------------------------


def json_name(stem: str) -> str:
    """``NAME.json``."""
    return f"{stem}.json"


def csv_name(stem: str) -> str:
    """``NAME.csv``."""
    return f"{stem}.csv"


def annotated_name(stem: str, page: int) -> str:
    """``NAME.annotated.png`` for page 1, ``NAME.pN.annotated.png`` for page N > 1.

    Raises
    ------
    ValueError
        ``page`` is less than 1.
    """
    if page < 1:
        raise ValueError(f"page numbers start at 1, got {page}")
    return f"{stem}.annotated.png" if page == 1 else f"{stem}.p{page}.annotated.png"


def error_name(stem: str) -> str:
    """``NAME.error.json``, written beside an original moved to failed/."""
    return f"{stem}.error.json"


def rollup_name(day: date) -> str:
    """``results-YYYY-MM-DD.csv``, the daily file each document's rows are appended to."""
    return f"results-{day.isoformat()}.csv"


def with_annotated_names(result: DocumentResult, stem: str) -> DocumentResult:
    """A copy of ``result`` whose pages name their annotated images (basename only)."""
    base = PurePosixPath(stem).name
    pages = tuple(
        dataclasses.replace(p, annotated=annotated_name(base, p.page)) for p in result.pages
    )
    return dataclasses.replace(result, pages=pages)


# --- JSON ---------------------------------------------------------------------


def format_timestamp(when: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and ``Z``: ``2026-11-30T07:44:24.123Z``.

    Raises
    ------
    ValueError
        ``when`` carries no time zone.
    """
    if when.tzinfo is None:
        raise ValueError(f"a timestamp needs a time zone, got the naive {when!r}")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def failed_document(
    *,
    source: str,
    sha256: str,
    error: str,
    processed_at: str,
    model: ModelInfo | None = None,
    timings_ms: dict[str, float] | None = None,
) -> DocumentResult:
    """The result of a document that could not be read: no pages, the error said."""
    return DocumentResult(
        source=source,
        sha256=sha256,
        status="failed",
        error=error,
        processed_at=processed_at,
        model=model,
        pages=(),
        timings_ms=dict(timings_ms or {}),
    )


def encode_json(result: DocumentResult) -> bytes:
    """``NAME.json``: the schema-1 object, UTF-8, indented, ending in a newline.

    Raises
    ------
    ValueError
        A number in ``result`` is NaN or infinite (JSON cannot carry it).
    """
    text = json.dumps(result.to_dict(), ensure_ascii=False, indent=2, allow_nan=False)
    return (text + "\n").encode("utf-8")


def encode_error(
    *, source: str, sha256: str, reason: str, error_type: str, attempts: int, failed_at: str
) -> bytes:
    """``NAME.error.json``: why an original went to failed/, after how many attempts."""
    payload = {
        "schema": 1,
        "source": source,
        "sha256": sha256,
        "reason": reason,
        "error_type": error_type,
        "attempts": int(attempts),
        "failed_at": failed_at,
    }
    return (json.dumps(payload, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


@cache
def _load_schema(name: str) -> dict[str, Any]:
    return json.loads(resources.files("digitd").joinpath("schema", name).read_text("utf-8"))


def load_result_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that every ``NAME.json`` satisfies."""
    return _load_schema("result-v1.schema.json")


def load_error_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) that every ``NAME.error.json`` satisfies."""
    return _load_schema("error-v1.schema.json")


# --- CSV ----------------------------------------------------------------------


def _field_row(source: str, page: int, fld: FieldResult) -> list[str]:
    x, y, w, h = (int(v) for v in fld.box)
    return [
        source,
        str(page),
        fld.name,
        fld.text,
        f"{float(fld.confidence):.4f}",
        "true" if fld.needs_review else "false",
        str(x),
        str(y),
        str(w),
        str(h),
        "true" if fld.printed else "false",
        "" if fld.raw is None else fld.raw,
    ]


def _rows(result: DocumentResult) -> Iterable[list[str]]:
    for page in result.pages:
        for fld in page.fields:
            yield _field_row(result.source, page.page, fld)


def _encode_rows(rows: Iterable[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def encode_csv(result: DocumentResult) -> bytes:
    """``NAME.csv``: the header, then one row per field in reading order.

    Booleans are ``true``/``false``; confidence has 4 decimals; the box is
    integer pixels of the original page; ``raw`` is the field as written,
    separators included (``1,250.00`` for the text ``125000``), or empty. A
    document without fields (or a failed one) gives the header alone.
    """
    return _encode_rows([list(CSV_COLUMNS), *_rows(result)])


def encode_rollup_header() -> bytes:
    """The header line of a daily rollup file, written once when the file is created."""
    return _encode_rows([list(ROLLUP_COLUMNS)])


def encode_rollup_rows(result: DocumentResult) -> bytes:
    """A document's rows for the daily rollup, without a header (empty if no fields)."""
    return _encode_rows([*row, result.sha256, result.processed_at] for row in _rows(result))


# --- PNG ----------------------------------------------------------------------


def encode_png(image: np.ndarray, *, dpi: float | None = None, compress_level: int = 3) -> bytes:
    """PNG bytes of an image.

    Parameters
    ----------
    image : (H, W) or (H, W, 3) uint8 ndarray
        Grey or RGB.
    dpi : float or None
        Written into the file's pHYs chunk when known.
    compress_level : int
        zlib level 0-9; 3 is about twice as fast as 6 for a page, 30% larger.

    Returns
    -------
    bytes

    Raises
    ------
    ValueError
        The array is not uint8 grey or RGB, or ``compress_level`` is out of range.
    """
    if image.dtype != np.uint8 or not (
        image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)
    ):
        raise ValueError(
            f"expected a (H, W) or (H, W, 3) uint8 array, got {image.shape} {image.dtype}"
        )
    if not 0 <= compress_level <= 9:
        raise ValueError(f"compress_level must be 0-9, got {compress_level}")
    buffer = io.BytesIO()
    options: dict[str, Any] = {"compress_level": compress_level}
    if dpi:
        options["dpi"] = (float(dpi), float(dpi))
    Image.fromarray(np.ascontiguousarray(image)).save(buffer, format="PNG", **options)
    return buffer.getvalue()
