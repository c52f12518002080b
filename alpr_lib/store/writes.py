"""Idempotent bulk writes: cameras, distinct plates and reads, batch by batch.

Each function works on a connection inside :meth:`Store.atomic`, so a batch is
committed whole or not at all. Re-running a killed import is safe: a read is
unique by its ``(source_id, ts)`` and plates by ``(plate, state)``; rows already
there are skipped, not duplicated.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..plates import DEFAULT_EQUIVALENCE_CLASSES, EquivalenceClasses
from . import partitions
from . import schema as s

__all__ = [
    "record_release",
    "OPTIONAL_READ_COLUMNS",
    "READ_COLUMNS",
    "READ_KEY",
    "ensure_cameras",
    "ensure_case",
    "ensure_plates",
    "ensure_vehicles",
    "insert_alternatives",
    "equivalence_key_expr",
    "insert_ignoring_duplicates",
    "insert_reads",
    "mark_moving_cameras",
    "note_daily_reads",
    "note_first_reads",
]

#: Columns of a reads frame handed to :func:`insert_reads` (``plate_id`` already resolved).
READ_COLUMNS: tuple[str, ...] = (
    "plate_id",
    "raw",
    "confidence",
    "char_confidence",
    "ts",
    "camera_id",
    "lat",
    "lon",
    "image_path",
    "crop_path",
    "source_id",
    "vehicle_id",
    "direction",
)

#: Columns of :data:`READ_COLUMNS` a reads frame may leave out, and their type: written empty.
OPTIONAL_READ_COLUMNS: dict[str, type[pl.DataType]] = {
    "char_confidence": pl.String,
    "vehicle_id": pl.Int64,
    "direction": pl.String,
}
#: The description columns a reads frame may carry (text, "" or null when the source gave none).
VEHICLE_COLUMNS: tuple[str, ...] = ("make", "model", "color", "body")
#: A reads frame's alternative readings: a list of (plate, confidence) per read, best first.
ALTERNATIVES_TYPE = pl.List(pl.Struct({"plate": pl.String, "confidence": pl.Float64}))

_CHUNK = 50_000
#: The reads' import key: the same source's read at the same time is the same read.
READ_KEY: tuple[str, ...] = ("source_id", "ts")


def _insert_ignoring_duplicates(conn: Connection, table: sa.Table, conflict: Sequence[str]) -> Any:
    """An INSERT that skips rows clashing with a unique key, on SQLite and PostgreSQL."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    if conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        return sqlite_insert(table).on_conflict_do_nothing(index_elements=list(conflict))
    raise NotImplementedError(f"bulk writes are not implemented for {conn.dialect.name}")


def insert_ignoring_duplicates(
    conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]], conflict: Sequence[str]
) -> int:
    """Insert ``rows``, skipping any that collide on the unique columns ``conflict``; returns rows added."""
    if not rows:
        return 0
    stmt = _insert_ignoring_duplicates(conn, table, conflict)
    if conn.dialect.name == "postgresql":
        # A many-row execute's rowcount is not the total there: count the rows it returns.
        return len(conn.execute(stmt.returning(sa.literal_column("1")), list(rows)).all())
    result = conn.execute(stmt, list(rows))
    return max(result.rowcount, 0)


def ensure_case(conn: Connection, number: str) -> int:
    """The id of the case with this number, created (open) when new."""
    found = conn.execute(sa.select(s.Case.id).where(s.Case.number == number)).scalar()
    if found is not None:
        return int(found)
    return int(conn.execute(sa.insert(s.Case).values(number=number).returning(s.Case.id)).scalar_one())


