"""The intake flow: reads from the synthetic city or a vendor CSV export into the store.

Any source -> validated rows -> bulk write through ``store`` (idempotent on each
read's ``source_id`` and time) -> hotlist match -> alerts awaiting verification.

Bad CSV rows are never silently dropped: each is reported with its line number and a
reason, and written to a new rejects file beside the input (never over an existing file);
the good rows are imported. Every line ends up imported, a duplicate or rejected — a line
that is not UTF-8, a field too long, a time outside 1990 to tomorrow included. Reads are
written batch by batch, each batch in one transaction, so an import that is killed can
simply be run again: what was already written is skipped. An import that fails part-way
(a full disk, a lost database) says how many rows it committed, up to which line.

An ``image`` column names files inside the workbench's image store (:mod:`alpr_lib.media`),
relative to it; a row naming any other file is rejected, and that file is never opened.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import zoneinfo
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from . import validate, vendors
from .errors import AlprError, InvalidInput
from .hotlists import add_entries, match_new_reads, max_read_id
from .media import ImageStore
from .plates import is_valid_plate, normalize
from .store import Store
from .store import schema as s
from .store.writes import (
    ALTERNATIVES_TYPE,
    ensure_cameras,
    ensure_plates,
    ensure_vehicles,
    insert_alternatives,
    insert_reads,
    mark_moving_cameras,
    note_daily_reads,
    note_first_reads,
)
from .synth import SyntheticCity
from .vehicles import BODIES, COLORS, DIRECTIONS, body_type, color_name, direction_name

__all__ = [
    "CSV_COLUMNS",
    "ImportReport",
    "RejectedRow",
    "import_csv",
    "import_reads",
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
    "make",
    "model",
    "color",
    "body",
    "direction",
    "alternatives",
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
    "make": ("make", "vehiclemake"),
    "model": ("model", "vehiclemodel"),
    "color": ("color", "colour", "vehiclecolor", "vehiclecolour"),
    "body": ("body", "bodytype", "vehicletype", "vehiclebody", "type"),
    "direction": ("direction", "traveldirection", "directionoftravel", "heading"),
    "alternatives": ("alternatives", "candidates", "platecandidates", "alternativereadings"),
}
_NO_CAMERA = "imported (no camera named)"
#: Rows written per transaction: small enough that a search waiting for the write lock (SQLite has one)
#: waits a fraction of a second, large enough that the import stays fast.
_BATCH = 25_000
#: The longest field a row may have (a vendor's free-text note, a URL): longer ones reject the row.
MAX_FIELD = 131_072


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
    #: The last line of the file whose batch is committed (0: none yet).
    committed_line: int = 0

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
    return validate.read_time(value)


def _number(text: str) -> float:
    try:
        return validate.finite(text, "value")
    except InvalidInput:
        raise ValueError("not a finite number") from None


class _RowChecker:
    """Turns one record — a CSV row, or a vendor export's fields — into a clean read, or the reason it
    cannot be one."""

    def __init__(
        self,
        columns: dict[str, int],
        width: int,
        tz: dt.tzinfo,
        images: ImageStore,
        source: Path | None,
        places: Mapping[str, tuple[float, float]] | None = None,
        at: tuple[float, float] | None = None,
    ) -> None:
        self.columns, self.width, self.tz, self.images, self.source = columns, width, tz, images, source
        self.places, self.at = dict(places or {}), at

    def __call__(self, row: list[str]) -> dict[str, Any] | str:
        if len(row) != self.width:
            return f"expected {self.width} fields, found {len(row)}"
        if any("\udc80" <= ch <= "\udcff" for cell in row for ch in cell):
            return "not UTF-8 text (re-export the file as UTF-8)"
        if any(len(cell) > MAX_FIELD for cell in row):
            return f"a field longer than {MAX_FIELD:,} characters"
        get = {name: row[i].strip() for name, i in self.columns.items()}
        if get.get("alternatives"):
            parsed = _alternatives_text(get["alternatives"])
            if isinstance(parsed, str):
                return parsed
            get["alternatives"] = parsed
        if get.get("color"):
            get["color"] = color_name(get["color"]) or f"?{get['color']}"
        if get.get("body"):
            get["body"] = body_type(get["body"]) or f"?{get['body']}"
        if get.get("direction"):
            get["direction"] = direction_name(get["direction"]) or f"?{get['direction']}"
        return self.clean(get)

    def clean(self, get: Mapping[str, Any]) -> dict[str, Any] | str:
        """A read from its fields (text as a CSV gives them; ``alternatives`` a list; images as bytes)."""
        raw = str(get.get("plate") or "").strip()
        if not raw:
            return "missing plate"
        plate = normalize(raw)
        if not is_valid_plate(plate):
            return "not plate text (2-8 letters and digits expected)"
        if not get.get("ts"):
            return "missing timestamp"
        try:
            ts = parse_time(get["ts"], self.tz)
        except ValueError:
            return "unreadable timestamp (use ISO 8601, e.g. 2026-11-03T14:00:05)"
        except InvalidInput:
            return "timestamp out of range (1990 to tomorrow)"
        camera = str(get.get("camera") or "").strip() or _NO_CAMERA
        if len(camera) > 120 or any(ord(ch) < 32 for ch in camera):
            return "camera name longer than 120 characters or holding control characters"
        coords = []
        if not get.get("lat") and not get.get("lon") and (camera in self.places or self.at is not None):
            coords = list(self.places.get(camera) or self.at or ())  # a fixed camera's known place
        for name, bound in (("lat", 90.0), ("lon", 180.0)) if not coords else ():
            if not get.get(name):
                return f"missing {name} (a camera not yet known needs a position: give --at LAT,LON)"
            try:
                value = _number(get[name])
            except ValueError:
                return f"{name} is not a number"
            if not -bound <= value <= bound:
                return f"{name} out of range (-{bound:g} to {bound:g})"
            coords.append(value)
        state = str(get.get("state") or "").upper()
        if state and not (len(state) == 2 and state.isalpha()):
            return "state is not a two-letter code"
        confidence: float | None = None
        if get.get("confidence"):
            try:
                confidence = _share(get["confidence"])
            except ValueError as exc:
                return f"confidence {exc}"
        source_id = str(get.get("source_id") or "") or _derived_source_id(plate, ts, camera)
        if len(source_id) > 128:
            return "source_id longer than 128 characters"
        image = None
        if get.get("image"):
            try:
                if self.source is not None:
                    image = self.images.bring_in(self.source, get["image"])
                else:
                    image = self.images.from_import(get["image"])
            except InvalidInput as exc:
                if self.source is not None:
                    return str(exc)
                return "image not in the workbench's image store (copy it there, name it relative to it)"
            if len(image) > 500:
                return "image path longer than 500 characters"
        described = _description(get)
        if isinstance(described, str):
            return described
        alternatives = _clean_alternatives(get.get("alternatives") or [], plate)
        if isinstance(alternatives, str):
            return alternatives
        crop = None
        if self.images.root is not None:
            key = hashlib.sha256(f"{source_id}|{ts}".encode()).hexdigest()[:32]
            if get.get("context_image") and image is None:
                image = self.images.keep("imports", f"{key}.jpg", get["context_image"])
            if get.get("plate_image"):
                crop = self.images.keep("crops", f"{key}.jpg", get["plate_image"])
        return {
            "plate": plate,
            "state": state,
            "raw": raw[:32],
            "confidence": confidence,
            "ts": ts,
            "camera": camera,
            "lat": coords[0],
            "lon": coords[1],
            "image_path": image,
            "crop_path": crop,
            "source_id": source_id,
            **described,
            "alternatives": alternatives,
        }


def _share(value: Any) -> float:
    """A confidence as a share 0-1: vendors report 0-1 or percent. ``ValueError`` says what is wrong."""
    try:
        share = _number(str(value))
    except ValueError:
        raise ValueError("is not a number") from None
    if 1 < share <= 100:  # vendors that report percent
        share /= 100
    if not 0 <= share <= 1:
        raise ValueError("out of range (0-1 or 0-100)")
    return share


def _description(get: Mapping[str, Any]) -> dict[str, Any] | str:
    """The vehicle's make, model, colour, body type and direction — the reason when one is unreadable."""
    out: dict[str, Any] = {}
    for name, limit in (("make", 40), ("model", 40)):
        text = str(get.get(name) or "").strip()
        if len(text) > limit or any(ord(ch) < 32 for ch in text):
            return f"{name} longer than {limit} characters or holding control characters"
        out[name] = text
    for name, known in (("color", COLORS), ("body", BODIES), ("direction", DIRECTIONS)):
        text = str(get.get(name) or "")
        if text.startswith("?"):
            return f"{name} is none of {', '.join(known)}"
        out[name] = text or None if name == "direction" else text
    return out


