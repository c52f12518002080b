"""Video: frames sampled from a file, plates tracked across frames, one read per vehicle pass.

A pass is a run of sampled frames in which readings of (nearly) the same plate follow one another with
no gap longer than ``max_gap_s``: their texts vote (weighted by confidence), so do the states their plate's
lettering names where a frame shows it legibly, and the best frame's crop is kept as evidence.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from rapidfuzz.distance import Levenshtein

from ..errors import InvalidInput
from ..plates import equivalence_key
from .ocr import Engine
from .pipeline import PlateReading, read_plates

__all__ = ["Pass", "frames", "passes"]


@dataclass(frozen=True)
class Pass:
    """One vehicle pass: the voted plate, its confidence, when (seconds into the video), the frames seen,
    the best frame's reading and crop, and the state the frames' lettering named (empty when none did)."""

    plate: str
    confidence: float
    start_s: float
    end_s: float
    frames: int
    best: PlateReading
    crop: np.ndarray
    state: str = ""


def frames(path: Path, *, every_s: float = 0.2) -> Iterator[tuple[float, np.ndarray]]:
    """(seconds, BGR frame) sampled every ``every_s`` seconds of video."""
    import cv2

    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise InvalidInput(f"{Path(path).name} is not a video OpenCV can open")
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    step = max(1, round(fps * every_s))
    index = 0
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                break
            if index % step == 0:
                yield index / fps, frame
            index += 1
    finally:
        capture.release()


def _same_plate(a: str, b: str) -> bool:
    return Levenshtein.distance(equivalence_key(a), equivalence_key(b)) <= 2


def passes(
    path: Path,
    engine: Engine,
    *,
    every_s: float = 0.2,
    max_gap_s: float = 1.5,
    progress: Callable[[int], None] | None = None,
) -> list[Pass]:
    """The vehicle passes in a video, in order."""
    open_tracks: list[dict] = []
    done: list[dict] = []
    for t, frame in frames(path, every_s=every_s):
        if progress:
            progress(1)
        for track in [tr for tr in open_tracks if t - tr["last"] > max_gap_s]:
            open_tracks.remove(track)
            done.append(track)
        for reading in read_plates(frame, engine):
            track = next((tr for tr in open_tracks if _same_plate(tr["best"].plate, reading.plate)), None)
            if track is None:
                track = {
                    "first": t,
                    "last": t,
                    "votes": defaultdict(float),
                    "states": defaultdict(float),
                    "n": 0,
                    "best": reading,
                    "frame": frame,
                }
                open_tracks.append(track)
            track["last"] = t
            track["n"] += 1
            track["votes"][reading.plate] += reading.confidence
            if reading.state:
                track["states"][reading.state] += 1.0
            if reading.confidence > track["best"].confidence:
                track["best"], track["frame"] = reading, frame
    done.extend(open_tracks)
    out = []
    for track in sorted(done, key=lambda tr: tr["first"]):
        plate, weight = max(track["votes"].items(), key=lambda kv: kv[1])
        x, y, w, h = track["best"].bbox
        crop = track["frame"][max(y, 0) : y + h, max(x, 0) : x + w].copy()
        out.append(
            Pass(
                plate,
                round(weight / track["n"], 3),
                track["first"],
                track["last"],
                track["n"],
                track["best"],
                crop,
                max(track["states"].items(), key=lambda kv: kv[1])[0] if track["states"] else "",
            )
        )
    return out
