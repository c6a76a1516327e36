"""The pipeline as a list of named steps: pages in, page results out."""

from __future__ import annotations

import fnmatch
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from digitd.model.format import Model
from digitd.pipeline.boosted import prepare_estimator
from digitd.pipeline.load import Page
from digitd.pipeline.marks import (
    MarkParams,
    check_mark_classifier,
    classify_marks,
    gather_marks,
    keep_kind,
    raw_texts,
)
from digitd.pipeline.neighbours import reference_norms
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
    "keep_handwriting",
    "make_crop_scorer",
    "prepare_model",
    "read_page",
    "read_pages",
]


@dataclass(frozen=True, slots=True)
class ReadParams:
    """Everything that tunes reading: segmentation, recognition, and the templates."""

    segmentation: SegmentationParams = field(default_factory=SegmentationParams)
    recognition: RecognitionParams = field(default_factory=RecognitionParams)
    templates: tuple[Template, ...] = ()


@dataclass(frozen=True, slots=True)
class ReadOutcome:
    """Page results of one document, and milliseconds spent per step (summed over pages)."""

    pages: tuple[PageResult, ...]
    timings_ms: dict[str, float]


def prepare_model(model: Model) -> None:
    """Build what recognition caches per model now, so the first page does not pay for it.

    The reference vectors' lengths (neighbour search) and the marks
    classifier's flattened trees; a worker calls this once after loading.

    Raises
    ------
    ModelError
        The model carries a marks classifier this digitd cannot use (see
        ``check_mark_classifier``): found at start-up, not on every document.
    """
    if len(model.reference):
        reference_norms(np.asarray(model.reference, dtype=np.float32))
    if "marks" in model.extras:
        classifier = check_mark_classifier(model.extras["marks"])
        for key in ("estimator", "separators"):
            if key in classifier:
                prepare_estimator(classifier[key])


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


def keep_handwriting(
    segmented: SegmentedPage, predictions: Predictions, model: Model, params: RecognitionParams
) -> tuple[FieldResult, ...]:
    """Fields of handwritten digits only, with their separators kept in ``raw``.

    The marks classifier in ``model.extras["marks"]`` sorts every mark into
    handwritten digit, printed digit, separator or other (letters, words,
    signatures; a field made mostly of these is dropped whole), see
    ``digitd.pipeline.marks``. Printed digits become fields of their own with
    ``printed=True`` when ``params.printed`` is ``"read"``. A model without a
    marks classifier reads every accepted mark.
    """
    review = params.review_threshold
    classifier = model.extras.get("marks")
    if classifier is None:
        return assemble_fields(segmented, predictions, review_threshold=review)
    crops, boxes, groups = gather_marks(segmented.fields)
    marks = classify_marks(
        crops,
        boxes,
        groups,
        classifier,
        rejected=predictions.rejected,
        confidences=predictions.confidences,
        left_out=segmented.left_out,
        digits=predictions.labels,
        params=MarkParams(
            print_threshold=params.print_threshold, max_other_fraction=params.max_other_fraction
        ),
    )
    hand = replace(predictions, rejected=keep_kind(predictions.rejected, marks, "hand"))
    raws = dict(
        zip(
            ((f.name, f.box) for f in segmented.fields),
            raw_texts(segmented.fields, predictions.labels, marks),
            strict=True,
        )
    )
    fields = [
        replace(f, raw=raws[(f.name, f.box)]) if raws.get((f.name, f.box), f.text) != f.text else f
        for f in assemble_fields(segmented, hand, review_threshold=review)
    ]
    if params.printed == "read":
        printed = replace(predictions, rejected=keep_kind(predictions.rejected, marks, "printed"))
        fields += [
            replace(f, printed=True)
            for f in assemble_fields(segmented, printed, review_threshold=review)
        ]
        fields.sort(key=lambda f: (f.box[1], f.box[0]))
    return tuple(fields)


def _crops(fields: Sequence[Field]) -> list[np.ndarray]:
    return [crop.image for fld in fields for crop in fld.digits]


def make_crop_scorer(model: Model) -> CropScorer:
    """The recognizer's confidence in crops and how far each lies from every known digit.

    Returns
    -------
    callable
        Crops in, (N, 2) float64 ndarray out: the confidence (0 for crops
        rejected as non-digits) and the distance to the nearest reference
        sample in the model's feature space (NaN when the model has none).
        Segmentation cuts a mark whose pieces read surely when the whole lies
        much farther out than its pieces: two touching digits read as one.
    """

    def score_crops(crops: Sequence[np.ndarray]) -> np.ndarray:
        predictions = classify_digits(crops, model)
        confidences = np.where(predictions.rejected, 0.0, predictions.confidences)
        return np.column_stack([confidences, predictions.nearest])

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
    fields = keep_handwriting(segmented, predictions, model, params.recognition)
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
