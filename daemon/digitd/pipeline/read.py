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
    CropScorer,
    Field,
    SegmentationParams,
    SegmentedPage,
    Template,
    segment_page,
)
from digitd.results import DigitResult, FieldResult, PageResult

__all__ = [
    "ReadOutcome",
    "ReadParams",
    "assemble_fields",
    "choose_template",
    "make_crop_scorer",
    "read_page",
    "read_pages",
]


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


def make_crop_scorer(model: Model) -> CropScorer:
    """The recognizer's confidence in crops, 0 for those it rejects as non-digits."""

    def score_crops(crops: Sequence[np.ndarray]) -> np.ndarray:
        predictions = classify_digits(crops, model)
        return np.where(predictions.rejected, 0.0, predictions.confidences)

    return score_crops


def read_page(
    page: Page, model: Model, *, params: ReadParams, template: Template | None
) -> tuple[PageResult, dict[str, float]]:
    """Segment and recognize one page.

    Parameters
    ----------
    page : Page
    model : Model
    params : ReadParams
    template : Template or None
        The document type's zones, or None for full-page reading.

    Returns
    -------
    result : PageResult
        Without an annotated file name (the writer chooses it).
    timings_ms : dict of str to float
        Milliseconds spent in ``segment`` and ``recognize``.
    """
    t0 = time.perf_counter()
    segmented = segment_page(
        page.image,
        dpi=page.dpi,
        params=params.segmentation,
        template=template,
        score_crops=make_crop_scorer(model),
    )
    t1 = time.perf_counter()
    predictions = classify_digits(_crops(segmented.fields), model)
    fields = assemble_fields(
        segmented, predictions, review_threshold=params.recognition.review_threshold
    )
    t2 = time.perf_counter()
    h, w = page.image.shape[:2]
    result = PageResult(
        page=page.index,
        width=w,
        height=h,
        dpi=page.dpi,
        skew_degrees=segmented.skew_degrees,
        fields=fields,
    )
    return result, {"segment": (t1 - t0) * 1000.0, "recognize": (t2 - t1) * 1000.0}


def read_pages(
    pages: Sequence[Page], model: Model, *, params: ReadParams, source_name: str
) -> ReadOutcome:
    """Segment and recognize every page of a document.

    Parameters
    ----------
    pages : sequence of Page
    model : Model
    params : ReadParams
    source_name : str
        The input's file name, which chooses the template.

    Returns
    -------
    ReadOutcome
        Page results (without annotated file names, which the writer chooses)
        and the milliseconds spent per step, summed over pages.
    """
    template = choose_template(source_name, params.templates)
    results: list[PageResult] = []
    timings = {"segment": 0.0, "recognize": 0.0}
    for page in pages:
        result, spent = read_page(page, model, params=params, template=template)
        results.append(result)
        for step, ms in spent.items():
            timings[step] = timings.get(step, 0.0) + ms
    return ReadOutcome(pages=tuple(results), timings_ms=timings)
