"""OCR engines behind one protocol: an image in, text boxes out.

The default engine, ``plate``, is RapidOCR (``rapidocr-onnxruntime``: PP-OCRv4 detection and recognition
models that ship inside its wheel, so nothing is downloaded at run time) with the plate detector and the plate
reader trained here (``detect.py`` and ``reader.py``, ONNX models shipped in this package): the detector finds
plates, the reader reads the text lines the pipeline picks. ``rapidocr`` is RapidOCR alone (its general
recognizer reads Chinese and Latin text; the pipeline keeps letters and digits).
``easyocr`` is an optional extra. ``FakeEngine`` answers from a table, for fast tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ConfigError

__all__ = [
    "EasyOCREngine",
    "Engine",
    "FakeEngine",
    "PlateEngine",
    "RapidOCREngine",
    "TextBox",
    "default_engine",
    "make_engine",
]


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

    # An engine may also offer ``detect(image) -> list[TextBox]``: the boxes alone, unread, faster. With the
    # plate reader the pipeline then takes a quick look first (``pipeline._quick_look``).


class RapidOCREngine:
    """RapidOCR with settings measured on plate photos: detection at the image's own size (its default
    upscales small inputs and is slow), a low text threshold (plates are often faint), no orientation
    classifier, and a bounded number of threads.

    With ``det_limit_type="max"``, RapidOCR 1.4.4 picks the detector's size limit from the image's size
    (960, 1500 or 2000 px) whatever ``det_limit_side_len`` says, so images up to 2000 px are searched as they
    are; the pipeline resizes an image itself where it wants another size (``pipeline._scaled_boxes``)."""

    name = "rapidocr"

    def __init__(self, *, threads: int = 2, text_score: float = 0.3) -> None:
        try:
            from rapidocr_onnxruntime import RapidOCR
        except ImportError as exc:  # pragma: no cover - the package is a dependency
            raise RuntimeError("the OCR engine is missing: pip install rapidocr-onnxruntime") from exc
        self._ocr = RapidOCR(
            text_score=text_score,
            use_cls=False,
            det_limit_type="max",
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

    def detect(self, image: np.ndarray) -> list[TextBox]:
        """The text boxes of a BGR image, unread (the detector alone; the plate reader reads them)."""
        with self._lock:
            result, _elapsed = self._ocr(image, use_det=True, use_cls=False, use_rec=False)
        return [TextBox(tuple((float(x), float(y)) for x, y in points), "", 1.0) for points in result or []]

    def read_line(self, image: np.ndarray) -> tuple[str, float]:
        with self._lock:
            result, _elapsed = self._ocr(image, use_det=False, use_cls=False, use_rec=True)
        if not result:
            return "", 0.0
        text, score = result[0][0], result[0][1]
        return str(text), float(score)


class PlateEngine(RapidOCREngine):
    """RapidOCR, and the plate detector and plate reader trained for this project (the default engine).

    A focused look first: the plate detector trained for this project
    (:class:`~alpr_lib.recognition.detect.PlateDetector`) finds the plates, RapidOCR's text detector finds the
    text lines in each, enlarged, and the plate reader (:class:`~alpr_lib.recognition.reader.PlateReader`)
    reads them; a reading it is very sure of is the plate. Then a quick look: the text detector on the whole
    image, the reader reading every region. Otherwise the general recognizer reads all the text, the pipeline
    picks the plate among it, and the plate reader reads that region and is believed when it is sure. See
    ``ACCURACY.md`` for what each part adds."""

    name = "plate"

    def __init__(
        self, *, model: str | Path | None = None, detector: str | Path | None = None, threads: int = 2
    ) -> None:
        from .detect import PlateDetector
        from .reader import PlateReader

        super().__init__(threads=threads)
        self.reader = PlateReader(model, threads=threads)
        self.detector = PlateDetector(detector, threads=threads)


class EasyOCREngine:
    """EasyOCR (an optional extra: ``pip install 'alpr-workbench[easyocr]'``) with its standard English
    models read from ``model_dir`` — never downloaded at run time. Without them it says how to get them."""

    name = "easyocr"
    MODELS = ("craft_mlt_25k.pth", "english_g2.pth")

    def __init__(self, model_dir: str | Path) -> None:
        model_dir = Path(model_dir).expanduser()
        missing = [m for m in self.MODELS if not (model_dir / m).exists()]
        if missing:
            raise ConfigError(
                f"EasyOCR's models {', '.join(missing)} are not in {model_dir}: copy them there from a "
                "machine with internet access (EasyOCR keeps them in ~/.EasyOCR/model), or use the "
                "default engine"
            )
        try:
            import easyocr
        except ImportError:
            raise ConfigError("EasyOCR is not installed: pip install 'alpr-workbench[easyocr]'") from None
        self._reader = easyocr.Reader(
            ["en"], gpu=False, model_storage_directory=str(model_dir), download_enabled=False, verbose=False
        )
        self._lock = threading.Lock()

    def detect_and_read(self, image: np.ndarray) -> list[TextBox]:
        with self._lock:
            found = self._reader.readtext(image)
        return [
            TextBox(tuple((float(x), float(y)) for x, y in pts), str(text), float(score))
            for pts, text, score in found
        ]

    def read_line(self, image: np.ndarray) -> tuple[str, float]:
        with self._lock:
            found = self._reader.readtext(image, detail=1, paragraph=False)
        if not found:
            return "", 0.0
        best = max(found, key=lambda f: f[2])
        return str(best[1]), float(best[2])


def make_engine(
    name: str = "plate",
    *,
    model_dir: str | Path | None = None,
    reader_model: str | Path | None = None,
    detector_model: str | Path | None = None,
) -> Engine:
    """An engine by name (the ``ocr_engine`` setting): ``plate`` (default), ``rapidocr`` or ``easyocr``.
    ``reader_model`` and ``detector_model`` name other plate reader and plate detector models than the
    shipped ones (to measure one)."""
    if name == "plate":
        return PlateEngine(model=reader_model or None, detector=detector_model or None)
    if name == "rapidocr":
        return RapidOCREngine()
    if name == "easyocr":
        if not model_dir:
            raise ConfigError(
                "the easyocr engine needs the easyocr_model_dir setting: a folder with its models"
            )
        return EasyOCREngine(model_dir)
    raise ConfigError(f"unknown OCR engine {name!r}: use plate, rapidocr or easyocr")


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

    def detect(self, image: np.ndarray) -> list[TextBox]:
        return [TextBox(b.points, "", 1.0) for b in self._boxes(image)]

    def read_line(self, image: np.ndarray) -> tuple[str, float]:
        return self._line(image)


_ENGINES: dict[tuple[str, str, str, str], Engine] = {}
_DEFAULT_LOCK = threading.Lock()


def default_engine(
    name: str = "plate",
    *,
    model_dir: str | Path | None = None,
    reader_model: str | Path | None = None,
    detector_model: str | Path | None = None,
) -> Engine:
    """The shared engine of this process for these settings (see :func:`make_engine`): loading models
    takes about a second, so each is made once. The caller says which; the library reads no setting."""
    key = (name, str(model_dir or ""), str(reader_model or ""), str(detector_model or ""))
    with _DEFAULT_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = make_engine(
                name, model_dir=model_dir, reader_model=reader_model, detector_model=detector_model
            )
        return _ENGINES[key]
