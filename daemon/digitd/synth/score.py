"""Compare fields read from a generated page with its truth."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from digitd.results import Box, FieldResult
from digitd.synth.pages import TruthField

__all__ = ["PageScore", "edit_distance", "score_page"]


@dataclass(frozen=True, slots=True)
class PageScore:
    """Counts for one page; sum them over pages for rates.

    Attributes
    ----------
    fields : int
        True fields.
    found : int
        True fields overlapped by a read field.
    exact : int
        True fields whose best-overlapping read field has exactly their text.
    digits : int
        True digits.
    digit_errors : int
        Edit distance between true and read texts, summed over true fields
        (a field not found counts all its digits).
    phantoms : int
        Read fields overlapping no true field.
    segmented : int
        True fields whose best-overlapping read field has one digit box per
        true digit, each centred in its true digit's box: segmentation right,
        whatever the recognizer made of the digits.
    """

    fields: int
    found: int
    exact: int
    digits: int
    digit_errors: int
    phantoms: int
    segmented: int = 0


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings."""
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i]
        for j, cb in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def _overlap(a: Box, b: Box) -> int:
    w = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    h = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, w) * max(0, h)


def score_page(truth: Sequence[TruthField], read: Sequence[FieldResult]) -> PageScore:
    """Match read fields to true fields by overlap and count what agrees.

    Parameters
    ----------
    truth : sequence of TruthField
    read : sequence of FieldResult

    Returns
    -------
    PageScore
    """
    found = exact = errors = segmented = 0
    used: set[int] = set()
    for t in truth:
        overlaps = [_overlap(t.box, r.box) for r in read]
        best = max(range(len(read)), key=lambda i: overlaps[i], default=-1)
        if best < 0 or overlaps[best] == 0:
            errors += len(t.text)
            continue
        used.update(i for i, o in enumerate(overlaps) if o > 0)
        found += 1
        exact += read[best].text == t.text
        errors += edit_distance(read[best].text, t.text)
        segmented += _segmented_right(t, read[best])
    phantoms = sum(1 for i in range(len(read)) if i not in used)
    return PageScore(
        fields=len(truth),
        found=found,
        exact=exact,
        digits=sum(len(t.text) for t in truth),
        digit_errors=errors,
        phantoms=phantoms,
        segmented=segmented,
    )


def _segmented_right(truth: TruthField, read: FieldResult) -> bool:
    if not truth.digit_boxes or len(read.digits) != len(truth.digit_boxes):
        return False
    for t, d in zip(truth.digit_boxes, read.digits, strict=True):
        cx, cy = d.box[0] + d.box[2] / 2.0, d.box[1] + d.box[3] / 2.0
        if not (t[0] <= cx <= t[0] + t[2] and t[1] <= cy <= t[1] + t[3]):
            return False
    return True