def _alternatives_text(text: str) -> list[dict[str, Any]] | str:
    """A CSV's alternatives column: readings separated by spaces or semicolons, each ``PLATE`` or
    ``PLATE:CONFIDENCE`` (``7KX128:0.64; 7KX12B:40``)."""
    out = []
    for part in text.replace(";", " ").replace(",", " ").split():
        plate, _, score = part.partition(":")
        out.append({"plate": plate, "confidence": score or None})
    return out


def _clean_alternatives(items: list[dict[str, Any]], plate: str) -> list[dict[str, Any]] | str:
    out: list[dict[str, Any]] = []
    for item in items[:9]:
        text = normalize(str(item.get("plate") or ""))
        if not is_valid_plate(text):
            return "an alternative reading that is not plate text"
        try:
            confidence = None if item.get("confidence") in (None, "") else _share(item["confidence"])
        except ValueError as exc:
            return f"an alternative's confidence {exc}"
        if text != plate and text not in {o["plate"] for o in out}:
            out.append({"plate": text, "confidence": confidence})
    return out


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
            "make": pl.String,
            "model": pl.String,
            "color": pl.String,
            "body": pl.String,
            "direction": pl.String,
            "alternatives": ALTERNATIVES_TYPE,
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
        reads = ensure_vehicles(conn, reads)
        added = insert_reads(conn, reads)
        insert_alternatives(conn, reads)
        mark_moving_cameras(conn, reads)
        note_first_reads(conn, reads)
        note_daily_reads(conn, before)
        alerts = match_new_reads(conn, before) if added else 0
    return added, alerts


