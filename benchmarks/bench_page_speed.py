"""Where the time of one page goes: load-to-results, step by step, single core.

Generates 300-dpi cheques (about 1800x825) and A4 forms (2480x3508, 10
fields) with MNIST test digits, encodes each as the file a scanner would
write, and runs the daemon's reading path (bytes -> ``load_pages`` ->
``read_pages``) several times per page. Each step of the pipeline is timed
by wrapping the functions ``segment_page`` and ``read_page`` call (times are
exclusive: a step nested in another is not counted twice), and a table
prints, per page kind, the median over pages of the best-of-N and of the
median-of-N milliseconds of every step, and of the whole.

Usage (from the repository root):

    OMP_NUM_THREADS=1 nice -n 10 .venv/bin/python benchmarks/bench_page_speed.py
        [--mnist DIR] [--model models/default.joblib] [--pages 5] [--repeat 5]
        [--seed 1] [--format png|jpeg] [--skew DEGREES] [--cpu] [--cache DIR]
        [--profile cheque|form] [--plain-malloc]

By default every other page is drawn with a random skew of up to 3 degrees
and the others straight, so the median page is straight. Real scans are
nearly always a little askew, and a skewed page pays for the rotation (and
for its effects on later steps); ``--skew 1.5`` draws every page at 1.5
degrees to show that cost (``--skew 0``: every page straight).

The process keeps freed page buffers for the next page, as a daemon worker
does (`digitd.service.memory.keep_freed_memory`); ``--plain-malloc`` leaves
the C allocator at its defaults, to measure what that saves.

On a machine shared with other work, ``--cpu`` times with the process's CPU
clock instead of the wall clock (the pipeline is single-threaded, so on an
idle machine the two agree); ``--cache DIR`` keeps the generated files there
between runs.

``--profile`` also prints the cProfile of one page of that kind (top 30 by
cumulative time).
"""

from __future__ import annotations

import os
import pickle

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import cProfile  # noqa: E402
import functools  # noqa: E402
import io  # noqa: E402
import pstats  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from PIL import Image  # noqa: E402

import digitd.pipeline.marks as marks_module  # noqa: E402
import digitd.pipeline.read as read_module  # noqa: E402
import digitd.pipeline.segment as segment_module  # noqa: E402
from digitd.model.format import load_model  # noqa: E402
from digitd.model.sources import read_idx  # noqa: E402
from digitd.pipeline.load import load_pages  # noqa: E402
from digitd.pipeline.read import ReadParams, read_pages  # noqa: E402
from digitd.service.memory import keep_freed_memory  # noqa: E402
from digitd.synth import DigitBank, ScanStyle, SynthPage, make_cheque, make_form  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]

# (module, function name, step) wrapped for timing, in pipeline order.
_STEPS: tuple[tuple[Any, str, str], ...] = (
    (segment_module, "estimate_scale", "scale+resample+channel"),
    (segment_module, "_resample", "scale+resample+channel"),
    (segment_module, "select_ink_channel", "scale+resample+channel"),
    (segment_module, "binarize_page", "binarize"),
    (segment_module, "estimate_skew", "skew"),
    (segment_module, "rotate_ink", "rotate"),
    (segment_module, "remove_form_lines", "lines"),
    (segment_module, "find_marks", "marks+group"),
    (segment_module, "join_fragments", "marks+group"),
    (segment_module, "group_fields", "marks+group"),
    (segment_module, "_digit_crops", "split/merge"),
    # Also the crop scorer of split/merge, timed as "split/merge scoring".
    (read_module, "classify_digits", "recognize"),
    (marks_module, "measure_marks", "marks features"),
    (read_module, "classify_marks", "marks classify"),
)
STEP_NAMES = (
    "load",
    "scale+resample+channel",
    "binarize",
    "skew",
    "rotate",
    "lines",
    "marks+group",
    "split/merge",
    "split/merge scoring",
    "recognize",
    "marks features",
    "marks classify",
    "other",
)


class StepClock:
    """Exclusive time per step of the functions wrapped with `wrap`."""

    def __init__(self, now: Callable[[], float] = time.perf_counter) -> None:
        self.now = now
        self.spent: dict[str, float] = {}
        self._stack: list[list[Any]] = []  # [step, start, nested time]

    def wrap(self, fn: Callable[..., Any], step: str) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            # The recognizer called from inside split/merge scores cut candidates.
            name = step
            if step == "recognize" and any(f[0] == "split/merge" for f in self._stack):
                name = "split/merge scoring"
            frame = [name, self.now(), 0.0]
            self._stack.append(frame)
            try:
                return fn(*args, **kwargs)
            finally:
                self._stack.pop()
                total = self.now() - frame[1]
                self.spent[name] = self.spent.get(name, 0.0) + total - frame[2]
                if self._stack:
                    self._stack[-1][2] += total

        return timed

    def install(self) -> None:
        for module, attr, step in _STEPS:
            setattr(module, attr, self.wrap(getattr(module, attr), step))


def encode(page: SynthPage, fmt: str) -> bytes:
    """The page as a PNG or JPEG (quality 90) with its dpi (TIFF G4 for bitonal pages)."""
    buf = io.BytesIO()
    image = Image.fromarray(page.image)
    dpi = (page.dpi, page.dpi)
    if set(np.unique(page.image[::13, ::13])) <= {0, 255} and page.image.ndim == 2:
        image.convert("1").save(buf, format="TIFF", compression="group4", dpi=dpi)
    elif fmt == "jpeg":
        image.save(buf, format="JPEG", quality=90, dpi=dpi)
    else:
        image.save(buf, format="PNG", dpi=dpi)
    return buf.getvalue()


