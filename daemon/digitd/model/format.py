"""The model file: ``NAME.joblib`` plus its card ``NAME.json``.

The service relies on ``load_model(path) -> Model`` and on ``Model.id`` /
``Model.sha256``; recognition reads the rest. The card records where the model
came from (data sources with counts and sha256, augmentation, feature
parameters, k, accuracy) and the sha256 of the model file, which loading checks.

A model file is a pickle: loading it runs code. Load only trusted models.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

import joblib
import numpy as np

from digitd.errors import ModelError
from digitd.pipeline.features import HogParams

__all__ = [
    "FORMAT_VERSION",
    "Model",
    "card_path",
    "file_sha256",
    "load_model",
    "quantize_reference",
    "save_model",
    "save_with_extras",
]

FORMAT_VERSION = 2


@dataclass(frozen=True, slots=True)
class Model:
    """A k-nearest-neighbours digit model with a non-digit (reject) class.

    Attributes
    ----------
    id : str
    classes : tuple of str
        The digit classes; ``reference_labels`` value i < len(classes) is
        ``classes[i]``, and the value ``len(classes)`` marks a non-digit.
    reference : (M, D) float32 ndarray
        Embedded (HOG, then projected) reference samples, grouped by cluster
        (stored as int8 with a scale per dimension in the file).
    reference_labels : (M,) int16 ndarray
    k : int
        Neighbours that vote on the label (distance-weighted).
    sha256 : str
        Of the model file it was loaded from ('' before saving).
    extras : dict of str to Any
        Further parts saved in the same file, by name (``extras["marks"]``
        holds the print/hand classifier). Empty by default.
    mean : (F,) float32 ndarray or None
        Subtracted from HOG vectors before ``projection``.
    projection : (F, D) float32 ndarray or None
        PCA projection of HOG vectors; None means no projection (D = F).
    centroids : (C, D) float32 ndarray or None
        Cluster centres of the reference set for the neighbour search; None
        means exhaustive search.
    offsets : (C + 1,) int64 ndarray or None
        Cluster c holds ``reference[offsets[c]:offsets[c + 1]]``.
    probes : int
        Clusters searched per query.
    calibration : (6,) float64 ndarray or None
        Logistic-regression weights (intercept first) turning neighbour
        statistics into the probability that the label is right.
    hog : HogParams
    deskew : bool
    stroke_width : float or None
        Normalization settings the reference was built with.
    """

    id: str
    classes: tuple[str, ...]
    reference: np.ndarray
    reference_labels: np.ndarray
    k: int
    sha256: str = ""
    extras: dict[str, Any] = field(default_factory=dict)
    mean: np.ndarray | None = None
    projection: np.ndarray | None = None
    centroids: np.ndarray | None = None
    offsets: np.ndarray | None = None
    probes: int = 8
    calibration: np.ndarray | None = None
    hog: HogParams = field(default_factory=HogParams)
    deskew: bool = True
    stroke_width: float | None = None

    @property
    def reject_label(self) -> int:
        """The value of ``reference_labels`` that marks a non-digit sample."""
        return len(self.classes)


_HOG_KEYS = ("orientations", "cell", "block", "block_norm", "soft_bins", "second_cell")


def quantize_reference(reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Store reference vectors as int8 with one scale per dimension.

    Parameters
    ----------
    reference : (M, D) float ndarray

    Returns
    -------
    codes : (M, D) int8 ndarray
    scale : (D,) float32 ndarray
        ``codes * scale`` approximates ``reference`` to half a step.
    """
    reference = np.asarray(reference, dtype=np.float32)
    peak = np.abs(reference).max(axis=0) if len(reference) else np.ones(reference.shape[1])
    scale = (np.where(peak > 0, peak, 1.0) / 127.0).astype(np.float32)
    codes = np.clip(np.round(reference / scale), -127, 127).astype(np.int8)
    return codes, scale


def card_path(path: Path) -> Path:
    """The model card beside a model file (``NAME.json``)."""
    return Path(path).with_suffix(".json")


