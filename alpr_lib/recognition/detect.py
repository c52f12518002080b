"""The plate detector: a small fully convolutional network trained here on the labelled photos' plate boxes,
shipped as ONNX inside the package (``models/plate_detector.onnx``) and run with onnxruntime.

It looks at the whole image at :data:`SIDE` pixels on its longer side (a smaller image at its own size;
enlarging it found no more plates and took longer) and marks, for every 4 × 4 pixel cell, how likely the
cell lies on a plate; connected cells above :data:`THRESHOLD` are one plate. It finds whole plates, where the
general text detector finds lines of text (a plate's characters, but also a truck's number, a shop's phone
number, a state name on its own). It does not read: the pipeline's focused look has the text detector look
again at each plate it finds, enlarged, and the plate reader read the text lines found there.

The training script is ``alpr_lib/recognition/train_detector.py``
(``python -m alpr_lib.recognition.train_detector``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["SIDE", "STRIDE", "PlateDetector", "PlateRegion", "prepare_image", "regions_from_heat", "to_input"]

MODEL_DIR = Path(__file__).parent / "models"
SIDE = 640  # the longer side the detector looks at, in pixels
STRIDE = 4  # one output cell per STRIDE x STRIDE pixels
MULTIPLE = 16  # the network's input sides must be multiples of this
THRESHOLD = 0.5
MIN_CELLS = 3  # smaller blobs are noise


@dataclass(frozen=True)
class PlateRegion:
    bbox: tuple[float, float, float, float]  # x, y, w, h in the image's pixels
    score: float  # the highest cell's probability


def prepare_image(image: np.ndarray, side: int = SIDE) -> tuple[np.ndarray, float]:
    """A BGR image as the detector's input: resized so its longer side is ``side``, padded to a multiple
    of :data:`MULTIPLE`, values in [-1, 1], shape (3, H, W); and the scale used."""
    import cv2

    scale = side / max(image.shape[:2])
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)
    h, w = resized.shape[:2]
    ph, pw = -h % MULTIPLE, -w % MULTIPLE
    if ph or pw:
        resized = cv2.copyMakeBorder(resized, 0, ph, 0, pw, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    return to_input(resized), scale


def to_input(image: np.ndarray) -> np.ndarray:
    """BGR pixels as the network takes them: values in [-1, 1], channels first (3, H, W)."""
    return (image.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)


def regions_from_heat(heat: np.ndarray, scale: float, *, threshold: float = THRESHOLD) -> list[PlateRegion]:
    """The plates marked in a heat map (cells of :data:`STRIDE` pixels of an image resized by ``scale``),
    surest first."""
    import cv2

    mask = (heat >= threshold).astype(np.uint8)
    count, labels, stats, _centres = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for k in range(1, count):
        x, y, w, h, cells = stats[k]
        if cells < MIN_CELLS:
            continue
        factor = STRIDE / scale
        score = float(heat[labels == k].max())
        box = (float(x * factor), float(y * factor), float(w * factor), float(h * factor))
        out.append(PlateRegion(box, round(score, 4)))
    return sorted(out, key=lambda r: -r.score)


class PlateDetector:
    """The shipped plate detector (or another ONNX file of the same shape)."""

    def __init__(self, model: str | Path | None = None, *, threads: int = 2) -> None:
        from .reader import onnx_session

        path = Path(model) if model else MODEL_DIR / "plate_detector.onnx"
        self._session, self._input = onnx_session(path, threads, "the plate detector")
        self._lock = threading.Lock()

    def heat(self, image: np.ndarray) -> tuple[np.ndarray, float]:
        """The probability map of a BGR image (one cell per :data:`STRIDE` pixels) and the scale used."""
        x, scale = prepare_image(image, min(SIDE, max(image.shape[:2])))  # a small image as it is
        with self._lock:
            (logits,) = self._session.run(None, {self._input: x[None]})
        return 1.0 / (1.0 + np.exp(-logits[0, 0])), scale

    def find(self, image: np.ndarray, *, limit: int = 4) -> list[PlateRegion]:
        """The plates in a BGR image, surest first."""
        heat, scale = self.heat(image)
        return regions_from_heat(heat, scale)[:limit]