def ensure_cameras(conn: Connection, cameras: Iterable[dict[str, Any]]) -> dict[str, int]:
    """Create the cameras not yet known (by name) and return every given name's id.

    Each camera is a dict with ``name`` and optionally ``kind``, ``lat``, ``lon``,
    ``heading``, ``location``. Known cameras are left as they are.
    """
    rows = {c["name"]: c for c in cameras}
    if not rows:
        return {}
    known = _camera_ids(conn, list(rows))
    # In the order given (a city's cameras keep their ids); two imports adding the same new cameras in
    # another order may deadlock on PostgreSQL, which undoes one of them: the import runs that batch again.
    missing = [
        {"kind": "fixed", "lat": None, "lon": None, "heading": None, "location": None, **row}
        for name, row in rows.items()
        if name not in known
    ]
    if missing:
        conn.execute(_insert_ignoring_duplicates(conn, s.Camera.__table__, ["name"]), missing)
        known.update(_camera_ids(conn, [row["name"] for row in missing]))
    return known


#: A "fixed" camera whose reads lie farther from its place than this (degrees of latitude or longitude, about
#: 100 m) is really moving (:func:`mark_moving_cameras`). So a read of a fixed camera may lie this far from it
#: in both: a search by place takes the fixed cameras that near the place, then each read by its own position.
FIXED_SPREAD_DEG = 0.001


def note_first_reads(conn: Connection, reads: pl.DataFrame) -> None:
    """Keep each camera's earliest read time (``camera_id``, ``ts`` of reads just written): when it came into
    operation, for the transparency report of a period."""
    c = s.Camera.__table__.c
    firsts = reads.group_by("camera_id").agg(pl.col("ts").min()).sort("camera_id")
    for camera_id, ts in firsts.iter_rows():
        conn.execute(
            sa.update(s.Camera)
            .where(c.id == camera_id, sa.or_(c.first_read_ts.is_(None), c.first_read_ts > ts))
            .values(first_read_ts=ts)
        )


def note_daily_reads(conn: Connection, after_id: int) -> None:
    """Count the reads written after read ``after_id`` into their days' totals (kept after the purge)."""
    r, d = s.Read.__table__.c, s.DailyReads.__table__
    day = sa.cast(r.ts / 86_400_000, sa.Integer)
    counts = conn.execute(sa.select(day, sa.func.count()).where(r.id > after_id).group_by(day)).all()
    for when, n in counts:
        done = conn.execute(sa.update(d).where(d.c.day == when).values(reads=d.c.reads + n)).rowcount
        if not done:
            conn.execute(sa.insert(d).values(day=when, reads=n))


def mark_moving_cameras(conn: Connection, reads: pl.DataFrame) -> int:
    """Mark as ``mobile`` any fixed camera whose reads (``camera_id``, ``lat``, ``lon``) are not all at its
    place: searches by place then use each read's own position. Returns the cameras changed."""
    c = s.Camera.__table__.c
    fixed = {
        cid: (lat, lon)
        for cid, lat, lon in conn.execute(
            sa.select(c.id, c.lat, c.lon).where(
                c.kind == "fixed", c.id.in_(reads["camera_id"].unique().to_list())
            )
        )
    }
    if not fixed:
        return 0
    spread = (
        reads.filter(pl.col("camera_id").is_in(list(fixed)))
        .group_by("camera_id")
        .agg(
            pl.col("lat").min().alias("lat_lo"),
            pl.col("lat").max().alias("lat_hi"),
            pl.col("lon").min().alias("lon_lo"),
            pl.col("lon").max().alias("lon_hi"),
        )
    )
    moving = []
    for cid, lat_lo, lat_hi, lon_lo, lon_hi in spread.iter_rows():
        lat, lon = fixed[cid]
        if lat is None or lon is None:
            continue
        far = max(abs(lat_lo - lat), abs(lat_hi - lat), abs(lon_lo - lon), abs(lon_hi - lon))
        if far > FIXED_SPREAD_DEG:
            moving.append(cid)
    if moving:
        conn.execute(sa.update(s.Camera).where(c.id.in_(sorted(moving))).values(kind="mobile"))
    return len(moving)


def _camera_ids(conn: Connection, names: list[str]) -> dict[str, int]:
    ids: dict[str, int] = {}
    for start in range(0, len(names), 500):
        chunk = names[start : start + 500]
        ids.update(conn.execute(sa.select(s.Camera.name, s.Camera.id).where(s.Camera.name.in_(chunk))).all())
    return ids


