"""The model file: ``NAME.joblib`` plus its card ``NAME.json``.

FIRST CUT, to be extended by the recognition work (issue 3). The service
relies on ``load_model(path) -> Model`` and on ``Model.id`` / ``Model.sha256``.

A model file is a pickle: loading it runs code. Load only trusted models.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from digitd.errors import ModelError

__all__ = ["FORMAT_VERSION", "Model", "card_path", "load_model", "save_model"]

FORMAT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Model:
    """A k-nearest-neighbours digit model.

    Attributes
    ----------
    id : str
    classes : tuple of str
        Class labels; index i is class i of ``reference_labels``.
    reference : (M, F) float16 ndarray
        Feature vectors of the reference set.
    reference_labels : (M,) int16 ndarray
    k : int
    sha256 : str
        Of the model file it was loaded from ('' before saving).
    extras : dict of str to Any
        Further parts saved in the same file, by name (``extras["marks"]``
        holds the print/hand classifier). Empty by default.
    """

    id: str
    classes: tuple[str, ...]
    reference: np.ndarray
    reference_labels: np.ndarray
    k: int
    sha256: str = ""
    extras: dict[str, Any] = field(default_factory=dict)


def card_path(path: Path) -> Path:
    return path.with_suffix(".json")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_model(model: Model, path: Path, card: dict[str, Any]) -> str:
    """Write the model and its card; return the model file's sha256."""
    payload = {
        "format_version": FORMAT_VERSION,
        "id": model.id,
        "classes": list(model.classes),
        "reference": model.reference,
        "reference_labels": model.reference_labels,
        "k": model.k,
        "extras": dict(model.extras),
    }
    joblib.dump(payload, path, compress=3)
    digest = _sha256(path)
    full = {**card, "id": model.id, "format_version": FORMAT_VERSION, "sha256": digest}
    card_path(path).write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
    return digest


def load_model(path: Path) -> Model:
    """Load a model after checking it against its card.

    Raises
    ------
    ModelError
        The file or its card is missing, the sha256 differs from the card, the
        file is not a digitd model, or its format version is unsupported.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist")
    cpath = card_path(path)
    try:
        card = json.loads(cpath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"model card {cpath} for {path} does not exist") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ModelError(f"model card {cpath} is not valid JSON: {exc}") from None
    digest = _sha256(path)
    if card.get("sha256") != digest:
        raise ModelError(
            f"model file {path} has sha256 {digest}, but its card {cpath} says "
            f"{card.get('sha256')!r}: the file is corrupt or was replaced"
        )
    try:
        payload = joblib.load(path)
    except Exception as exc:  # any unpickling failure means the same thing here
        raise ModelError(f"model file {path} cannot be read: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        version = payload.get("format_version") if isinstance(payload, dict) else None
        raise ModelError(
            f"model file {path} has format version {version!r}; "
            f"this digitd reads version {FORMAT_VERSION}"
        )
    return Model(
        id=str(payload["id"]),
        classes=tuple(payload["classes"]),
        reference=np.asarray(payload["reference"]),
        reference_labels=np.asarray(payload["reference_labels"]),
        k=int(payload["k"]),
        sha256=digest,
        extras=dict(payload.get("extras") or {}),
    )
