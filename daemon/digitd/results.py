"""The one results type of a document, serialized by every writer.

Boxes are ``(x, y, w, h)`` integer pixels in the ORIGINAL page image, before
any deskew. ``to_dict`` produces the schema-1 JSON object of the output
contract; the CSV and annotated-image writers read the same objects.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = [
    "SCHEMA_VERSION",
    "Box",
    "DigitResult",
    "DocumentResult",
    "FieldResult",
    "ModelInfo",
    "PageResult",
]

SCHEMA_VERSION = 1

Box = tuple[int, int, int, int]


def _box(box: Box) -> list[int]:
    return [int(v) for v in box]


@dataclass(frozen=True, slots=True)
class DigitResult:
    """One recognized digit: its label, confidence in [0, 1], and box."""

    text: str
    confidence: float
    box: Box
    alternatives: tuple[tuple[str, float], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "box": _box(self.box),
            "alternatives": [[label, round(float(p), 4)] for label, p in self.alternatives],
        }


@dataclass(frozen=True, slots=True)
class FieldResult:
    """A string of digits read from one field (a template zone or a line)."""

    name: str
    text: str
    confidence: float
    needs_review: bool
    box: Box
    digits: tuple[DigitResult, ...]
    printed: bool = False
    raw: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "name": self.name,
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "needs_review": bool(self.needs_review),
            "box": _box(self.box),
            "digits": [d.to_dict() for d in self.digits],
            "printed": bool(self.printed),
        }
        if self.raw is not None:
            out["raw"] = self.raw
        return out


@dataclass(frozen=True, slots=True)
class PageResult:
    """The fields of one page, in reading order."""

    page: int
    width: int
    height: int
    dpi: float | None
    skew_degrees: float
    fields: tuple[FieldResult, ...]
    annotated: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "page": self.page,
            "width": self.width,
            "height": self.height,
            "dpi": None if self.dpi is None else round(float(self.dpi), 2),
            "skew_degrees": round(float(self.skew_degrees), 3),
            "annotated": self.annotated,
            "fields": [f.to_dict() for f in self.fields],
        }


@dataclass(frozen=True, slots=True)
class ModelInfo:
    id: str
    sha256: str


@dataclass(frozen=True, slots=True)
class DocumentResult:
    """Everything digitd learned about one input file."""

    source: str
    sha256: str
    status: Literal["ok", "failed"]
    error: str | None
    processed_at: str
    model: ModelInfo | None
    pages: tuple[PageResult, ...] = ()
    timings_ms: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "source": self.source,
            "sha256": self.sha256,
            "status": self.status,
            "error": self.error,
            "processed_at": self.processed_at,
            "model": None
            if self.model is None
            else {"id": self.model.id, "sha256": self.model.sha256},
            "pages": [p.to_dict() for p in self.pages],
            "timings_ms": {k: round(float(v), 2) for k, v in self.timings_ms.items()},
        }
