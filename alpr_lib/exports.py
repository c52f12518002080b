"""A search's reads in the formats GIS and evidence tools read: CSV, GeoJSON and KML.

Times are ISO 8601 in UTC, as evidence keeps them; every read carries its plate, state, camera, place,
confidence, the vehicle's description and — for a read found by another of its readings — the reading that
matched. The text is built here and returned as bytes: the door records the copy and the client writes the
file.

>>> import polars as pl
>>> frame = pl.DataFrame({"read_id": [1], "plate": ["7ABC123"], "lat": [44.0], "lon": [-124.1]})
>>> encode(frame, "geojson")[:40]
b'{"type": "FeatureCollection", "features"'
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from typing import Any
from xml.sax.saxutils import escape

import polars as pl

__all__ = ["EXPORT_FORMATS", "encode", "export_columns"]

#: The export formats and their files' media types.
EXPORT_FORMATS: dict[str, str] = {
    "csv": "text/csv",
    "geojson": "application/geo+json",
    "kml": "application/vnd.google-earth.kml+xml",
}
_COLUMNS = (
    "read_id", "plate", "state", "ts", "camera", "lat", "lon", "confidence", "make", "model", "color", "body",
    "direction", "reading", "alternative", "scene", "distance_m",
)  # fmt: skip


def export_columns(frame: pl.DataFrame) -> list[str]:
    """The columns of a frame of reads an export keeps, in order."""
    return [c for c in _COLUMNS if c in frame.columns]


def _value(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).astimezone(dt.UTC).isoformat()
    return value


def _rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    columns = export_columns(frame)
    return [{k: _value(v) for k, v in row.items()} for row in frame.select(columns).iter_rows(named=True)]


def encode(frame: pl.DataFrame, fmt: str, *, title: str = "ALPR reads") -> bytes:
    """The reads of ``frame`` as a ``csv``, ``geojson`` or ``kml`` file's bytes (UTF-8)."""
    rows = _rows(frame)
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=export_columns(frame), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_safe(v) for k, v in row.items()})
        return out.getvalue().encode()
    if fmt == "geojson":
        features = [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [row["lon"], row["lat"]]},
                "properties": {k: v for k, v in row.items() if k not in ("lat", "lon")},
            }
            for row in rows
            if row.get("lat") is not None and row.get("lon") is not None
        ]
        return json.dumps({"type": "FeatureCollection", "features": features}).encode()
    if fmt == "kml":
        marks = []
        for row in rows:
            if row.get("lat") is None or row.get("lon") is None:
                continue
            details = "".join(
                f'<Data name="{escape(str(k))}"><value>{escape("" if v is None else str(v))}</value></Data>'
                for k, v in row.items()
                if k not in ("lat", "lon")
            )
            when = f"<TimeStamp><when>{escape(str(row['ts']))}</when></TimeStamp>" if row.get("ts") else ""
            marks.append(
                f"<Placemark><name>{escape(str(row.get('plate', '')))}</name>{when}"
                f"<ExtendedData>{details}</ExtendedData>"
                f"<Point><coordinates>{row['lon']},{row['lat']}</coordinates></Point></Placemark>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n<kml xmlns="http://www.opengis.net/kml/2.2"><Document>'
            f"<name>{escape(title)}</name>{''.join(marks)}</Document></kml>\n"
        ).encode()
    raise ValueError(f"unknown export format {fmt!r}")


def _csv_safe(value: Any) -> Any:
    """A cell a spreadsheet will not run as a formula (a camera named ``=HYPERLINK(...)``)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