def equivalence_key_expr(
    plate: pl.Expr, classes: EquivalenceClasses = DEFAULT_EQUIVALENCE_CLASSES
) -> pl.Expr:
    """A polars expression computing the equivalence key of a column of normalised plates."""
    sources, targets = classes.pairs()
    return plate.str.replace_many(sources, targets)


#: PostgreSQL: the lock an importer holds from drawing new plates' ids until it commits.
_PLATES_LOCK = sa.text(f"SELECT pg_advisory_xact_lock({partitions.PLATES_LOCK})")
_BATCH = sa.table("batch_plates", sa.column("plate"), sa.column("state"))
_ANY_NEW_PLATE = (
    sa.select(sa.literal(1))
    .select_from(_BATCH)
    .where(~sa.exists().where(s.Plate.plate == _BATCH.c.plate, s.Plate.state == _BATCH.c.state))
    .limit(1)
)


def ensure_plates(conn: Connection, plates: pl.DataFrame) -> pl.DataFrame:
    """Add the distinct ``(plate, state)`` pairs of ``plates`` that are new; return their ids.

    ``plates`` has string columns ``plate`` (normalised) and ``state`` ("" when unknown).
    The result has ``plate``, ``state`` and ``plate_id`` for every distinct pair given.
    """
    distinct = plates.select("plate", "state").unique()
    if distinct.is_empty():
        return distinct.with_columns(plate_id=pl.lit(None, pl.Int64))
    distinct = distinct.with_columns(equiv_key=equivalence_key_expr(pl.col("plate")))
    conn.exec_driver_sql(
        "CREATE TEMPORARY TABLE IF NOT EXISTS batch_plates "
        "(plate VARCHAR(16) NOT NULL, state VARCHAR(2) NOT NULL, equiv_key VARCHAR(16) NOT NULL)"
    )
    conn.exec_driver_sql("DELETE FROM batch_plates")
    batch = sa.table("batch_plates", sa.column("plate"), sa.column("state"), sa.column("equiv_key"))
    for chunk in distinct.iter_slices(_CHUNK):
        conn.execute(sa.insert(batch), chunk.to_dicts())
    select_new = sa.select(batch.c.plate, batch.c.state, batch.c.equiv_key)
    if conn.dialect.name == "postgresql" and conn.execute(_ANY_NEW_PLATE).first() is not None:
        # New plates' ids are drawn in the order their transactions commit: the door's plate index asks
        # only for ids above the highest it holds, and a plate committed after a higher id would never be
        # searched. (SQLite has one writer at a time.)
        conn.execute(_PLATES_LOCK)
    conn.execute(
        _insert_ignoring_duplicates(conn, s.Plate.__table__, ["plate", "state"]).from_select(
            ["plate", "state", "equiv_key"],
            # WHERE true: SQLite needs it to tell the SELECT from the ON CONFLICT clause.
            select_new.where(sa.true()),
        )
    )
    rows = conn.execute(
        sa.select(s.Plate.plate, s.Plate.state, s.Plate.id).join(
            batch, sa.and_(batch.c.plate == s.Plate.plate, batch.c.state == s.Plate.state)
        )
    ).all()
    conn.exec_driver_sql("DELETE FROM batch_plates")
    return pl.DataFrame(
        rows, schema={"plate": pl.String, "state": pl.String, "plate_id": pl.Int64}, orient="row"
    )


