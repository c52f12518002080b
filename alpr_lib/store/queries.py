"""Read-side queries: the coarse SQL filtering under the analytics (plate ids, time, place).

Each returns a polars DataFrame in the shape :data:`READ_SCHEMA` gives, so the
analytics above work on one shape whatever the engine.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from . import schema as s

__all__ = ["READ_SCHEMA", "fetch_reads", "plate_ids", "to_ms"]

#: Columns of a frame of reads, as every query here returns them.
READ_SCHEMA: dict[str, pl.DataType] = {
    "read_id": pl.Int64(),
    "plate": pl.String(),
    "state": pl.String(),
    "ts": pl.Datetime("ms", "UTC"),
    "camera": pl.String(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "confidence": pl.Float64(),
    "raw": pl.String(),
    "crop_path": pl.String(),
}


def to_ms(when: dt.datetime | None) -> int | None:
    """UTC epoch milliseconds of an aware datetime (naive ones are refused by the caller)."""
    if when is None:
        return None
    if when.tzinfo is None:
        raise ValueError("times must carry a time zone")
    return int(when.timestamp() * 1000)


def plate_ids(conn: Connection, plate: str, state: str | None = None) -> list[int]:
    """Ids of the distinct plates with exactly this text (any state, or the one given)."""
    query = sa.select(s.Plate.id).where(s.Plate.plate == plate)
    if state:
        query = query.where(s.Plate.state == state)
    return [int(i) for i in conn.execute(query).scalars()]


def fetch_reads(
    conn: Connection,
    ids: Sequence[int],
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Reads of the given plate ids in ``[since, until)``, oldest first, at most ``limit`` rows."""
    if not ids:
        return pl.DataFrame(schema=READ_SCHEMA)
    reads, plates, cameras = s.Read.__table__, s.Plate.__table__, s.Camera.__table__
    r, p, c = reads.c, plates.c, cameras.c
    query = (
        sa.select(r.id, p.plate, p.state, r.ts, c.name, r.lat, r.lon, r.confidence, r.raw, r.crop_path)
        .select_from(reads)
        .join(plates, p.id == r.plate_id)
        .join(cameras, c.id == r.camera_id)
        .where(r.plate_id.in_(list(ids)))
        .order_by(r.ts, r.id)
    )
    if since_ms is not None:
        query = query.where(r.ts >= since_ms)
    if until_ms is not None:
        query = query.where(r.ts < until_ms)
    if limit is not None:
        query = query.limit(limit)
    rows = conn.execute(query).all()
    if not rows:
        return pl.DataFrame(schema=READ_SCHEMA)
    frame = pl.DataFrame(rows, schema=list(READ_SCHEMA), orient="row", infer_schema_length=None)
    return frame.with_columns(pl.from_epoch(pl.col("ts"), "ms").dt.replace_time_zone("UTC")).cast(
        READ_SCHEMA  # type: ignore[arg-type]
    )
