"""OCR engines behind one protocol: an image in, text boxes out.

The default engine is RapidOCR (``rapidocr-onnxruntime``): PP-OCRv4 detection and recognition models
that ship inside its wheel, so nothing is downloaded at run time. Its recognizer reads Chinese and Latin
text; the pipeline keeps letters and digits only. ``FakeEngine`` answers from a table, for fast tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

__all__ = ["Engine", "FakeEngine", "RapidOCREngine", "TextBox", "default_engine"]


@dataclass(frozen=True)
class TextBox:
    """A piece of text found in an image: its four corner points (x, y), the text and the engine's score."""

    points: tuple[tuple[float, float], ...]
    text: str
    score: float

    @property
    def bbox(self) -> tuple[float, float, float, float]:
        """(x, y, w, h) of the axis-aligned box around the points."""
        xs = [p[0] for p in self.points]
        ys = [p[1] for p in self.points]
        return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


class Engine(Protocol):
    """What the pipeline needs from an OCR engine."""

    name: str

    def detect_and_read(self, image: np.ndarray) -> list[TextBox]:
        """Every text box in a BGR image."""
        ...

    def read_line(self, image: np.ndarray) -> tuple[str, float]:
        """The text of an image holding one line (a plate crop), and its score."""
        ...


class RapidOCREngine:
    """RapidOCR with settings measured on plate photos: detection on the image's longer side up to
    ``side`` pixels (its default upscales small inputs and is slow), a low text threshold (plates are
    often faint), no orientation classifier, and a bounded number of threads."""

    name = "rapidocr"

    def __init__(self, *, side: int = 1280, threads: int = 2, text_score: float = 0.3) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:  # pragma: no cover - the package is a dependency
            raise RuntimeError("the OCR engine is missing: pip install rapidocr-onnxruntime") from exc
        self._ocr = RapidOCR(
            text_score=text_score,
            use_cls=False,
            det_limit_type="max",
            det_limit_side_len=side,
            det_intra_op_num_threads=threads,
            rec_intra_op_num_threads=threads,
            cls_intra_op_num_threads=threads,
        )
        self._lock = threading.Lock()  # one inference at a time per engine

    def detect_and_read(self, image: np.ndarray) -> list[TextBox]:
        with self._lock:
            result, _elapsed = self._ocr(image, use_cls=False)
        boxes = []
        for points, text, score in result or []:
            boxes.append(TextBox(tuple((float(x), float(y)) for x, y in points), str(text), float(score)))
        return boxes

    def read_line(self, image: np.ndarray) -> tuple[str, float]:
        with self._lock:
            result, _elapsed = self._ocr(image, use_det=False, use_cls=False, use_rec=True)
        if not result:
            return "", 0.0
        text, score = result[0][0], result[0][1]
        return str(text), float(score)


class FakeEngine:
    """An engine that answers from a function of the image (for fast tests of the pipeline)."""

    name = "fake"

    def __init__(
        self,
        boxes: Callable[[np.ndarray], Sequence[TextBox]],
        line: Callable[[np.ndarray], tuple[str, float]] | None = None,
    ) -> None:
        self._boxes = boxes
        self._line = line or (lambda _img: ("", 0.0))

    def detect_and_read(self, image: np.ndarray) -> list[TextBox]:
        return list(self._boxes(image))

    def read_line(self, image: np.ndarray) -> tuple[str, float]:
        return self._line(image)


_DEFAULT: Engine | None = None
_DEFAULT_LOCK = threading.Lock()


def default_engine() -> Engine:
    """The shared default engine (loading its models takes about a second: done once per process)."""
    global _DEFAULT
    with _DEFAULT_LOCK:
        if _DEFAULT is None:
            _DEFAULT = RapidOCREngine()
        return _DEFAULT