def _copy_reads(conn: Connection, reads: pl.DataFrame) -> int:
    """PostgreSQL: COPY the reads into a temporary table, make the days they fall on, then one INSERT …
    SELECT that skips known reads — COPY's speed with the same idempotence (and an exact count of what
    was added)."""
    cols = ", ".join(READ_COLUMNS)
    conn.exec_driver_sql(  # the read columns only: no id, so the ids' sequence is drawn once, at the INSERT
        f"CREATE TEMP TABLE IF NOT EXISTS incoming_reads ON COMMIT DELETE ROWS AS "
        f"SELECT {cols} FROM reads WITH NO DATA"
    )
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    try:
        with cursor.copy(f"COPY incoming_reads ({cols}) FROM STDIN") as copy:
            for row in reads.select(READ_COLUMNS).iter_rows():
                copy.write_row(row)
        if partitions.partitioned(conn):
            days = [d for (d,) in cursor.execute(
                f"SELECT DISTINCT ts / {partitions.DAY_MS} FROM incoming_reads"
            ).fetchall()]  # fmt: skip
            partitions.add_days(conn, days)
        cursor.execute(
            f"INSERT INTO reads ({cols}) SELECT {cols} FROM incoming_reads ORDER BY ts "
            f"ON CONFLICT ({', '.join(READ_KEY)}) DO NOTHING"
        )
        added = max(cursor.rowcount, 0)
        cursor.execute("TRUNCATE incoming_reads")
    finally:
        cursor.close()
    return added


def ensure_vehicles(conn: Connection, reads: pl.DataFrame) -> pl.DataFrame:
    """``reads`` with ``vehicle_id`` set from its description columns (:data:`VEHICLE_COLUMNS`): the distinct
    descriptions that are new are added to ``vehicles``. A read without any description keeps no vehicle."""
    present = [c for c in VEHICLE_COLUMNS if c in reads.columns]
    if not present:
        return reads
    filled = reads.with_columns(
        pl.col(c).fill_null("").cast(pl.String) if c in present else pl.lit("", pl.String).alias(c)
        for c in VEHICLE_COLUMNS
    )
    described = pl.any_horizontal(pl.col(c) != "" for c in VEHICLE_COLUMNS)
    distinct = filled.filter(described).select(VEHICLE_COLUMNS).unique()
    if distinct.is_empty():
        return reads.with_columns(vehicle_id=pl.lit(None, pl.Int64))
    insert_ignoring_duplicates(conn, s.Vehicle.__table__, distinct.to_dicts(), list(VEHICLE_COLUMNS))
    v = s.Vehicle.__table__.c
    rows = conn.execute(
        sa.select(v.make, v.model, v.color, v.body, v.id).where(
            v.color.in_(distinct["color"].unique().to_list())
        )
    ).all()
    ids = pl.DataFrame(
        rows, schema={**dict.fromkeys(VEHICLE_COLUMNS, pl.String), "vehicle_id": pl.Int64}, orient="row"
    )
    joined = filled.drop("vehicle_id", strict=False).join(ids, on=list(VEHICLE_COLUMNS), how="left")
    return joined.with_columns(
        pl.when(described).then(pl.col("vehicle_id")).otherwise(None).alias("vehicle_id")
    ).drop([c for c in VEHICLE_COLUMNS if c not in present])


def insert_alternatives(conn: Connection, reads: pl.DataFrame) -> int:
    """Store the alternative readings of reads already inserted (``source_id``, ``ts``, ``state`` and
    ``alternatives``, a list of plate and confidence, best first); a reading equal to the read's own plate is
    skipped, and one already stored is not stored twice. Returns the alternatives added."""
    if "alternatives" not in reads.columns:
        return 0
    some = reads.filter(pl.col("alternatives").list.len() > 0).select(
        "source_id", "ts", "state", "plate", "alternatives"
    )
    if some.is_empty():
        return 0
    flat = _flatten_alternatives(some)
    flat = flat.filter(pl.col("alt_plate") != pl.col("plate"))
    if flat.is_empty():
        return 0
    plate_ids = ensure_plates(conn, flat.select(pl.col("alt_plate").alias("plate"), "state"))
    flat = flat.join(plate_ids.rename({"plate": "alt_plate"}), on=["alt_plate", "state"], how="left")
    ids = pl.DataFrame(
        _read_ids(conn, some.select("source_id", "ts").unique()),
        schema={"read_id": pl.Int64, "source_id": pl.String, "ts": pl.Int64},
        orient="row",
    )
    rows = (
        flat.join(ids, on=["source_id", "ts"], how="inner")
        .select("read_id", "plate_id", "ts", "rank", "confidence")
        .unique(["read_id", "plate_id"], keep="first", maintain_order=True)
    )
    return insert_ignoring_duplicates(
        conn, s.ReadAlternative.__table__, rows.to_dicts(), ["read_id", "plate_id"]
    )


