"""The intake flow for camera images and video: recognition -> reads -> the same idempotent bulk write
and hotlist matching as a CSV import.

Each file becomes reads whose ``source_id`` is the hash of the file's content (with the plate's number in
it, or the pass's), so ingesting the same folder twice (at the same times) adds nothing. Files that are
empty, corrupt, larger than the size limit (checked from the header, before decoding) or not images are
skipped and reported (file name and reason), never stopping the batch. Each image is copied into the
workbench's image store (:mod:`alpr_lib.media`) and a crop of every plate saved there, for evidence and for
the alert verifier: the purge destroys those copies, never the folder the images came from.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import validate
from .errors import InvalidInput
from .ingest import _write_batch
from .media import ImageStore
from .plates import char_percentages, is_valid_plate
from .recognition.ocr import Engine
from .recognition.pipeline import read_plates
from .recognition.video import passes
from .store import Store
from .store import queries as q

__all__ = ["IntakeReport", "ingest_images", "ingest_video"]

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp"}
_NAME_TIME = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})[T_ -]?(\d{2})[:.-]?(\d{2})[:.-]?(\d{2})")


@dataclass
class IntakeReport:
    """What an image or video ingest did: files read, reads made and added, files skipped and why."""

    files: int = 0
    plates: int = 0
    imported: int = 0
    alerts: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files,
            "plates": self.plates,
            "imported": self.imported,
            "alerts": self.alerts,
            "skipped": [{"file": f, "reason": r} for f, r in self.skipped],
        }


def _camera_place(store: Store, camera: str, at: tuple[float, float] | None) -> tuple[float, float]:
    validate.name(camera, "the camera's name", longest=120)
    if at is not None:
        return validate.latitude(at[0]), validate.longitude(at[1])
    with store.read() as conn:
        cams = q.cameras(conn)
    found = cams.filter(cams["camera"] == camera)
    if found.height == 0 or found["lat"][0] is None:
        raise InvalidInput(f"camera {camera!r} is not known: give its place with --at LAT,LON")
    return float(found["lat"][0]), float(found["lon"][0])


def _exif_time(path: Path, tz: dt.tzinfo) -> dt.datetime | None:
    try:
        from PIL import Image

        with Image.open(path) as img:
            raw = img.getexif().get_ifd(0x8769).get(36867) or img.getexif().get(306)
    except Exception:  # no EXIF, or not readable by Pillow: fall back to the name or a start time
        return None
    if not raw:
        return None
    try:
        return dt.datetime.strptime(str(raw), "%Y:%m:%d %H:%M:%S").replace(tzinfo=tz)
    except ValueError:
        return None


def _name_time(path: Path, tz: dt.tzinfo) -> dt.datetime | None:
    match = _NAME_TIME.search(path.stem)
    if not match:
        return None
    try:
        return dt.datetime(*(int(g) for g in match.groups()), tzinfo=tz)  # type: ignore[misc]
    except ValueError:
        return None


def _save_crop(images: ImageStore, key: str, crop: Any) -> str | None:
    import cv2

    if crop is None or getattr(crop, "size", 0) == 0:
        return None
    ok, data = cv2.imencode(".jpg", crop)
    return images.keep("crops", f"{key}.jpg", data.tobytes()) if ok else None


def _others(readings: Any, plate: str) -> list[dict[str, Any]]:
    """The plate reader's other readings of a plate, best first, as a read keeps them."""
    seen = {plate}
    out = []
    for text, confidence in readings:
        if is_valid_plate(text) and text not in seen:
            seen.add(text)
            out.append({"plate": text, "confidence": float(confidence)})
    return out[:5]


def _when(when: dt.datetime | None) -> int | None:
    """A read's time in epoch ms, or None when it lies outside 1990 to tomorrow."""
    try:
        return validate.read_time(when) if when is not None else None
    except InvalidInput:
        return None


