"""The recognizer on page crops: where correctly segmented digits are lost.

Generates the same cheques and forms as bench_segmentation.py (same seed,
same page count, same order), segments them with the pipeline's own steps
(load_pages -> segment_page, with the first model's crop scorer), and keeps
the fields whose segmentation is right (one crop per true digit, each centred
in its true box). Each such digit is then read three ways, by every model
given:

- page crop: the crop the pipeline hands the recognizer;
- clean drawing: the generator's pen drawing of the digit before paper,
  print, skew and scan (what the writer put down);
- MNIST: the same MNIST test image straight from the IDX file.

MNIST -> clean drawing is what redrawing a scanned pencil digit as a
ballpoint stroke costs (partly the generator's: loops that MNIST's thick
strokes fill become lines); clean drawing -> page crop is what scan,
binarization and line removal do. Crops whose ink or size differs much from
the clean drawing are counted as damaged (a stroke erased with a line, or a
line stub left).
With several models, the last column counts the crops each one reads right
where the first reads wrong, and the other way round (the same crops, so
the comparison is paired).

Usage (from the repository root)::

    OMP_NUM_THREADS=1 nice -n 5 .venv/bin/python benchmarks/bench_page_crops.py
        [--mnist ../shared/data/mnist] [--pages 20] [--seed 1] [--model M ...]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from bench_segmentation import encode
from digitd.model.format import load_model
from digitd.model.sources import read_idx
from digitd.pipeline.load import load_pages
from digitd.pipeline.read import ReadParams, make_crop_scorer
from digitd.pipeline.recognize import classify_digits
from digitd.pipeline.segment import segment_page
from digitd.synth import DigitBank, ScanStyle, make_cheque, make_form, random_style

ROOT = Path(__file__).resolve().parents[1]


def _centred(truth_box: tuple[int, ...], box: tuple[int, ...]) -> bool:
    cx, cy = box[0] + box[2] / 2.0, box[1] + box[3] / 2.0
    return bool(
        truth_box[0] <= cx <= truth_box[0] + truth_box[2]
        and truth_box[1] <= cy <= truth_box[1] + truth_box[3]
    )


def collect(bank: DigitBank, model: object, pages: int, seed: int) -> dict:
    """Crops, clean drawings, source images and labels of correctly segmented digits."""
    params = ReadParams()
    scorer = make_crop_scorer(model)  # type: ignore[arg-type]
    rng = np.random.default_rng(seed)
    out: dict[str, list] = {"crop": [], "drawing": [], "source": [], "label": [], "dpi": []}
    total = 0
    for kind, make in (("cheque", make_cheque), ("form", make_form)):
        for i in range(pages):
            style = random_style(rng) if i >= 2 else ScanStyle(tinted=kind == "cheque")
            page = make(bank, rng, style=style)
            total += sum(len(t.text) for t in page.fields)
            data, _ = encode(page)
            loaded = load_pages(data)[0]
            segmented = segment_page(
                loaded.image, dpi=loaded.dpi, params=params.segmentation, score_crops=scorer
            )
            for truth in page.fields:
                for fld in segmented.fields:
                    if len(fld.digits) == len(truth.digit_boxes) and all(
                        _centred(t, d.box)
                        for t, d in zip(truth.digit_boxes, fld.digits, strict=True)
                    ):
                        for ch, crop, source, alpha in zip(
                            truth.text, fld.digits, truth.sources, truth.drawings, strict=True
                        ):
                            out["crop"].append(crop.image)
                            out["drawing"].append(
                                (255 - np.clip(alpha * 255, 0, 255)).astype(np.uint8)
                            )
                            out["source"].append(source)
                            out["label"].append(int(ch))
                            out["dpi"].append(style.dpi)
                        break
    out["total"] = total
    return out


def _damaged(crops: list[np.ndarray], drawings: list[np.ndarray], dpi: np.ndarray) -> np.ndarray:
    """Crops whose ink area or size departs from the clean drawing's (scale per dpi)."""
    ink = np.array([(c < 128).sum() for c in crops], float)
    ref = np.array([(d < 128).sum() for d in drawings], float)
    hr = np.array([c.shape[0] / d.shape[0] for c, d in zip(crops, drawings, strict=True)])
    wr = np.array([c.shape[1] / d.shape[1] for c, d in zip(crops, drawings, strict=True)])
    for value in np.unique(dpi):
        m = dpi == value
        s = np.median(hr[m])
        hr[m] /= s
        wr[m] /= s
        ref[m] *= s * s
    ratio = ink / np.maximum(ref, 1.0)
    return (ratio < 0.8) | (ratio > 1.3) | (hr < 0.9) | (hr > 1.15) | (wr < 0.85) | (wr > 1.2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist", type=Path, default=ROOT / ".." / "shared" / "data" / "mnist")
    parser.add_argument(
        "--model", type=Path, action="append", help="model(s) to compare (default: shipped)"
    )
    parser.add_argument("--pages", type=int, default=20, help="pages of each kind")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    cv2.setNumThreads(1)
    paths = args.model or [ROOT / "models" / "default.joblib"]
    models = [load_model(p) for p in paths]

    images, labels = read_idx(args.mnist / "t10k-images-idx3-ubyte.gz")
    got = collect(DigitBank(images, labels), models[0], args.pages, args.seed)
    y = np.array(got["label"])
    damaged = _damaged(got["crop"], got["drawing"], np.array(got["dpi"]))
    n = len(y)
    print(
        f"seed {args.seed}, {args.pages} cheques + {args.pages} forms: {n} of {got['total']} "
        f"true digits in correctly segmented fields; {damaged.sum()} crops damaged "
        "(ink or size off the clean drawing)"
    )
    print()
    print(
        "| model | MNIST | clean drawing | page crop | crop wrong, drawing right "
        "| of them damaged | crops fixed / broken vs the first model |"
    )
    print("|---|---|---|---|---|---|---|")
    first: np.ndarray | None = None
    for path, model in zip(paths, models, strict=True):
        mnist = classify_digits(np.stack(got["source"]), model).labels.astype(int) == y
        drawing = classify_digits(got["drawing"], model).labels.astype(int) == y
        crop = classify_digits(got["crop"], model).labels.astype(int) == y
        lost = ~crop & drawing
        # Paired on the same crops: a difference of a few digits either way is noise.
        first = crop if first is None else first
        print(
            f"| {path.name} | {mnist.mean():.2%} | {drawing.mean():.2%} | {crop.mean():.2%} "
            f"| {lost.sum()} | {(lost & damaged).sum()} "
            f"| {(crop & ~first).sum()} / {(first & ~crop).sum()} |"
        )


if __name__ == "__main__":
    main()