def file_sha256(path: Path) -> str:
    """sha256 hex digest of a file's bytes."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_model(model: Model, path: Path, card: dict[str, Any]) -> str:
    """Write the model and its card; return the model file's sha256.

    Parameters
    ----------
    model : Model
    path : Path
        The ``.joblib`` file to write; the card goes beside it as ``.json``.
    card : dict
        Provenance for the card; ``id``, ``format_version``, ``sha256`` and
        ``size_bytes`` are filled in here.
    """
    path = Path(path)
    payload: dict[str, Any] = {"format_version": FORMAT_VERSION}
    for f in fields(Model):
        if f.name == "sha256":
            continue
        value = getattr(model, f.name)
        if f.name == "hog":
            value = {key: getattr(value, key) for key in _HOG_KEYS}
        elif f.name == "reference":
            value, payload["reference_scale"] = quantize_reference(value)
        elif f.name == "classes":
            value = list(value)
        elif f.name == "extras":
            value = dict(value)
        payload[f.name] = value
    joblib.dump(payload, path, compress=3)
    digest = file_sha256(path)
    full = {
        **card,
        "id": model.id,
        "format_version": FORMAT_VERSION,
        "size_bytes": path.stat().st_size,
        "sha256": digest,
    }
    card_path(path).write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
    return digest


def save_with_extras(
    base: Path, path: Path, extras: dict[str, Any], card: dict[str, Any]
) -> tuple[Model, str]:
    """Write a copy of a model file with some extras replaced; the rest stays bit-identical.

    The recognizer's stored arrays (the int8 reference and its scales, the
    projection, the clusters, the calibration) are copied as stored, not
    re-quantized, so reading with the new file gives the same digits.

    Parameters
    ----------
    base : Path
        The model file to copy (checked against its card first).
    path : Path
        The ``.joblib`` file to write (may be ``base`` itself); the card goes
        beside it as ``.json``.
    extras : dict
        Extras to set by name (``{"marks": ...}``); others are kept.
    card : dict
        Provenance for the new card; ``id``, ``format_version``, ``sha256``
        and ``size_bytes`` are filled in here.

    Returns
    -------
    model : Model
        The new model as loaded from ``path``.
    sha256 : str
        Of the new file.

    Raises
    ------
    ModelError
        ``base`` cannot be loaded (see ``load_model``).
    """
    load_model(base)  # checks the file against its card and its format
    payload = joblib.load(Path(base))
    payload["extras"] = {**dict(payload.get("extras") or {}), **extras}
    path = Path(path)
    joblib.dump(payload, path, compress=3)
    digest = file_sha256(path)
    full = {
        **card,
        "id": str(payload["id"]),
        "format_version": FORMAT_VERSION,
        "size_bytes": path.stat().st_size,
        "sha256": digest,
    }
    card_path(path).write_text(json.dumps(full, indent=2) + "\n", encoding="utf-8")
    return load_model(path), digest


def load_model(path: Path) -> Model:
    """Load a model after checking it against its card.

    Parameters
    ----------
    path : Path
        The ``.joblib`` model file, with its ``.json`` card beside it.

    Returns
    -------
    Model
        With ``sha256`` set to the file's digest.

    Raises
    ------
    ModelError
        The file or its card is missing, the sha256 differs from the card, the
        file is not a digitd model, or its format version is unsupported.
    """
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} does not exist (set `model:` to a digitd model)")
    cpath = card_path(path)
    try:
        card = json.loads(cpath.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ModelError(f"model card {cpath} for {path} does not exist") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"model card {cpath} is not valid JSON: {exc}") from None
    if not isinstance(card, dict):
        raise ModelError(f"model card {cpath} is not a JSON object")
    digest = file_sha256(path)
    if card.get("sha256") != digest:
        raise ModelError(
            f"model file {path} has sha256 {digest}, but its card {cpath} says "
            f"{card.get('sha256')!r}: the file is corrupt or was replaced"
        )
    if card.get("format_version") != FORMAT_VERSION:
        raise ModelError(
            f"model file {path} has format version {card.get('format_version')!r}; "
            f"this digitd reads version {FORMAT_VERSION}: rebuild it with `digitd train`"
        )
    try:
        payload = joblib.load(path)
    except Exception as exc:  # any unpickling failure means the same thing here
        raise ModelError(f"model file {path} cannot be read: {exc}") from None
    if not isinstance(payload, dict) or payload.get("format_version") != FORMAT_VERSION:
        version = payload.get("format_version") if isinstance(payload, dict) else None
        raise ModelError(
            f"model file {path} has format version {version!r}; "
            f"this digitd reads version {FORMAT_VERSION}: rebuild it with `digitd train`"
        )
    try:
        return _model_from_payload(payload, digest)
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelError(f"model file {path} is incomplete or inconsistent: {exc}") from None


def _model_from_payload(payload: dict[str, Any], digest: str) -> Model:
    hog = payload.get("hog") or {}
    reference = np.asarray(payload["reference"], dtype=np.float32)
    if payload.get("reference_scale") is not None:
        reference *= np.asarray(payload["reference_scale"], dtype=np.float32)
    labels = np.asarray(payload["reference_labels"])
    if reference.ndim != 2 or labels.shape != (len(reference),):
        raise ValueError(
            f"reference of shape {reference.shape} does not match labels of shape {labels.shape}"
        )

    def array(name: str, dtype: type) -> np.ndarray | None:
        value = payload.get(name)
        return None if value is None else np.asarray(value, dtype=dtype)

    stroke = payload.get("stroke_width")
    return Model(
        id=str(payload["id"]),
        classes=tuple(str(c) for c in payload["classes"]),
        reference=reference,
        reference_labels=labels,
        k=int(payload["k"]),
        sha256=digest,
        extras=dict(payload.get("extras") or {}),
        mean=array("mean", np.float32),
        projection=array("projection", np.float32),
        centroids=array("centroids", np.float32),
        offsets=array("offsets", np.int64),
        probes=int(payload.get("probes", 8)),
        calibration=array("calibration", np.float64),
        hog=HogParams(**{key: hog[key] for key in _HOG_KEYS if key in hog}),
        deskew=bool(payload.get("deskew", True)),
        stroke_width=None if stroke is None else float(stroke),
    )