def _rows(path: Path) -> Iterator[tuple[int, list[str] | str]]:
    """Each record's last line number and its fields — or, for a record the CSV reader cannot take (a
    field past its limit), the reason. Bytes that are not UTF-8 come through as lone surrogates, so the
    row that holds them is rejected and the rest of the file still read."""
    csv.field_size_limit(max(csv.field_size_limit(), 4 * MAX_FIELD))
    with path.open(newline="", encoding="utf-8-sig", errors="surrogateescape") as fh:
        reader = csv.reader(fh)
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                too_long = "field larger than field limit" in str(exc)
                reason = f"a field longer than {MAX_FIELD:,} characters" if too_long else "malformed CSV"
                yield reader.line_num, reason
                continue
            yield reader.line_num, row


def _open_rejects(path: Path, source: Path, chosen: bool) -> tuple[Path, Any]:
    """A new rejects file, mode 0600: never an existing file (nor the input). Given by the member
    (``chosen``), an existing name is refused; by default the next free ``FILE.rejects[-N].csv``."""
    for n in range(1, 1000):
        candidate = path if chosen or n == 1 else path.with_name(f"{source.name}.rejects-{n}.csv")
        try:
            if candidate.resolve() == source.resolve():
                raise InvalidInput("--rejects names the input file; give a new file name")
            fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
        except FileExistsError:
            if chosen:
                raise InvalidInput(f"{candidate} already exists; give --rejects a new file name") from None
            continue
        except OSError as exc:
            raise InvalidInput(f"cannot create the rejects file {candidate}: {exc.strerror}") from None
        return candidate, open(fd, "w", newline="", encoding="utf-8", errors="surrogateescape")  # noqa: SIM115
    raise InvalidInput(f"too many rejects files beside {source}; move them away or give --rejects")


def import_reads(
    store: Store,
    path: Path,
    *,
    format: str | None = None,
    column_map: Mapping[str, str] | None = None,
    at: tuple[float, float] | None = None,
    **options: Any,
) -> ImportReport:
    """Import reads from a CSV or a camera system's own export (:mod:`alpr_lib.vendors`): ``format`` is
    ``csv``, ``autovu``, ``alprd`` or ``platerecognizer``, recognised from the file when not given.

    ``column_map`` maps our names to a CSV's columns or an AutoVu template's tags. A record without a
    position takes its camera's known place, or ``at``. The other options are :func:`import_csv`'s; every
    format has its progress, idempotence, hotlist matching and per-record report.
    """
    if not Path(path).is_file():
        raise InvalidInput(f"{path} is not a readable file")
    fmt = (format or vendors.sniff(Path(path))).strip().lower()
    if fmt not in vendors.FORMATS:
        raise InvalidInput(f"unknown format {fmt!r}; one of {', '.join(vendors.FORMATS)}")
    if fmt == "csv":
        return import_csv(store, path, column_map=column_map, at=at, **options)
    records = vendors.read_records(fmt, Path(path), column_map)

    def rows() -> Iterator[tuple[int, Any]]:
        for number, fields, text in records:
            yield number, (fields, text)

    return _import(store, Path(path), rows(), None, at=at, **options)


def import_csv(
    store: Store,
    path: Path,
    *,
    column_map: Mapping[str, str] | None = None,
    **options: Any,
) -> ImportReport:
    """Import a vendor-style reads CSV; see the module docstring.

    Bad rows go to ``rejects_path`` (default ``FILE.rejects.csv`` beside the input, or the next free
    ``FILE.rejects-N.csv``) with their line number and reason; an existing file is never overwritten.
    ``images``: the image store the ``image`` column's paths must lie in — or, with ``image_folder`` (the
    export's own image folder), the folder they are relative to, each copied into the store. Returns an
    :class:`ImportReport`.

    >>> report = import_csv(store, Path("reads.csv"))  # doctest: +SKIP
    >>> report.imported, len(report.rejected)  # doctest: +SKIP
    (998, 2)
    """
    if not path.is_file():
        raise InvalidInput(f"{path} is not a readable file")
    rows = _rows(path)
    try:
        _, header = next(rows)
    except StopIteration:
        raise InvalidInput(f"{path} is empty; a header row naming the columns is expected") from None
    if isinstance(header, str):
        raise InvalidInput(f"{path}'s header row cannot be read ({header})")
    if any("\udc80" <= ch <= "\udcff" for cell in header for ch in cell):
        raise InvalidInput(f"{path}'s header row is not UTF-8 CSV; re-export the file as UTF-8 CSV")
    return _import(store, path, rows, header, columns=resolve_columns(header, column_map), **options)


