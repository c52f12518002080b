"""The plate reader: a small CRNN (convolutions, a bidirectional LSTM, CTC) trained here on US plate crops and
rendered plates, shipped as ONNX inside the package (``models/plate_reader.onnx``) and run with onnxruntime.

It reads one region: the text line of a plate as the detector boxed it, widened by a fixed margin
(:func:`plate_crop` — the same rule at training and at reading time), resized to a fixed grey image. It
answers the best reading with a confidence per character, and the most likely other readings. A region that
is not a plate (a state name, a slogan, a dealer's sticker) was trained to read as nothing.

The training script is ``alpr_lib/recognition/train.py`` (``python -m alpr_lib.recognition.train``).
"""

from __future__ import annotations

import heapq
import math
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "ALPHABET",
    "HEIGHT",
    "WIDTH",
    "LineReading",
    "PlateReader",
    "onnx_session",
    "plate_crop",
    "prepare",
]

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # class 0 is CTC's blank; class i + 1 is ALPHABET[i]
HEIGHT, WIDTH = 32, 128
MODEL_DIR = Path(__file__).parent / "models"
# How far around the detector's text box a read looks, as parts of its width and height.
MARGIN_X, MARGIN_Y = 0.08, 0.3


def plate_crop(
    image: np.ndarray,
    bbox: tuple[float, float, float, float],
    margins: tuple[float, float] = (MARGIN_X, MARGIN_Y),
) -> np.ndarray:
    """The region the reader reads for a text box ``(x, y, w, h)``: the box and a margin around it (parts of
    the box's width and height)."""
    x, y, w, h = bbox
    mx, my = margins
    x0 = max(int(round(x - mx * w)), 0)
    y0 = max(int(round(y - my * h)), 0)
    x1 = min(int(round(x + w + mx * w)), image.shape[1])
    y1 = min(int(round(y + h + my * h)), image.shape[0])
    return image[y0:y1, x0:x1]


def prepare(crop: np.ndarray) -> np.ndarray:
    """A crop (BGR or grey) as the reader's input: grey, HEIGHT × WIDTH, values in [-1, 1], shape (1, H,
    W)."""
    import cv2

    if crop.ndim == 3:
        crop = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY)
    resized = cv2.resize(crop, (WIDTH, HEIGHT), interpolation=cv2.INTER_AREA)
    out = resized.astype(np.float32)
    lo, hi = float(out.min()), float(out.max())
    out = (out - lo) / max(hi - lo, 1.0)  # stretch contrast: night and day plates alike
    return (out * 2.0 - 1.0)[None, :, :]


def onnx_session(path: Path, threads: int, what: str):  # noqa: ANN201 - an onnxruntime session
    """An onnxruntime session on the CPU for the model at ``path`` (``what`` it is, for the error when it is
    missing), with ``threads`` threads, and its input's name."""
    import onnxruntime as ort

    if not path.exists():
        raise FileNotFoundError(f"{what} model is missing: {path}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return session, session.get_inputs()[0].name


@dataclass(frozen=True)
class LineReading:
    """What the reader made of one region."""

    text: str
    confidence: float  # probability of the whole reading
    char_confidence: tuple[float, ...]
    alternatives: tuple[tuple[str, float], ...]  # other readings and their probabilities, best first


def _softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def decode(probs: np.ndarray, *, alternatives: int = 4) -> LineReading:
    """Greedy CTC decoding of one (T, classes) probability matrix, with the next readings found by swapping
    the least sure characters for their runner-up (cheap, and what an investigator wants to see: the
    look-alikes)."""
    best = probs.argmax(axis=1)
    text, confs, slots = [], [], []
    prev = 0
    for t, k in enumerate(best):
        if k != 0 and k != prev:
            text.append(ALPHABET[k - 1])
            confs.append(float(probs[t, k]))
            slots.append(t)
        elif k != 0 and k == prev:
            confs[-1] = max(confs[-1], float(probs[t, k]))
        prev = k
    plate = "".join(text)
    confidence = float(math.prod(confs)) if confs else float(probs[:, 0].min())
    alts: list[tuple[float, str]] = []
    for i, t in enumerate(slots):
        row = probs[t].copy()
        row[0] = 0.0
        row[best[t]] = 0.0
        k = int(row.argmax())
        if k == 0 or row[k] < 0.01:
            continue
        swapped = plate[:i] + ALPHABET[k - 1] + plate[i + 1 :]
        p = confidence / max(confs[i], 1e-6) * float(row[k])
        alts.append((p, swapped))
    top = heapq.nlargest(alternatives, alts)
    return LineReading(
        plate,
        round(confidence, 4),
        tuple(round(c, 4) for c in confs),
        tuple((text_, round(p, 4)) for p, text_ in top),
    )


class PlateReader:
    """The shipped plate reader (or another ONNX file of the same shape)."""

    def __init__(self, model: str | Path | None = None, *, threads: int = 2) -> None:
        path = Path(model) if model else MODEL_DIR / "plate_reader.onnx"
        self._session, self._input = onnx_session(path, threads, "the plate reader")
        self._lock = threading.Lock()

    def read(self, crops: list[np.ndarray], *, alternatives: int = 4) -> list[LineReading]:
        """Read regions (each a crop from :func:`plate_crop`), in one batch."""
        if not crops:
            return []
        batch = np.stack([prepare(c) for c in crops]).astype(np.float32)
        with self._lock:
            (logits,) = self._session.run(None, {self._input: batch})
        probs = _softmax(logits)  # (N, T, classes)
        return [decode(p, alternatives=alternatives) for p in probs]
