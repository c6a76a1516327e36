"""Segmentation quality gate and speed on generated cheques and forms.

Draws MNIST *test* digits (never trained on) onto generated cheque-like and
form-like scans (tints, skew up to 3 degrees, blur, noise, JPEG, bitonal
TIFF, 200/400 dpi variants, touching pairs, digits crossing lines), reads
them with the shipped model through the same path the daemon uses (bytes ->
load_pages -> read_pages), and prints a table:

- field exact match and digit accuracy (1 - edit distance / digits), cheques
  and forms separately;
- fields found (a true field overlapped by a read field);
- phantom fields per page on pages with print and lines only;
- load-to-results time of a 300-dpi cheque and an A4 form, single core:
  wall clock, and the process's CPU time (on a machine shared with other
  work the wall clock measures the others too; benchmarks/bench_page_speed.py
  splits the time by step).

Usage (from the repository root):

    nice -n 10 .venv/bin/python benchmarks/bench_segmentation.py [--mnist DIR]
        [--model models/default.joblib] [--pages 40] [--seed 1] [--marks-replay DIR]

With ``--marks-replay DIR`` the marks classifier's inputs on every page are
recorded in DIR, and a later run with the same seed and page count (and the
same recognizer and segmentation) only re-runs the marks classifier: a
marks-only retrain is judged without segmenting and recognizing the pages
again (see ``marks_replay.py``).
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from contextlib import nullcontext
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from digitd.model.format import load_model
from digitd.model.sources import read_idx
from digitd.pipeline.load import load_pages
from digitd.pipeline.read import ReadParams, read_pages
from digitd.synth import (
    DigitBank,
    PageScore,
    ScanStyle,
    SynthPage,
    make_cheque,
    make_form,
    random_style,
    score_page,
)
from marks_replay import MarksReplay

ROOT = Path(__file__).resolve().parents[1]


def encode(page: SynthPage) -> tuple[bytes, str]:
    """The page as the file a scanner would write: TIFF G4, JPEG or PNG."""
    buf = io.BytesIO()
    image = Image.fromarray(page.image)
    dpi = (page.dpi, page.dpi)
    if set(np.unique(page.image[::13, ::13])) <= {0, 255} and page.image.ndim == 2:
        image.convert("1").save(buf, format="TIFF", compression="group4", dpi=dpi)
        return buf.getvalue(), "tif"
    image.save(buf, format="PNG", dpi=dpi)
    return buf.getvalue(), "png"


def read_file(
    data: bytes, name: str, model: object, params: ReadParams
) -> tuple[list, float, float]:
    """Fields of the file's first page, and wall and CPU milliseconds spent."""
    t0, c0 = time.perf_counter(), time.process_time()
    pages = load_pages(data)
    outcome = read_pages(pages, model, params=params, source_name=name)  # type: ignore[arg-type]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return list(outcome.pages[0].fields), wall * 1000.0, cpu * 1000.0


def total(scores: list[PageScore]) -> PageScore:
    return PageScore(*(sum(getattr(s, f) for s in scores) for f in PageScore.__slots__))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist", type=Path, default=ROOT / ".." / "shared" / "data" / "mnist")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default.joblib")
    parser.add_argument("--pages", type=int, default=40, help="pages of each kind")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--marks-replay",
        type=Path,
        metavar="DIR",
        help="record the marks classifier's inputs in DIR, or replay them from an earlier run",
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)

    images, labels = read_idx(args.mnist / "t10k-images-idx3-ubyte.gz")
    bank = DigitBank(images, labels)
    model = load_model(args.model)
    params = ReadParams()
    rng = np.random.default_rng(args.seed)
    replay = None
    if args.marks_replay is not None:
        name = f"segmentation-seed{args.seed}-pages{args.pages}"
        replay = MarksReplay.open(args.marks_replay, name, model)

    def read(page: SynthPage, name: str) -> tuple[list, float | None, float | None]:
        if replay is not None and replay.ready:
            return replay.next_fields(model, params), None, None
        data, ext = encode(page)
        with replay.recording() if replay is not None else nullcontext():
            return read_file(data, f"{name}.{ext}", model, params)

    rows: list[tuple[str, PageScore, int]] = []
    times: dict[str, list[float]] = {"cheque": [], "form": []}
    cpu_times: dict[str, list[float]] = {"cheque": [], "form": []}
    for kind, make in (("cheque", make_cheque), ("form", make_form)):
        scores = []
        for i in range(args.pages):
            style = random_style(rng) if i >= 2 else ScanStyle(tinted=kind == "cheque")
            page = make(bank, rng, style=style)
            fields, ms, cpu_ms = read(page, f"{kind}-{i}")
            scores.append(score_page(page.fields, fields))
            if style.dpi == 300 and ms is not None and cpu_ms is not None:
                times[kind].append(ms)
                cpu_times[kind].append(cpu_ms)
        rows.append((kind, total(scores), args.pages))
    blank_scores = []
    for i in range(args.pages):
        make = make_cheque if i % 2 == 0 else make_form
        page = make(bank, rng, style=random_style(rng), handwriting=False)
        fields, _, _ = read(page, f"blank-{i}")
        blank_scores.append(score_page((), fields))
    blank = total(blank_scores)
    if replay is not None:
        replay.save()

    print(f"model {args.model.name} ({model.id}); MNIST test digits; seed {args.seed}")
    if replay is not None and replay.ready:
        print(f"marks replayed from {replay.path} (no timings)")
    print()
    print(
        "| pages | n | fields | found | segmented right | exact match | digit accuracy "
        "| phantoms/page |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for kind, s, n in rows:
        print(
            f"| {kind} | {n} | {s.fields} | {s.found / s.fields:.1%} "
            f"| {s.segmented / s.fields:.1%} | {s.exact / s.fields:.1%} "
            f"| {1 - s.digit_errors / s.digits:.2%} | {s.phantoms / n:.2f} |"
        )
    print(f"| print only | {args.pages} | 0 | - | - | - | - | {blank.phantoms / args.pages:.2f} |")
    print()
    print("segmented right: one digit box per true digit, each centred in its true box.")
    print()
    print("| load to results, 300 dpi, 1 core | median ms | max ms | median CPU ms | pages |")
    print("|---|---|---|---|---|")
    for kind, label in (("cheque", "cheque 1800x825"), ("form", "A4 form 2480x3508, 10 fields")):
        ms, cpu = times[kind], cpu_times[kind]
        if ms:
            print(
                f"| {label} | {statistics.median(ms):.0f} | {max(ms):.0f} "
                f"| {statistics.median(cpu):.0f} | {len(ms)} |"
            )


if __name__ == "__main__":
    main()
