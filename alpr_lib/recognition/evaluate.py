"""Accuracy on a folder in the openalpr benchmark format.

Each ``NAME.jpg`` (or .png) has ``NAME.txt``: ``NAME.jpg<TAB>x<TAB>y<TAB>w<TAB>h<TAB>PLATE``. A plate
counts as detected when the predicted box overlaps the true box with IoU > 0.4; exact top-1, top-N (the
truth among the best reading and its alternatives) and top-1 with look-alike characters counted equal
are reported, with the median and 95th percentile milliseconds per image.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from ..plates import equivalence_key, normalize
from .ocr import Engine
from .pipeline import read_plates

__all__ = ["Evaluation", "evaluate_crops", "evaluate_folder", "iou", "labelled_images"]


def iou(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0.0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0.0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


@dataclass
class Evaluation:
    images: int
    detected: float
    top1: float
    topn: float
    top1_loose: float
    ms_median: float
    ms_p95: float
    engine: str
    misses: list[dict[str, Any]]

    def as_dict(self) -> dict[str, Any]:
        return {
            "images": self.images,
            "detected": round(self.detected, 4),
            "top1": round(self.top1, 4),
            "topn": round(self.topn, 4),
            "top1_loose": round(self.top1_loose, 4),
            "ms_median": round(self.ms_median, 1),
            "ms_p95": round(self.ms_p95, 1),
            "engine": self.engine,
        }


def labelled_images(
    folder: Path, fold: int | None = None, folds: int = 2
) -> list[tuple[Path, tuple[float, float, float, float], str]]:
    """The images of an openalpr-format folder with their true plate box and plate, in file-name order.
    ``fold`` (0 to ``folds`` - 1): only every ``folds``-th image, starting with image number ``fold`` — how
    the training scripts' ``--leave-out K --folds N`` split photos (two folds, halves, by default)."""
    out = []
    for txt in sorted(folder.glob("*.txt")):
        parts = txt.read_text().strip().split("\t")
        if len(parts) < 6:
            parts = txt.read_text().split()
        if len(parts) < 6:
            continue
        image = folder / parts[0]
        if image.exists():
            out.append(
                (
                    image,
                    (float(parts[1]), float(parts[2]), float(parts[3]), float(parts[4])),
                    normalize(parts[5]),
                )
            )
    return out if fold is None else out[fold::folds]


def evaluate_folder(
    folder: Path,
    engine: Engine,
    *,
    limit: int | None = None,
    fold: int | None = None,
    folds: int = 2,
    progress: Callable[[int], None] | None = None,
) -> Evaluation:
    """Run the pipeline over every labelled image of an openalpr-format folder. ``fold`` (0 to ``folds`` - 1):
    only every ``folds``-th image in file-name order, starting with image number ``fold`` — the fold a plate
    reader or detector trained with ``--leave-out K --folds N`` did not see."""
    import cv2

    truths = labelled_images(Path(folder), fold, folds)[:limit]
    if not truths:
        raise InvalidInput(f"no labelled images in {folder} (expected NAME.jpg with NAME.txt beside it)")
    detected = top1 = topn = loose = 0
    times: list[float] = []
    misses = []
    for image_path, box, plate in truths:
        image = cv2.imread(str(image_path))
        t0 = time.perf_counter()
        readings = read_plates(image, engine) if image is not None else []
        times.append((time.perf_counter() - t0) * 1000)
        best = readings[0] if readings else None
        if best and iou(best.bbox, box) > 0.4:
            detected += 1
        if best and best.plate == plate:
            top1 += 1
        if best and (best.plate == plate or plate in {t for t, _s in best.alternatives}):
            topn += 1
        if best and equivalence_key(best.plate) == equivalence_key(plate):
            loose += 1
        if not best or best.plate != plate:
            misses.append({"image": image_path.name, "read": best.plate if best else None})
        if progress:
            progress(1)
    n = len(truths)
    ordered = sorted(times)
    return Evaluation(
        n, detected / n, top1 / n, topn / n, loose / n, statistics.median(times),
        ordered[min(n - 1, round(0.95 * (n - 1)))], engine.name, misses,
    )  # fmt: skip


def evaluate_crops(
    folder: Path,
    truths_csv: Path,
    engine: Engine,
    *,
    limit: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """OCR only, on tight plate crops with a CSV of truths (``file,state,PLATE``): exact and look-alike
    accuracy of the recognizer; how often the pipeline reads a state from the plate's lettering (its name, a
    slogan) and how often that state is the truth; and how often the state guessed from the true plate's
    format is."""
    import csv

    import cv2

    from ..plates import guess_states
    from .pipeline import clean

    with Path(truths_csv).open(newline="") as fh:
        rows = [r for r in csv.reader(fh) if len(r) >= 3 and not r[0].startswith("#")][:limit]
    reader = getattr(engine, "reader", None)
    exact = loose = state_first = state_any = guessed = named = named_right = n = 0
    times: list[float] = []
    for name, state, plate in rows:
        image = cv2.imread(str(Path(folder) / name))
        if image is None:
            continue
        n += 1
        t0 = time.perf_counter()
        if reader is not None:  # the plate reader reads a whole plate as it is
            text = reader.read([image])[0].text
        else:
            text, _score = engine.read_line(image)
        times.append((time.perf_counter() - t0) * 1000)
        read, truth = clean(text), normalize(plate)
        exact += read == truth
        loose += equivalence_key(read) == equivalence_key(truth)
        found = read_plates(image, engine)
        if found and found[0].state:
            named += 1
            named_right += found[0].state == state.upper()
        states = guess_states(truth)
        if states:
            guessed += 1
            state_first += states[0] == state.upper()
            state_any += state.upper() in states
        if progress:
            progress(1)
    if not n:
        raise InvalidInput(f"no crops from {truths_csv} were found in {folder}")
    return {
        "crops": n,
        "top1": round(exact / n, 4),
        "top1_loose": round(loose / n, 4),
        "ms_median": round(statistics.median(times), 1),
        "state_read": round(named / n, 4),
        "state_read_right": round(named_right / named, 4) if named else None,
        "state_guessed": round(guessed / n, 4),
        "state_first_right": round(state_first / guessed, 4) if guessed else None,
        "state_among_guesses": round(state_any / guessed, 4) if guessed else None,
        "engine": engine.name,
    }
