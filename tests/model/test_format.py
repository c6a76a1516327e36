"""The model file and its card: round trip, and one clear error per failure."""

from __future__ import annotations

import json
from pathlib import Path

import joblib
import numpy as np
import pytest

from digitd.errors import ModelError
from digitd.model.format import FORMAT_VERSION, Model, card_path, load_model, save_model
from digitd.pipeline.features import HogParams

ROOT = Path(__file__).resolve().parents[2]


def _model() -> Model:
    rng = np.random.default_rng(0)
    return Model(
        id="t",
        classes=tuple("0123456789"),
        reference=rng.normal(size=(20, 4)).astype(np.float32),
        reference_labels=np.arange(20, dtype=np.int16) % 11,
        k=3,
        mean=np.zeros(8, np.float32),
        projection=np.eye(8, 4, dtype=np.float32),
        centroids=np.zeros((2, 4), np.float32),
        offsets=np.array([0, 7, 20]),
        probes=1,
        calibration=np.arange(6, dtype=np.float64),
        hog=HogParams(orientations=8, cell=7, block=2, block_norm="L2"),
        deskew=False,
        stroke_width=3.0,
    )


def test_round_trip_keeps_every_part(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    digest = save_model(_model(), path, {"note": "test"})
    loaded = load_model(path)
    card = json.loads(card_path(path).read_text())
    assert card["sha256"] == digest == loaded.sha256
    assert card["note"] == "test" and card["format_version"] == FORMAT_VERSION
    assert card["size_bytes"] == path.stat().st_size
    original = _model()
    # int8 on disk: within half a quantization step of each dimension's range.
    step = np.abs(original.reference).max(axis=0) / 127
    assert (np.abs(loaded.reference - original.reference) <= step / 2 + 1e-6).all()
    assert loaded.reference.dtype == np.float32
    for name in ("reference_labels", "mean", "projection", "centroids", "offsets", "calibration"):
        np.testing.assert_array_equal(getattr(loaded, name), getattr(original, name))
    assert loaded.hog == original.hog
    assert (loaded.deskew, loaded.stroke_width, loaded.probes, loaded.k) == (False, 3.0, 1, 3)
    assert loaded.reject_label == 10


def test_missing_file_and_card_are_named(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match=r"m\.joblib does not exist"):
        load_model(tmp_path / "m.joblib")
    path = tmp_path / "m.joblib"
    save_model(_model(), path, {})
    card_path(path).unlink()
    with pytest.raises(ModelError, match=r"card .*m\.json"):
        load_model(path)


def test_corrupt_file_fails_the_sha256_check(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    save_model(_model(), path, {})
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match=r"m\.joblib has sha256 .* corrupt"):
        load_model(path)


def test_garbage_with_a_matching_card_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    path.write_bytes(b"not a pickle at all")
    from digitd.model.format import file_sha256

    card_path(path).write_text(
        json.dumps({"sha256": file_sha256(path), "format_version": FORMAT_VERSION})
    )
    with pytest.raises(ModelError, match=r"m\.joblib cannot be read"):
        load_model(path)


def test_old_format_version_is_refused_with_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "m.joblib"
    joblib.dump({"format_version": 1, "id": "old"}, path)
    from digitd.model.format import file_sha256

    card_path(path).write_text(json.dumps({"sha256": file_sha256(path), "format_version": 1}))
    with pytest.raises(ModelError, match=r"format version 1.*digitd train"):
        load_model(path)


def test_shipped_model_loads_and_its_card_describes_it() -> None:
    model = load_model(ROOT / "models" / "default.joblib")
    card = json.loads((ROOT / "models" / "default.json").read_text())
    assert model.id == card["id"]
    assert (ROOT / "models" / "default.joblib").stat().st_size <= 15 * 1024 * 1024
    for key in ("sources", "feature", "k", "date", "sha256"):
        assert key in card