def ingest_images(
    store: Store,
    folder: Path,
    *,
    camera: str,
    engine: Engine,
    images: ImageStore,
    at: tuple[float, float] | None = None,
    start: dt.datetime | None = None,
    every_s: float = 1.0,
    timezone: str = "America/Los_Angeles",
    progress: Callable[[int], None] | None = None,
) -> IntakeReport:
    """Read the plates in every image of ``folder`` (as taken by ``camera``) and store them as reads.

    A read's time comes from the image's EXIF, else a date and time in its file name, else ``start``
    plus ``every_s`` seconds per file in name order; a file with none of these is skipped.
    """
    import cv2

    tz = zoneinfo.ZoneInfo(timezone)
    if validate.finite(every_s, "--every") < 0:
        raise InvalidInput("--every must not be negative")
    lat, lon = _camera_place(store, camera, at)
    files = sorted(p for p in Path(folder).iterdir() if p.is_file())
    if not files:
        raise InvalidInput(f"there are no files in {folder}")
    report = IntakeReport()
    rows: list[dict[str, Any]] = []
    for i, path in enumerate(files):
        if progress:
            progress(1)
        report.files += 1
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            report.skipped.append((path.name, "not an image file"))
            continue
        try:
            validate.check_image_size(path)
        except InvalidInput as exc:
            report.skipped.append((path.name, f"image too large ({exc})"))
            continue
        content = path.read_bytes()
        if not content:
            report.skipped.append((path.name, "empty file"))
            continue
        image = cv2.imdecode(np.frombuffer(content, dtype=np.uint8), cv2.IMREAD_COLOR)
        if image is None:
            report.skipped.append((path.name, "corrupt or unreadable image"))
            continue
        when = _exif_time(path, tz) or _name_time(path, tz)
        if when is None and start is None:
            report.skipped.append((path.name, "no time in its EXIF or name: give --start"))
            continue
        try:
            ts = _when(when or start + dt.timedelta(seconds=every_s * i))  # type: ignore[operator]
        except OverflowError:
            ts = None
        if ts is None:
            report.skipped.append((path.name, "its time lies outside 1990 to tomorrow"))
            continue
        digest = hashlib.sha256(content).hexdigest()[:32]
        kept: str | None = None
        for n, reading in enumerate(read_plates(image, engine)):
            kept = kept or images.keep("intake", f"{digest}{path.suffix.lower()}", content)
            x, y, w, h = reading.bbox
            crop = image[max(y, 0) : y + h, max(x, 0) : x + w]
            key = f"{digest}-{n}"
            rows.append(
                {
                    "plate": reading.plate,
                    "state": reading.state,
                    "raw": reading.plate,
                    "confidence": reading.confidence,
                    "char_confidence": char_percentages(reading.char_confidence),
                    "ts": ts,
                    "camera": camera,
                    "lat": lat,
                    "lon": lon,
                    "image_path": kept,
                    "crop_path": _save_crop(images, key, crop),
                    "source_id": f"img:{key}",
                    "alternatives": _others(reading.alternatives, reading.plate),
                }
            )
            report.plates += 1
    if rows:
        report.imported, report.alerts = _write_batch(store, rows)
    return report


def ingest_video(
    store: Store,
    path: Path,
    *,
    camera: str,
    engine: Engine,
    images: ImageStore,
    start: dt.datetime,
    at: tuple[float, float] | None = None,
    every_s: float = 0.2,
    progress: Callable[[int], None] | None = None,
) -> IntakeReport:
    """One read per vehicle pass in a video (see :mod:`alpr_lib.recognition.video`), timed from ``start``.
    The video stays where it is (it can be large): its reads keep their plate crops in the image store."""
    validate.read_time(start)
    if validate.finite(every_s, "--every") <= 0:
        raise InvalidInput("--every must be more than 0 seconds")
    lat, lon = _camera_place(store, camera, at)
    path = Path(path)
    if not path.is_file() or path.stat().st_size == 0:
        raise InvalidInput(f"{path.name} is not a video file (missing or empty)")
    hasher = hashlib.sha256()
    with path.open("rb") as fh:  # a video can be large: hashed in blocks, never read whole
        for block in iter(lambda: fh.read(1 << 20), b""):
            hasher.update(block)
    digest = hasher.hexdigest()[:32]
    report = IntakeReport(files=1)
    rows = []
    for n, found in enumerate(passes(path, engine, every_s=every_s, progress=progress)):
        key = f"{digest}-{n}"
        rows.append(
            {
                "plate": found.plate,
                "state": found.state,
                "raw": found.plate,
                "confidence": found.confidence,
                "char_confidence": char_percentages(found.best.char_confidence)
                if found.best.plate == found.plate
                else None,
                "ts": validate.read_time(start + dt.timedelta(seconds=found.start_s)),
                "camera": camera,
                "lat": lat,
                "lon": lon,
                "image_path": None,
                "crop_path": _save_crop(images, key, found.crop),
                "source_id": f"video:{key}",
                "alternatives": _others(
                    ((found.best.plate, found.best.confidence), *found.best.alternatives), found.plate
                ),
            }
        )
    report.plates = len(rows)
    if rows:
        report.imported, report.alerts = _write_batch(store, rows)
    return report