def _read_ids(conn: Connection, keys: pl.DataFrame) -> list[Any]:
    """``(id, source_id, ts)`` of the stored reads among ``keys`` (``source_id``, ``ts``)."""
    found: list[Any] = []
    if conn.dialect.name == "postgresql":
        # Each key looked up on its own: its ts prunes the day partitions to one at run time, and the day's
        # unique key index answers. (An IN list with a ts range planned as one scan of every day it spans.)
        lookup = sa.text(
            "SELECT r.id, k.source_id, k.ts FROM unnest(CAST(:sources AS text[]), CAST(:ts AS bigint[])) "
            "AS k(source_id, ts) CROSS JOIN LATERAL "
            "(SELECT id FROM reads WHERE source_id = k.source_id AND ts = k.ts) AS r"
        )
        for chunk in keys.iter_slices(10_000):
            params = {"sources": chunk["source_id"].to_list(), "ts": chunk["ts"].to_list()}
            found += conn.execute(lookup, params).all()
        return found
    r = s.Read.__table__.c
    for chunk in keys.iter_slices(2_000):
        found += conn.execute(
            sa.select(r.id, r.source_id, r.ts).where(
                r.source_id.in_(chunk["source_id"].unique().to_list()),
                r.ts.between(int(chunk["ts"].min()), int(chunk["ts"].max())),  # type: ignore[arg-type]
            )
        ).all()
    return found


def _flatten_alternatives(reads: pl.DataFrame) -> pl.DataFrame:
    """One row per alternative reading: the read's key and plate, ``alt_plate``, ``rank``, ``confidence``."""
    out: list[tuple[str, int, str, str, str, int, float | None]] = []
    for source_id, ts, state, plate, alts in reads.iter_rows():
        for rank, alt in enumerate(alts or [], start=1):
            out.append((source_id, ts, state, plate, alt["plate"], rank, alt.get("confidence")))
    return pl.DataFrame(
        out,
        schema={
            "source_id": pl.String,
            "ts": pl.Int64,
            "state": pl.String,
            "plate": pl.String,
            "alt_plate": pl.String,
            "rank": pl.Int64,
            "confidence": pl.Float64,
        },
        orient="row",
    )


def insert_reads(conn: Connection, reads: pl.DataFrame) -> int:
    """Insert reads (columns :data:`READ_COLUMNS`, less any of :data:`OPTIONAL_READ_COLUMNS`), skipping any
    whose ``(source_id, ts)`` is known.

    Returns the number of reads actually added.
    """
    reads = reads.with_columns(
        pl.lit(None, dtype=kind).alias(name)
        for name, kind in OPTIONAL_READ_COLUMNS.items()
        if name not in reads.columns
    )
    missing = [c for c in READ_COLUMNS if c not in reads.columns]
    if missing:
        raise ValueError(f"reads frame lacks columns {missing}")
    if conn.dialect.name == "postgresql":
        return _copy_reads(conn, reads)
    stmt = _insert_ignoring_duplicates(conn, s.Read.__table__, READ_KEY)
    added = 0
    for chunk in reads.select(READ_COLUMNS).iter_slices(_CHUNK):
        result = conn.execute(stmt, chunk.to_dicts())
        added += max(result.rowcount, 0)
    return added


def record_release(
    conn: Connection,
    *,
    agency_id: int,
    case_id: int,
    purpose: str,
    user_id: int,
    reads: int,
    package: Path,
    manifest_sha256: str,
    at: dt.datetime,
) -> None:
    """Record a release package in the registry of releases: to whom, for which case, by whom, what."""
    conn.execute(
        sa.insert(s.Release).values(
            agency_id=agency_id, case_id=case_id, purpose=purpose, released_by=user_id, released_at=at,
            read_count=reads, package_path=str(package), manifest_sha256=manifest_sha256,
        )
    )  # fmt: skip