def _import(
    store: Store,
    path: Path,
    rows: Iterator[tuple[int, Any]],
    header: list[str] | None,
    *,
    columns: dict[str, int] | None = None,
    rejects_path: Path | None = None,
    timezone: str = "America/Los_Angeles",
    images: ImageStore | None = None,
    image_folder: Path | None = None,
    at: tuple[float, float] | None = None,
    progress: Progress | None = None,
    batch_size: int = _BATCH,
) -> ImportReport:
    """The import loop of every format: ``rows`` gives each record's line and its CSV cells (``header`` set)
    or its vendor fields and text (``header`` None) — or the reason it cannot be read."""
    try:
        tz = zoneinfo.ZoneInfo(timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {timezone!r}") from exc
    chosen = rejects_path is not None
    rejects_path = rejects_path or path.with_name(path.name + ".rejects.csv")
    if chosen and (os.path.lexists(rejects_path) or rejects_path.resolve() == path.resolve()):
        raise InvalidInput(f"{rejects_path} already exists; give --rejects a new file name")
    if image_folder is not None and not Path(image_folder).is_dir():
        raise InvalidInput(f"{image_folder} is not a folder of images")
    if at is not None:
        at = (validate.latitude(at[0]), validate.longitude(at[1]))
    with store.read() as conn:
        places = {
            name: (lat, lon)
            for name, kind, lat, lon in conn.execute(
                sa.select(s.Camera.name, s.Camera.kind, s.Camera.lat, s.Camera.lon)
            ).all()
            if kind == "fixed" and lat is not None and lon is not None
        }
    check = _RowChecker(
        columns or {}, len(header or ()), tz, images or ImageStore(None), image_folder, places, at
    )
    report = ImportReport()
    rejects_fh = None
    rejects_writer: Any = None
    batch: list[dict[str, Any]] = []
    valid = 0
    line = 0
    columns_out = header if header is not None else ["record"]

    def reject(line: int, row: list[str], reason: str) -> None:
        nonlocal rejects_fh, rejects_writer, rejects_path
        report.rejected.append(RejectedRow(line, reason))
        if rejects_writer is None:
            rejects_path, rejects_fh = _open_rejects(rejects_path, path, chosen)
            rejects_writer = csv.writer(rejects_fh)
            rejects_writer.writerow(["line", "reason", *columns_out])
        rejects_writer.writerow([line, reason, *(cell[:MAX_FIELD] for cell in row)])

    def flush() -> None:
        added, alerts = store.retrying(lambda: _write_batch(store, batch), attempts=10)
        store.yield_to_waiters()
        report.imported += added
        report.alerts += alerts
        report.committed_line = line
        if progress:
            progress(len(batch))
        batch.clear()

    try:
        for line, row in rows:
            if header is None:  # a vendor record: its fields (or why not) and its text
                fields, text = row
                report.rows += 1
                result = fields if isinstance(fields, str) else check.clean(fields)
                if isinstance(result, str):
                    reject(line, [text], result)
                    continue
            else:
                if isinstance(row, str):
                    report.rows += 1
                    reject(line, [], row)
                    continue
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
    except (AlprError, OSError) as exc:
        # A full disk, a lost database: say what is kept, and that running again is safe.
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        committed = (
            f"rows up to line {report.committed_line:,} are imported ({report.imported:,} reads)"
            if report.committed_line
            else "no row was imported"
        )
        message = (
            f"the import stopped at line {line:,} ({why}); {committed}: fix the cause and run the same "
            "import again — rows already imported are skipped"
        )
        raise (type(exc) if isinstance(exc, AlprError) else InvalidInput)(message) from exc
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
                before = max_read_id(conn)
                chunk = ensure_vehicles(conn, chunk)
                report.imported += insert_reads(conn, chunk)
                insert_alternatives(conn, chunk)
                note_first_reads(conn, chunk)
                note_daily_reads(conn, before)
            if progress:
                progress(chunk.height)
    with store.atomic() as conn:
        add_entries(conn, city.hotlist)
        report.alerts = match_new_reads(conn, 0)
    report.duplicates = report.rows - report.imported
    return report
