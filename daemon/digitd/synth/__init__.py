"""Generated scans with ground truth, for tests and benchmarks.

Pure functions: digit images and labels come in as arrays, randomness from
the ``numpy.random.Generator`` passed in; nothing is read from disk.
"""

from digitd.synth.pages import (
    CHEQUE_MM,
    FORM_MM,
    DigitBank,
    ScanStyle,
    SynthPage,
    TruthField,
    make_cheque,
    make_form,
    random_style,
)
from digitd.synth.pen import render_digit
from digitd.synth.score import PageScore, edit_distance, score_page

__all__ = [
    "CHEQUE_MM",
    "FORM_MM",
    "DigitBank",
    "PageScore",
    "ScanStyle",
    "SynthPage",
    "TruthField",
    "edit_distance",
    "make_cheque",
    "make_form",
    "random_style",
    "render_digit",
    "score_page",
]