def run_once(data: bytes, name: str, model: Any, params: ReadParams, clock: StepClock) -> float:
    """Load and read one file; the step times go to ``clock``; returns total ms."""
    clock.spent = {}
    t0 = clock.now()
    pages = load_pages(data)
    t1 = clock.now()
    read_pages(pages, model, params=params, source_name=name)
    t2 = clock.now()
    clock.spent["load"] = t1 - t0
    clock.spent["other"] = (t2 - t0) - sum(clock.spent.values())
    return (t2 - t0) * 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--mnist", type=Path, default=ROOT / ".." / "shared" / "data" / "mnist")
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default.joblib")
    parser.add_argument("--pages", type=int, default=5, help="pages of each kind")
    parser.add_argument("--repeat", type=int, default=5, help="runs of each page")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=("png", "jpeg"), default="png", help="file format")
    parser.add_argument(
        "--skew",
        type=float,
        default=None,
        help="draw every page at this skew (default: every other page random, up to 3 degrees)",
    )
    parser.add_argument("--cpu", action="store_true", help="time with the CPU clock")
    parser.add_argument("--cache", type=Path, default=None, help="keep generated files here")
    parser.add_argument("--profile", choices=("cheque", "form"), default=None)
    parser.add_argument(
        "--plain-malloc", action="store_true", help="leave the C allocator at its defaults"
    )
    args = parser.parse_args()
    cv2.setNumThreads(1)
    kept = False if args.plain_malloc else keep_freed_memory()

    images, labels = read_idx(args.mnist / "t10k-images-idx3-ubyte.gz")
    bank = DigitBank(images, labels)
    model = load_model(args.model)
    params = ReadParams()
    rng = np.random.default_rng(args.seed)
    clock = StepClock(time.process_time if args.cpu else time.perf_counter)
    clock.install()

    kinds = (("cheque", make_cheque), ("form", make_form))
    skew_tag = "mixed" if args.skew is None else f"skew{args.skew:g}"
    name = f"pages-{args.seed}-{args.pages}-{args.format}-{skew_tag}.pickle"
    cached = args.cache / name if args.cache else None
    files: dict[str, list[bytes]] = {}
    if cached is not None and cached.exists():
        files = pickle.loads(cached.read_bytes())
    else:
        for kind, make in kinds:
            files[kind] = []
            for i in range(args.pages):
                skew = float(rng.uniform(-3.0, 3.0)) if i % 2 else 0.0
                if args.skew is not None:
                    skew = args.skew
                tinted = kind == "cheque" or i % 2 == 1
                style = ScanStyle(dpi=300.0, skew_degrees=skew, tinted=tinted)
                files[kind].append(encode(make(bank, rng, style=style), args.format))
        if cached is not None:
            cached.parent.mkdir(parents=True, exist_ok=True)
            cached.write_bytes(pickle.dumps(files))

    # One warm-up run: imports, model arrays paged in, caches filled.
    run_once(files["cheque"][0], "warm.png", model, params, clock)

    # best[kind][step] and median[kind][step]: per page, then the median over pages.
    table: dict[str, dict[str, tuple[float, float]]] = {}
    for kind, _ in kinds:
        per_page_best: dict[str, list[float]] = {s: [] for s in (*STEP_NAMES, "total")}
        per_page_median: dict[str, list[float]] = {s: [] for s in (*STEP_NAMES, "total")}
        for i, data in enumerate(files[kind]):
            runs: list[dict[str, float]] = []
            for _ in range(args.repeat):
                total = run_once(data, f"{kind}-{i}.png", model, params, clock)
                spent = {s: clock.spent.get(s, 0.0) * 1000.0 for s in STEP_NAMES}
                spent["total"] = total
                runs.append(spent)
            for step in per_page_best:
                values = [r[step] for r in runs]
                per_page_best[step].append(min(values))
                per_page_median[step].append(statistics.median(values))
        table[kind] = {
            s: (statistics.median(per_page_best[s]), statistics.median(per_page_median[s]))
            for s in per_page_best
        }

    skew_desc = "every other page up to 3 deg" if args.skew is None else f"{args.skew:g} deg"
    print(
        f"model {args.model.name}; {args.pages} {args.format.upper()} pages of each kind, "
        f"{args.repeat} runs each; "
        f"seed {args.seed}; skew {skew_desc}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; "
        f"{'CPU' if args.cpu else 'wall'} clock; "
        f"freed page buffers {'kept (as in a worker)' if kept else 'returned (allocator defaults)'}"
    )
    print()
    print("| step (ms) | cheque best | cheque median | A4 form best | A4 form median |")
    print("|---|---|---|---|---|")
    for step in (*STEP_NAMES, "total"):
        cb, cm = table["cheque"][step]
        fb, fm = table["form"][step]
        label = f"**{step}**" if step == "total" else step
        print(f"| {label} | {cb:.1f} | {cm:.1f} | {fb:.1f} | {fm:.1f} |")
    print()
    print("best: fastest of the runs of a page; median: median of its runs; each then the")
    print("median over pages. 'split/merge scoring' is the recognizer called to choose cuts.")

    if args.profile:
        data = files[args.profile][0]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(args.repeat):
            run_once(data, f"{args.profile}-0.png", model, params, clock)
        profiler.disable()
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("cumulative").print_stats(30)
        print(stream.getvalue())
        stream = io.StringIO()
        pstats.Stats(profiler, stream=stream).sort_stats("tottime").print_stats(30)
        print(stream.getvalue())


if __name__ == "__main__":
    main()
