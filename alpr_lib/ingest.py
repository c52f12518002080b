"""The intake flow: reads from the synthetic city or a vendor CSV export into the store.

Any source -> validated rows -> bulk write through ``store`` (idempotent on each
read's ``source_id`` and time) -> hotlist match -> alerts awaiting verification.

Bad CSV rows are never silently dropped: each is reported with its line number and a
reason, and written to a rejects file beside the input; the good rows are imported.
Reads are written batch by batch, each batch in one transaction, so an import that is
killed can simply be run again: what was already written is skipped.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import math
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from .errors import InvalidInput
from .hotlists import add_entries, match_new_reads, max_read_id
from .plates import is_valid_plate, normalize
from .store import Store
from .store.writes import ensure_cameras, ensure_plates, insert_reads, mark_moving_cameras
from .synth import SyntheticCity

__all__ = [
    "CSV_COLUMNS",
    "ImportReport",
    "RejectedRow",
    "import_csv",
    "load_city",
    "resolve_columns",
]

Progress = Callable[[int], None]

#: The reads CSV's columns: the required ones first.
CSV_COLUMNS: tuple[str, ...] = (
    "plate",
    "ts",
    "lat",
    "lon",
    "source_id",
    "state",
    "camera",
    "confidence",
    "image",
)
REQUIRED_COLUMNS = ("plate", "ts", "lat", "lon")

# Header names vendors use for our columns (compared case-insensitively, ignoring spaces,
# underscores and punctuation). A header matching none needs --map.
_ALIASES: dict[str, tuple[str, ...]] = {
    "plate": ("plate", "licenseplate", "plateno", "platenumber", "platetext", "lpn", "tag", "read", "vrm"),
    "ts": (
        "ts",
        "timestamp",
        "datetime",
        "time",
        "readtime",
        "readdatetime",
        "capturetime",
        "dateread",
        "readat",
        "detectedat",
        "eventtime",
    ),
    "lat": ("lat", "latitude", "gpslat", "gpslatitude"),
    "lon": ("lon", "lng", "long", "longitude", "gpslon", "gpslng", "gpslongitude"),
    "source_id": ("sourceid", "readid", "id", "eventid", "detectionid", "recordid", "uuid"),
    "state": ("state", "platestate", "region", "jurisdiction", "platejurisdiction"),
    "camera": ("camera", "cameraname", "device", "devicename", "reader", "site", "location", "cameraid"),
    "confidence": ("confidence", "score", "platescore", "plateconfidence", "readconfidence"),
    "image": ("image", "imagepath", "imageurl", "image_path", "overviewimage", "photo"),
}
_NO_CAMERA = "imported (no camera named)"
_BATCH = 50_000


@dataclass(frozen=True)
class RejectedRow:
    """A CSV row that was not imported: its line number in the file and why."""

    line: int
    reason: str


@dataclass
class ImportReport:
    """What an import did. ``duplicates`` are good rows already in the store (or twice in the file)."""

    rows: int = 0
    imported: int = 0
    duplicates: int = 0
    rejected: list[RejectedRow] = field(default_factory=list)
    rejects_file: Path | None = None
    alerts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "duplicates": self.duplicates,
            "rejected": len(self.rejected),
            "rejected_rows": [{"line": r.line, "reason": r.reason} for r in self.rejected],
            "rejects_file": str(self.rejects_file) if self.rejects_file else None,
            "alerts": self.alerts,
        }


def _squash(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


def resolve_columns(header: list[str], column_map: Mapping[str, str] | None = None) -> dict[str, int]:
    """Which header position holds each of our columns.

    ``column_map`` maps our names to the file's (``{"plate": "License Plate"}``); other
    columns are recognised by common vendor names. Raises :class:`InvalidInput` when a
    required column cannot be found or a mapping names an unknown column.
    """
    column_map = dict(column_map or {})
    unknown = sorted(set(column_map) - set(CSV_COLUMNS))
    if unknown:
        raise InvalidInput(
            f"--map names unknown column(s) {', '.join(unknown)}; ours are {', '.join(CSV_COLUMNS)}"
        )
    squashed = [_squash(h) for h in header]
    found: dict[str, int] = {}
    for ours, theirs in column_map.items():
        if theirs not in header:
            raise InvalidInput(f"the file has no column named {theirs!r} (mapped to {ours})")
        found[ours] = header.index(theirs)
    for ours in CSV_COLUMNS:
        if ours in found:
            continue
        for alias in _ALIASES[ours]:
            if alias in squashed and squashed.index(alias) not in found.values():
                found[ours] = squashed.index(alias)
                break
    missing = [c for c in REQUIRED_COLUMNS if c not in found]
    if missing:
        raise InvalidInput(
            f"the file's header lacks {', '.join(missing)}; map vendor names with --map, "
            f'e.g. --map plate="License Plate" --map ts="Date/Time"'
        )
    return found


_US_FORMATS = ("%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p")


def parse_time(text: str, tz: dt.tzinfo) -> int:
    """Epoch milliseconds of an ISO 8601 (or US ``MM/DD/YYYY hh:mm[:ss]``) time.

    A time without an offset is local time in ``tz``. Raises ``ValueError`` when unreadable.
    """
    text = text.strip()
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        for fmt in _US_FORMATS:
            try:
                value = dt.datetime.strptime(text, fmt)
                break
            except ValueError:
                continue
        else:
            raise
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz)
    return round(value.timestamp() * 1000)


def _number(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("not finite")
    return value


class _RowChecker:
    """Turns one CSV row into a clean read, or the reason it cannot be one."""

    def __init__(self, columns: dict[str, int], width: int, tz: dt.tzinfo) -> None:
        self.columns, self.width, self.tz = columns, width, tz

    def __call__(self, row: list[str]) -> dict[str, Any] | str:
        if len(row) != self.width:
            return f"expected {self.width} fields, found {len(row)}"
        get = {name: row[i].strip() for name, i in self.columns.items()}
        raw = get["plate"]
        if not raw:
            return "missing plate"
        plate = normalize(raw)
        if not is_valid_plate(plate):
            return "not plate text (2-8 letters and digits expected)"
        if not get["ts"]:
            return "missing timestamp"
        try:
            ts = parse_time(get["ts"], self.tz)
        except ValueError:
            return "unreadable timestamp (use ISO 8601, e.g. 2026-11-03T14:00:05)"
        coords = []
        for name, bound in (("lat", 90.0), ("lon", 180.0)):
            if not get[name]:
                return f"missing {name}"
            try:
                value = _number(get[name])
            except ValueError:
                return f"{name} is not a number"
            if not -bound <= value <= bound:
                return f"{name} out of range (-{bound:g} to {bound:g})"
            coords.append(value)
        state = get.get("state", "").upper()
        if state and not (len(state) == 2 and state.isalpha()):
            return "state is not a two-letter code"
        confidence: float | None = None
        if get.get("confidence"):
            try:
                confidence = _number(get["confidence"])
            except ValueError:
                return "confidence is not a number"
            if 1 < confidence <= 100:  # vendors that report percent
                confidence /= 100
            if not 0 <= confidence <= 1:
                return "confidence out of range (0-1 or 0-100)"
        camera = get.get("camera") or _NO_CAMERA
        source_id = get.get("source_id") or _derived_source_id(plate, ts, camera)
        if len(source_id) > 128:
            return "source_id longer than 128 characters"
        return {
            "plate": plate,
            "state": state,
            "raw": raw[:32],
            "confidence": confidence,
            "ts": ts,
            "camera": camera,
            "lat": coords[0],
            "lon": coords[1],
            "image_path": get.get("image") or None,
            "crop_path": None,
            "source_id": source_id,
        }


def _derived_source_id(plate: str, ts: int, camera: str) -> str:
    # Without a vendor id, plate + time + camera make a read unique; hashed so ids carry no plate text.
    return "h:" + hashlib.sha256(f"{plate}|{ts}|{camera}".encode()).hexdigest()[:40]


def _write_batch(store: Store, rows: list[dict[str, Any]]) -> tuple[int, int]:
    """Write one batch in one transaction; return (reads added, alerts created)."""
    frame = pl.DataFrame(
        rows,
        schema={
            "plate": pl.String,
            "state": pl.String,
            "raw": pl.String,
            "confidence": pl.Float64,
            "char_confidence": pl.String,  # only from the workbench's own recognition
            "ts": pl.Int64,
            "camera": pl.String,
            "lat": pl.Float64,
            "lon": pl.Float64,
            "image_path": pl.String,
            "crop_path": pl.String,
            "source_id": pl.String,
        },
    )
    # A camera not yet known is created at the position of its first read.
    first = frame.unique("camera", keep="first", maintain_order=True)
    cameras = [
        {
            "name": r["camera"],
            "kind": "mobile" if r["camera"] == _NO_CAMERA else "fixed",
            "lat": None if r["camera"] == _NO_CAMERA else r["lat"],
            "lon": None if r["camera"] == _NO_CAMERA else r["lon"],
        }
        for r in first.iter_rows(named=True)
    ]
    with store.atomic() as conn:
        before = max_read_id(conn)
        camera_ids = ensure_cameras(conn, cameras)
        plate_ids = ensure_plates(conn, frame)
        reads = frame.join(plate_ids, on=["plate", "state"], how="left").with_columns(
            camera_id=pl.col("camera").replace_strict(camera_ids, return_dtype=pl.Int64)
        )
        added = insert_reads(conn, reads)
        mark_moving_cameras(conn, reads)
        alerts = match_new_reads(conn, before) if added else 0
    return added, alerts


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.reader(fh)
        for row in reader:
            yield reader.line_num, row


def import_csv(
    store: Store,
    path: Path,
    *,
    column_map: Mapping[str, str] | None = None,
    rejects_path: Path | None = None,
    timezone: str = "America/Los_Angeles",
    progress: Progress | None = None,
    batch_size: int = _BATCH,
) -> ImportReport:
    """Import a vendor-style reads CSV; see the module docstring.

    Bad rows go to ``rejects_path`` (default ``FILE.rejects.csv`` beside the input) with
    their line number and reason. Returns an :class:`ImportReport`.

    >>> report = import_csv(store, Path("reads.csv"))  # doctest: +SKIP
    >>> report.imported, len(report.rejected)  # doctest: +SKIP
    (998, 2)
    """
    try:
        tz = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {timezone!r}") from exc
    if not path.is_file():
        raise InvalidInput(f"{path} is not a readable file")
    rows = _rows(path)
    try:
        _, header = next(rows)
    except StopIteration:
        raise InvalidInput(f"{path} is empty; a header row naming the columns is expected") from None
    except (UnicodeDecodeError, csv.Error) as exc:
        raise InvalidInput(f"{path} is not a UTF-8 CSV file ({type(exc).__name__})") from exc
    check = _RowChecker(resolve_columns(header, column_map), len(header), tz)
    report = ImportReport()
    rejects_path = rejects_path or path.with_name(path.name + ".rejects.csv")
    rejects_path.unlink(missing_ok=True)
    rejects_fh = None
    rejects_writer: Any = None
    batch: list[dict[str, Any]] = []
    valid = 0

    def reject(line: int, row: list[str], reason: str) -> None:
        nonlocal rejects_fh, rejects_writer
        report.rejected.append(RejectedRow(line, reason))
        if rejects_writer is None:
            rejects_fh = rejects_path.open("w", newline="", encoding="utf-8")
            rejects_writer = csv.writer(rejects_fh)
            rejects_writer.writerow(["line", "reason", *header])
        rejects_writer.writerow([line, reason, *row])

    def flush() -> None:
        added, alerts = _write_batch(store, batch)
        report.imported += added
        report.alerts += alerts
        if progress:
            progress(len(batch))
        batch.clear()

    try:
        while True:
            try:
                line, row = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                reject(-1, [], f"malformed CSV ({exc})")
                break
            if not any(cell.strip() for cell in row):
                continue  # blank line
            report.rows += 1
            result = check(row)
            if isinstance(result, str):
                reject(line, row, result)
                continue
            valid += 1
            batch.append(result)
            if len(batch) >= batch_size:
                flush()
        if batch:
            flush()
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"{path} is not UTF-8 text ({exc.reason}); re-export it as UTF-8 CSV") from exc
    finally:
        if rejects_fh is not None:
            rejects_fh.close()
    report.duplicates = valid - report.imported
    report.rejects_file = rejects_path if report.rejected else None
    if report.imported and store.dialect == "postgresql":
        store.analyze()  # fresh planner statistics, or the next canvass may scan
    return report


def load_city(store: Store, city: SyntheticCity, progress: Progress | None = None) -> ImportReport:
    """Write a generated synthetic city into an empty store and mark the store synthetic."""
    reads = city.reads
    with store.bulk_load():
        with store.atomic() as conn:
            camera_ids = ensure_cameras(conn, city.cameras.to_dicts())
            plate_ids = ensure_plates(conn, reads.select("plate", "state"))
            store.set_meta(conn, "synthetic", "true")
            store.set_meta(conn, "manifest", json.dumps(city.manifest))
            store.set_meta(conn, "roads", json.dumps(city.roads))
            store.set_meta(conn, "created_at", dt.datetime.now(dt.UTC).isoformat())
        frame = reads.join(plate_ids, on=["plate", "state"], how="left").with_columns(
            camera_id=pl.col("camera").replace_strict(camera_ids, return_dtype=pl.Int64),
            image_path=pl.lit(None, pl.String),
            crop_path=pl.lit(None, pl.String),
        )
        report = ImportReport(rows=reads.height)
        for chunk in frame.iter_slices(200_000):
            with store.atomic() as conn:
                report.imported += insert_reads(conn, chunk)
            if progress:
                progress(chunk.height)
    with store.atomic() as conn:
        add_entries(conn, city.hotlist)
        report.alerts = match_new_reads(conn, 0)
    report.duplicates = report.rows - report.imported
    return report
