"""The pipeline as a list of named steps: pages in, page results out."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from digitd.model.format import Model
from digitd.pipeline.load import Page
from digitd.pipeline.recognize import Predictions, RecognitionParams, classify_digits
from digitd.pipeline.segment import (
    Field,
    SegmentationParams,
    SegmentedPage,
    Template,
    segment_page,
)
from digitd.results import DigitResult, FieldResult, PageResult

__all__ = ["ReadOutcome", "ReadParams", "assemble_fields", "choose_template", "read_pages"]


@dataclass(frozen=True, slots=True)
class ReadParams:
    segmentation: SegmentationParams = field(default_factory=SegmentationParams)
    recognition: RecognitionParams = field(default_factory=RecognitionParams)
    templates: tuple[Template, ...] = ()


@dataclass(frozen=True, slots=True)
class ReadOutcome:
    pages: tuple[PageResult, ...]
    timings_ms: dict[str, float]


def choose_template(source_name: str, templates: Sequence[Template]) -> Template | None:
    """The first template whose filename glob matches ``source_name``, if any."""
    for template in templates:
        if fnmatch.fnmatch(source_name.lower(), template.match.lower()):
            return template
    return None


def assemble_fields(
    segmented: SegmentedPage, predictions: Predictions, *, review_threshold: float
) -> tuple[FieldResult, ...]:
    """Join per-digit predictions back into fields.

    ``predictions`` holds one row per digit crop of ``segmented``, in field
    order. Rejected marks are left out of a field's text; a field with no
    accepted digit is dropped.
    """
    results: list[FieldResult] = []
    i = 0
    for fld in segmented.fields:
        digits: list[DigitResult] = []
        for crop in fld.digits:
            if not predictions.rejected[i]:
                alternatives = tuple(
                    (str(label), float(p))
                    for label, p in zip(
                        predictions.top_labels[i, 1:], predictions.top_probs[i, 1:], strict=True
                    )
                    if p > 0
                )
                digits.append(
                    DigitResult(
                        text=str(predictions.labels[i]),
                        confidence=float(predictions.confidences[i]),
                        box=crop.box,
                        alternatives=alternatives,
                    )
                )
            i += 1
        if not digits:
            continue
        confidence = float(np.prod([d.confidence for d in digits]))
        results.append(
            FieldResult(
                name=fld.name,
                text="".join(d.text for d in digits),
                confidence=confidence,
                needs_review=any(d.confidence < review_threshold for d in digits),
                box=fld.box,
                digits=tuple(digits),
            )
        )
    return tuple(results)


def _crops(fields: Sequence[Field]) -> list[np.ndarray]:
    return [crop.image for fld in fields for crop in fld.digits]


def read_pages(
    pages: Sequence[Page], model: Model, *, params: ReadParams, source_name: str
) -> ReadOutcome:
    """Segment and recognize every page of a document.

    Returns the page results (without annotated file names, which the writer
    chooses) and the time spent per step in milliseconds.
    """
    template = choose_template(source_name, params.templates)
    t_segment = t_recognize = 0.0
    out: list[PageResult] = []
    for page in pages:
        t0 = time.perf_counter()
        segmented = segment_page(
            page.image,
            dpi=page.dpi,
            params=params.segmentation,
            template=template,
            score_crops=lambda crops: classify_digits(crops, model).confidences,
        )
        t1 = time.perf_counter()
        predictions = classify_digits(_crops(segmented.fields), model)
        fields = assemble_fields(
            segmented, predictions, review_threshold=params.recognition.review_threshold
        )
        t2 = time.perf_counter()
        t_segment += t1 - t0
        t_recognize += t2 - t1
        h, w = page.image.shape[:2]
        out.append(
            PageResult(
                page=page.index,
                width=w,
                height=h,
                dpi=page.dpi,
                skew_degrees=segmented.skew_degrees,
                fields=fields,
            )
        )
    return ReadOutcome(
        pages=tuple(out),
        timings_ms={"segment": t_segment * 1000.0, "recognize": t_recognize * 1000.0},
    )
