"""Judge a new marks classifier on a benchmark's pages without reading them again.

A marks-only retrain (``digitd train --base MODEL --marks-only``) leaves the
recognizer bit for bit, so every page segments and reads exactly as before:
only ``digitd.pipeline.read.keep_handwriting`` (the marks classifier and its
line rules) can decide differently. A benchmark run with ``--marks-replay
DIR`` records what ``keep_handwriting`` is given on each page (the segmented
page and the recognizer's predictions) in ``DIR``; the next run with the same
seed and page count gives those to the new model's ``keep_handwriting``
instead of reading the pages again.

A recording is used only when the recognizer part of the model (everything
but ``extras["marks"]``) and the source of segmentation, recognition and the
page generator are the same as when it was made; otherwise the pages are
read again and the recording is replaced. Speed columns are not measured in
a replay.
"""

from __future__ import annotations

import hashlib
import pickle
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import digitd.pipeline.read as read_module
from digitd.model.format import Model
from digitd.pipeline.read import ReadParams
from digitd.pipeline.recognize import Predictions
from digitd.pipeline.segment import SegmentedPage
from digitd.results import FieldResult

__all__ = ["MarksReplay"]

_PACKAGE = Path(read_module.__file__).resolve().parents[1]
# Source whose changes the marks classifier's inputs do not depend on: the
# classifier itself and how it evaluates its trees.
_NOT_INPUTS = {"pipeline/marks.py", "pipeline/boosted.py"}


def _inputs_key(model: Model) -> str:
    """Fingerprint of what decides ``keep_handwriting``'s inputs on a bench page."""
    digest = hashlib.sha256()
    recognizer = replace(
        model, id="", sha256="", extras={k: v for k, v in model.extras.items() if k != "marks"}
    )
    digest.update(pickle.dumps(recognizer, protocol=4))
    for path in sorted(_PACKAGE.rglob("*.py")):
        relative = path.relative_to(_PACKAGE).as_posix()
        if relative.startswith(("pipeline/", "synth/", "model/format")) and (
            relative not in _NOT_INPUTS
        ):
            digest.update(relative.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


@dataclass
class MarksReplay:
    """One benchmark's recorded marks inputs, page by page, in reading order.

    Attributes
    ----------
    path : Path
        The recording's file.
    key : str
        Fingerprint of the recognizer and the source that made the inputs.
    pages : list of (SegmentedPage, Predictions) or None
        The recording, or None when there is none to replay (read the pages
        and record them).
    """

    path: Path
    key: str
    pages: list[tuple[SegmentedPage, Predictions]] | None
    _recorded: list[tuple[SegmentedPage, Predictions]] = field(default_factory=list)
    _next: int = 0

    @classmethod
    def open(cls, folder: Path, name: str, model: Model) -> MarksReplay:
        """The recording ``name`` in ``folder`` if it was made with ``model``'s recognizer."""
        path = Path(folder) / f"{name}.pkl"
        key = _inputs_key(model)
        pages = None
        if path.exists():
            with path.open("rb") as f:
                stored: dict[str, Any] = pickle.load(f)
            if stored.get("key") == key:
                pages = stored["pages"]
        return cls(path=path, key=key, pages=pages)

    @property
    def ready(self) -> bool:
        """Whether there is a recording to replay."""
        return self.pages is not None

    @contextmanager
    def recording(self) -> Iterator[None]:
        """Record every page ``keep_handwriting`` sees while the block runs."""
        original = read_module.keep_handwriting

        def keep(
            segmented: SegmentedPage, predictions: Predictions, model: Model, params: Any
        ) -> tuple[FieldResult, ...]:
            self._recorded.append((segmented, predictions))
            return original(segmented, predictions, model, params)

        read_module.keep_handwriting = keep
        try:
            yield
        finally:
            read_module.keep_handwriting = original

    def next_fields(self, model: Model, params: ReadParams) -> list[FieldResult]:
        """The next recorded page's fields as ``model``'s marks classifier keeps them."""
        if self.pages is None:
            raise RuntimeError(f"no recording to replay in {self.path}")
        segmented, predictions = self.pages[self._next]
        self._next += 1
        return list(read_module.keep_handwriting(segmented, predictions, model, params.recognition))

    def save(self) -> None:
        """Write what was recorded (nothing to do when this run replayed)."""
        if self.pages is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("wb") as f:
            pickle.dump({"key": self.key, "pages": self._recorded}, f, protocol=4)
        tmp.replace(self.path)
