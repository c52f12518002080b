"""Read-side queries: the coarse SQL filtering under the analytics (plate ids, time, place).

Each returns a polars DataFrame in the shape :data:`READ_SCHEMA` gives, so the
analytics above work on one shape whatever the engine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..matching import key_variants, within
from . import partitions
from . import schema as s
from .partitions import DAY_MS, PLATE_DAYS
from .plate_index import PLATE_SCHEMA, PlateIndex

__all__ = [
    "ALTERNATIVE_SCHEMA",
    "READ_SCHEMA",
    "Described",
    "alternatives_of",
    "reads_by_alternative",
    "reads_by_vehicle",
    "rows_then_commit",
    "rows_together",
    "vehicles_matching",
    "agency",
    "cached_rows",
    "cameras",
    "companion_counts",
    "count_of_plates",
    "describe_read_pairs",
    "empty_reads",
    "fetch_reads",
    "image_paths",
    "plate_id_pairs",
    "plate_ids",
    "plates_exactly",
    "plates_by_key",
    "plates_matching",
    "read_positions",
    "reads_at_cameras",
    "reads_beside",
    "reads_by_id",
    "tally_of_plates",
    "to_ms",
]

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
    # The vehicle as the camera described it (null where it gave no description), and its direction of
    # travel as a compass point.
    "make": pl.String(),
    "model": pl.String(),
    "color": pl.String(),
    "body": pl.String(),
    "direction": pl.String(),
}


@dataclass(frozen=True)
class Described:
    """A description filter resolved against the store: the ``vehicles`` rows that fit it (None: any
    vehicle, described or not) and the direction of travel (None: any)."""

    vehicle_ids: list[int] | None = None
    direction: str | None = None
    # The description as asked, for filtering frames already fetched (held reads, a canvass's reads).
    make: str = ""
    model: str = ""
    color: str = ""
    body: str = ""

    def keep(self, reads: pl.DataFrame) -> pl.DataFrame:
        """The reads of a frame that fit the description."""
        conditions = [
            pl.col(name) == value for name, value in (("color", self.color), ("body", self.body)) if value
        ]
        conditions += [
            pl.col(name).str.to_lowercase() == value.lower()
            for name, value in (("make", self.make), ("model", self.model))
            if value
        ]
        if self.direction:
            conditions.append(pl.col("direction") == self.direction)
        return reads.filter(*conditions) if conditions else reads


def vehicles_matching(
    conn: Connection,
    *,
    make: str | None = None,
    model: str | None = None,
    color: str | None = None,
    body: str | None = None,
) -> list[int]:
    """Ids of the vehicle descriptions that fit every part given (make and model without regard to case)."""
    v = s.Vehicle.__table__.c
    query = sa.select(v.id)
    if color:
        query = query.where(v.color == color)
    if body:
        query = query.where(v.body == body)
    if make:
        query = query.where(sa.func.lower(v.make) == make.lower())
    if model:
        query = query.where(sa.func.lower(v.model) == model.lower())
    return [int(i) for i in conn.execute(query.order_by(v.id)).scalars()]


def to_ms(when: dt.datetime | None) -> int | None:
    """UTC epoch milliseconds of an aware datetime (naive ones are refused by the caller)."""
    if when is None:
        return None
    if when.tzinfo is None:
        raise ValueError("times must carry a time zone")
    return int(when.timestamp() * 1000)


def _plate_ids_statement(_dialect: str) -> sa.Select[Any]:
    p, a = s.Plate.__table__.c, s.ReadAlternative.__table__.c
    return sa.select(p.id, sa.exists().where(a.plate_id == p.id), p.plate, p.state).where(
        p.plate == sa.bindparam("plate", type_=sa.String),
        sa.or_(
            sa.bindparam("any_state", type_=sa.Boolean), p.state == sa.bindparam("state", type_=sa.String)
        ),
    )


def plates_exactly(conn: Connection, plate: str, state: str | None = None) -> pl.DataFrame:
    """The distinct plates with exactly this text (any state, or the one given): ``plate_id``,
    ``has_alternatives`` — whether the plate is some read's other reading (a search need not look for those
    reads when it is not) — ``plate`` and ``state``. One statement, compiled once."""
    params = {"plate": plate, "any_state": not state, "state": state or ""}
    rows = _rows(conn, "plates_exactly", _plate_ids_statement, params)
    return pl.DataFrame(rows, schema=_EXACT_SCHEMA, orient="row")


_EXACT_SCHEMA = {"plate_id": pl.Int64, "has_alternatives": pl.Boolean, "plate": pl.String, "state": pl.String}


def plate_ids(conn: Connection, plate: str, state: str | None = None) -> list[int]:
    """Ids of the distinct plates with exactly this text (any state, or the one given)."""
    params = {"plate": plate, "any_state": not state, "state": state or ""}
    return [int(r[0]) for r in _rows(conn, "plates_exactly", _plate_ids_statement, params)]


def plate_id_pairs(conn: Connection, plates: pl.DataFrame) -> list[int]:
    """Ids of the distinct plates given as (``plate``, ``state``) rows."""
    pairs = list(plates.select("plate", "state").iter_rows())
    if not pairs:
        return []
    p = s.Plate.__table__.c
    found = conn.execute(
        sa.select(p.id, p.plate, p.state).where(p.plate.in_({pl_ for pl_, _ in pairs}))
    ).all()
    wanted = set(pairs)
    return [int(i) for i, plate, state in found if (plate, state) in wanted]


def _in(conn: Connection, column: sa.ColumnElement[int], ids: Sequence[int]) -> sa.ColumnElement[bool]:
    """``column IN ids``; a long list travels as one JSON or array parameter instead of thousands."""
    if len(ids) <= 2000:
        return column.in_(list(ids))
    if conn.dialect.name == "sqlite":
        values = sa.func.json_each(json.dumps(list(ids))).table_valued("value")
        return column.in_(sa.select(values.c.value))
    from sqlalchemy.dialects.postgresql import ARRAY

    return column == sa.func.any(sa.cast(list(ids), ARRAY(sa.BigInteger)))


def _read_columns(r: Any, p: Any) -> list[sa.ColumnElement[Any]]:
    """The columns of :data:`READ_SCHEMA` as rows carry them (reads ``r``, plates ``p``): the camera and the
    vehicle by their ids, which :func:`_frame` turns into the camera's name and the vehicle's description
    from caches of the few cameras and distinct descriptions — not a join on every read (on PostgreSQL the
    join to the cameras was a millisecond of a fuzzy search's 383 reads)."""
    return [r.id, p.plate, p.state, r.ts, r.camera_id, r.lat, r.lon, r.confidence, r.raw, r.crop_path,
            r.vehicle_id, r.direction]  # fmt: skip


def _reads_select() -> sa.Select[Any]:
    reads, plates = s.Read.__table__, s.Plate.__table__
    return (
        sa.select(*_read_columns(reads.c, plates.c))
        .select_from(reads)
        .join(plates, plates.c.id == reads.c.plate_id)
    )


_EMPTY: dict[tuple[tuple[str, pl.DataType], ...], pl.DataFrame] = {}


def empty_reads(extra: dict[str, pl.DataType] | None = None) -> pl.DataFrame:
    """A frame of no reads (with ``extra`` columns): built once per shape — an empty frame of fifteen
    columns costs a search a third of a millisecond to make."""
    key = tuple({**READ_SCHEMA, **(extra or {})}.items())
    found = _EMPTY.get(key)
    if found is None:
        found = _EMPTY[key] = pl.DataFrame(schema=dict(key))
    return found


#: Each database's vehicle descriptions by id, as far as read: a description never changes once stored, so
#: an id not yet known is the only reason to look again.
_VEHICLES: weakref.WeakKeyDictionary[Any, dict[int, tuple[str, str, str, str]]] = weakref.WeakKeyDictionary()
_NO_VEHICLE = (None, None, None, None)


def _descriptions(conn: Connection, ids: Sequence[int | None]) -> list[tuple[Any, ...]]:
    """The (make, model, colour, body) of each vehicle id (nulls for a read without one)."""
    known = _VEHICLES.setdefault(conn.engine, {})
    missing = {i for i in ids if i is not None and i not in known}
    if missing:
        # Every description from the first one missing on: ids grow, so one look fills the cache for the
        # searches to come as well (a city holds hundreds of distinct descriptions, not millions).
        v = s.Vehicle.__table__.c
        statement = sa.select(v.id, v.make, v.model, v.color, v.body).where(v.id >= min(missing))
        for row in conn.execute(statement):
            known[int(row[0])] = tuple(x or None for x in row[1:])  # type: ignore[assignment]
    return [_NO_VEHICLE if i is None else known.get(i, _NO_VEHICLE) for i in ids]


#: Each database's camera names by id: a camera is never renamed, so a new camera is the only reason to
#: look again.
_CAMERAS: weakref.WeakKeyDictionary[Any, dict[int, str]] = weakref.WeakKeyDictionary()


def _camera_names(conn: Connection, ids: Sequence[int]) -> list[str]:
    """The name of each camera id (a dictionary look-up per read: 5 µs for a plate's few reads, where a
    polars replace takes 0.6 ms)."""
    known = _CAMERAS.setdefault(conn.engine, {})
    try:
        return [known[i] for i in ids]
    except KeyError:  # a camera added since
        c = s.Camera.__table__.c
        known.update((int(i), name) for i, name in conn.execute(sa.select(c.id, c.name)))
        return [known[i] for i in ids]


def _frame(rows: Sequence[Any], extra: dict[str, pl.DataType] | None, conn: Connection) -> pl.DataFrame:
    """A frame of reads from result rows (``_reads_select``'s columns, then ``extra``'s), built column by
    column (no query engine round trips: on the small results of a search those cost more than the data);
    the vehicle id becomes its description."""
    if not rows:
        return empty_reads(extra)
    return _frame_of(list(zip(*rows, strict=True)), extra, conn)


#: Up to how many reads a frame is built row by row (:func:`_frame_of`).
_ROW_BY_ROW = 64


def _frame_of(raw: list[Any], extra: dict[str, pl.DataType] | None, conn: Connection) -> pl.DataFrame:
    """:func:`_frame` from its columns (sequences or Series), one per column of the rows."""
    schema = {**READ_SCHEMA, **(extra or {})}
    described = list(zip(*_descriptions(conn, raw[10]), strict=True))
    values = [*raw[:4], _camera_names(conn, raw[4]), *raw[5:10], *described, *raw[11:]]
    if len(values[0]) <= _ROW_BY_ROW and not any(isinstance(v, pl.Series) for v in values):
        # A plate's few reads: polars takes rows in one call (the time as epoch ms) in a third of the time
        # it takes to build a column at a time; a timeline's thousand, the other way round.
        return pl.DataFrame(list(zip(*values, strict=True)), schema=schema, orient="row")
    columns = []
    for (name, dtype), column in zip(schema.items(), values, strict=True):
        if name == "ts":
            columns.append(pl.Series(name, column, dtype=pl.Int64).cast(dtype))
        else:
            columns.append(pl.Series(name, column, dtype=dtype))
    return pl.DataFrame(columns)


_COMPILED: dict[tuple[str, str], tuple[str, tuple[str, ...] | None, dict[str, Any]]] = {}


def _statement(
    conn: Connection, key: str, build: Callable[[str], sa.Select[Any]], params: dict[str, Any]
) -> tuple[str, Any]:
    """The SQL of a statement built once per dialect and compiled once, and its arguments for the driver."""
    entry = _COMPILED.get((conn.dialect.name, key))
    if entry is None:
        compiled = build(conn.dialect.name).compile(dialect=conn.dialect)
        order = tuple(compiled.positiontup or ()) if compiled.positional else None
        entry = (compiled.string, order, dict(compiled.params))  # the params hold fixed values (OFFSET 0)
        _COMPILED[(conn.dialect.name, key)] = entry
    sql, order, fixed = entry
    merged = {**fixed, **params}
    if conn.dialect.name == "postgresql":
        from psycopg.types.numeric import Int8

        # One type for every integer, alone or in a list: psycopg sends the smallest that fits a value
        # (smallint, integer, bigint), and a statement is prepared, and planned, once per combination.
        merged = {
            k: Int8(v) if type(v) is int else [Int8(x) for x in v] if type(v) is list else v
            for k, v in merged.items()
        }
    return sql, tuple(merged[name] for name in order) if order is not None else merged


def _rows(
    conn: Connection, key: str, build: Callable[[str], sa.Select[Any]], params: dict[str, Any]
) -> list[Any]:
    """Run a read statement built once per dialect and compiled once, straight through the driver.

    The hot searches return hundreds of plain rows (ints, text, floats): SQLAlchemy's per-row result
    processing would cost more than SQLite takes to find them.
    """
    sql, args = _statement(conn, key, build, params)
    cursor = conn.connection.cursor()  # the driver's cursor, inside this connection's transaction
    try:
        cursor.execute(sql, args)
        return cursor.fetchall()
    finally:
        cursor.close()


def rows_together(
    conn: Connection, *statements: tuple[str, Callable[[str], sa.Select[Any]], dict[str, Any]]
) -> list[list[Any]]:
    """The rows of several of :func:`_rows`'s statements (key, builder, parameters), run in order. On
    PostgreSQL they go in one round trip (psycopg's pipeline) — with the transaction's ``BEGIN`` when they
    open it: the gate's statements, before every search, cost one wait on the server instead of three."""
    if conn.dialect.name != "postgresql":
        return [_rows(conn, *statement) for statement in statements]
    raw = conn.connection.driver_connection
    cursors = [raw.cursor() for _ in statements]  # type: ignore[union-attr]
    try:
        with raw.pipeline():  # type: ignore[union-attr]
            for cursor, statement in zip(cursors, statements, strict=True):
                cursor.execute(*_statement(conn, *statement))
        return [cursor.fetchall() for cursor in cursors]
    finally:
        for cursor in cursors:
            cursor.close()


def rows_then_commit(
    conn: Connection, key: str, build: Callable[[str], Any], params: dict[str, Any]
) -> list[Any] | None:
    """PostgreSQL: the rows of one of :func:`_rows`'s statements (an INSERT's RETURNING), and the
    transaction's ``COMMIT``, in one round trip (psycopg's pipeline); the block that opened the transaction
    then ends it with nothing left to commit.

    None when the server refused the statement as a serialization failure (a trigger's check): nothing is
    committed, and the transaction is as it was before the statement (a savepoint), to go on with."""
    import psycopg

    sql, args = _statement(conn, key, build, params)
    raw = conn.connection.driver_connection
    with raw.pipeline() as pipe, raw.cursor() as mark, raw.cursor() as cursor:  # type: ignore[union-attr]
        mark.execute("SAVEPOINT before_commit")
        cursor.execute(sql, args)
        try:
            raw.commit()  # type: ignore[union-attr]
        except psycopg.errors.SerializationFailure:
            # The COMMIT the server skipped is collected here, so that the pipeline ends cleanly.
            with contextlib.suppress(psycopg.errors.PipelineAborted):
                pipe.sync()
        else:
            return cursor.fetchall()
    raw.execute("ROLLBACK TO SAVEPOINT before_commit")  # type: ignore[union-attr]
    return None


#: :func:`_rows` for the other read-side modules: a statement built and compiled once per dialect, run
#: straight through the driver (the gate's and retention's small queries run before every search).
cached_rows = _rows


def _id_list(dialect: str, name: str, column: sa.ColumnElement[int]) -> sa.ColumnElement[bool]:
    """``column IN`` a list given as one parameter: JSON text on SQLite, an array on PostgreSQL."""
    if dialect == "sqlite":
        values = sa.func.json_each(sa.bindparam(name, type_=sa.String)).table_valued("value")
        return column.in_(sa.select(values.c.value))
    from sqlalchemy.dialects.postgresql import ARRAY

    return column == sa.func.any(sa.bindparam(name, type_=ARRAY(sa.BigInteger)))


def _pack(conn: Connection, values: Sequence[int]) -> Any:
    ints = [int(v) for v in values]
    return json.dumps(ints) if conn.dialect.name == "sqlite" else ints


_FETCH: dict[str, sa.Select[Any]] = {}
_FAR = 2**62


def _window(dialect: str, ts: sa.ColumnElement[int]) -> tuple[sa.ColumnElement[bool], ...]:
    """``since <= ts <= until`` for a statement led by another index (a plate's, a vehicle's).

    On PostgreSQL both bounds are written ``ts + 0``, out of the time index's reach: a prepared statement's
    generic plan takes a range of two parameters for 0.5 % of a day's partition (and one for a third of a
    small one), and walked every day's time index for a plate's reads instead of descending the plate's (on
    a 1M-read city an exact plate's count took 500 ms instead of 1). Such a statement visits every day's
    plate index (no pruning by time): a few hundredths of a millisecond a day."""
    since = sa.bindparam("since", type_=sa.BigInteger)
    until = sa.bindparam("until", type_=sa.BigInteger)
    if dialect == "postgresql":
        return (ts + 0) >= since, (ts + 0) <= until
    return ts >= since, ts <= until


def _plate_reads(dialect: str) -> tuple[sa.FromClause, Any, tuple[sa.ColumnElement[bool], ...]]:
    """Where a statement led by a list of plate ids (parameter ``ids``) finds their reads in the window
    (``since``, ``until``): the FROM, the reads' columns in it, and the conditions that name the plates and
    the window.

    SQLite: ``reads`` by its plate index, one range per plate. PostgreSQL: the days each plate was read on
    (``plate_days``), and in each day that day's partition only — a lateral subquery by the plate index,
    which the executor prunes to the one partition the day's bounds name — instead of one descent of every
    day's plate index per plate (a plate is read on a few days of a month: 0.4 → 0.2 ms for one plate at 10M
    reads, warm). The window is applied to the reads as well as to the days, out of the time index's reach
    (:func:`_window`)."""
    reads = s.Read.__table__
    if dialect != "postgresql":
        return reads, reads.c, (_id_list(dialect, "ids", reads.c.plate_id), *_window(dialect, reads.c.ts))
    d = PLATE_DAYS.c
    width = sa.literal_column(str(DAY_MS), sa.BigInteger)
    start = sa.cast(d.day, sa.BigInteger) * width
    day = (
        sa.select(reads)
        .where(reads.c.plate_id == d.plate_id, reads.c.ts >= start, reads.c.ts < start + width)
        .offset(0)  # a fence: the subquery stays one probe per day, never merged into a join of every day
        .lateral("r")
    )
    named = (
        _id_list(dialect, "ids", d.plate_id),
        d.day >= sa.bindparam("since_day", type_=sa.BigInteger),
        d.day <= sa.bindparam("until_day", type_=sa.BigInteger),
        *_window(dialect, day.c.ts),
    )
    return PLATE_DAYS.join(day, sa.true()), day.c, named


def _plate_filters(dialect: str, r: Any) -> tuple[sa.ColumnElement[bool], ...]:
    """A plate search's other conditions on its reads ``r``, every filter a parameter (see
    :func:`_filter_params`)."""
    return (
        sa.or_(sa.bindparam("all_cams", type_=sa.Boolean), _id_list(dialect, "cams", r.camera_id)),
        sa.or_(
            sa.bindparam("any_conf", type_=sa.Boolean),
            r.confidence >= sa.bindparam("min_conf", type_=sa.Float),
        ),
        sa.or_(sa.bindparam("any_vehicle", type_=sa.Boolean), _id_list(dialect, "vehicles", r.vehicle_id)),
        sa.or_(
            sa.bindparam("any_direction", type_=sa.Boolean),
            r.direction == sa.bindparam("direction", type_=sa.String),
        ),
    )


def _filter_params(
    conn: Connection,
    ids: Sequence[int],
    since_ms: int | None,
    until_ms: int | None,
    camera_ids: Sequence[int] | None,
    min_confidence: float | None,
    described: Described | None = None,
) -> dict[str, Any]:
    return {
        "ids": _pack(conn, ids),
        "since": -_FAR if since_ms is None else since_ms,
        "until": _FAR if until_ms is None else until_ms,
        # The window's days, for PostgreSQL's plate_days (unused on SQLite).
        "since_day": -_FAR if since_ms is None else partitions.day_of(since_ms),
        "until_day": _FAR if until_ms is None else partitions.day_of(until_ms),
        "all_cams": camera_ids is None,
        "cams": _pack(conn, camera_ids or []),
        "any_conf": min_confidence is None,
        "min_conf": 0.0 if min_confidence is None else float(min_confidence),
        "any_vehicle": described is None or described.vehicle_ids is None,
        "vehicles": _pack(conn, (described.vehicle_ids or []) if described else []),
        "any_direction": described is None or described.direction is None,
        "direction": (described.direction if described else None) or "",
    }


def _count_statement(dialect: str) -> sa.Select[Any]:
    """How many reads of a list of plate ids lie in a window under the search filters."""
    source, r, named = _plate_reads(dialect)
    return sa.select(sa.func.count()).select_from(source).where(*named, *_plate_filters(dialect, r))


def count_of_plates(
    conn: Connection,
    ids: Sequence[int],
    since_ms: int | None,
    until_ms: int,
    *,
    camera_ids: Sequence[int] | None = None,
    min_confidence: float | None = None,
    described: Described | None = None,
) -> int:
    """How many reads of these plate ids lie in ``[since, until]`` under the filters (by the plate index)."""
    if not ids or (camera_ids is not None and not camera_ids):
        return 0
    params = _filter_params(conn, ids, since_ms, until_ms, camera_ids, min_confidence, described)
    return int(_rows(conn, "count_of_plates", _count_statement, params)[0][0])


def _tally_statement(dialect: str) -> sa.Select[Any]:
    """Each plate's reads in a window under the search filters: how many at or above the retention floor,
    the newest of them, and how many below it (by the plate index alone on SQLite: it covers them)."""
    source, r, named = _plate_reads(dialect)
    kept = r.ts >= sa.bindparam("floor", type_=sa.BigInteger)
    return (
        sa.select(
            r.plate_id,
            sa.func.count().filter(kept),
            sa.func.max(r.ts).filter(kept),
            sa.func.count().filter(sa.not_(kept)),
        )
        .select_from(source)
        .where(*named, *_plate_filters(dialect, r))
        .group_by(r.plate_id)
    )


def tally_of_plates(
    conn: Connection,
    ids: Sequence[int],
    since_ms: int | None,
    until_ms: int | None,
    floor_ms: int,
    *,
    camera_ids: Sequence[int] | None = None,
    min_confidence: float | None = None,
    described: Described | None = None,
) -> list[tuple[int, int, int | None, int]]:
    """Per plate id with reads in ``[since, until]`` under the filters: how many at or above ``floor_ms``
    (within retention), the newest of those (epoch ms, None when none), and how many below it. What a
    paged search says of every page without fetching the reads."""
    if not ids or (camera_ids is not None and not camera_ids):
        return []
    params = {
        **_filter_params(conn, ids, since_ms, until_ms, camera_ids, min_confidence, described),
        "floor": int(floor_ms),
    }
    rows = _rows(conn, "tally_of_plates", _tally_statement, params)
    return [(int(p), int(k), None if t is None else int(t), int(b)) for p, k, t, b in rows]


def _fetch_statement(dialect: str) -> sa.Select[Any]:
    """Reads of a list of plate ids under optional filters (every filter a parameter, so one statement)."""
    source, r, named = _plate_reads(dialect)
    plates = s.Plate.__table__
    statement = sa.select(*_read_columns(r, plates.c)).select_from(
        source.join(plates, plates.c.id == r.plate_id)
    )
    if dialect == "postgresql":
        # The plates too, by the same ids: PostgreSQL overestimates the reads of an id array (skewed plates)
        # and would otherwise hash the whole plates table — 63 of 70 ms for a 500-plate pattern at 10M reads.
        statement = statement.where(_id_list(dialect, "ids", plates.c.id))
    return (
        statement.where(*named, *_plate_filters(dialect, r))
        .order_by(r.ts, r.id)
        .limit(sa.bindparam("limit", type_=sa.BigInteger))
        .offset(sa.bindparam("offset", type_=sa.BigInteger))
    )


def _fetch_unnamed_statement(dialect: str) -> sa.Select[Any]:
    """:func:`_fetch_statement` with the plate's id in place of its text and state (no join to plates)."""
    source, r, named = _plate_reads(dialect)
    return (
        sa.select(*_unnamed_columns(r))
        .select_from(source)
        .where(*named, *_plate_filters(dialect, r))
        # On PostgreSQL the order, too, out of the time index's reach: a generic plan would otherwise read
        # every day's time index in order and filter it for the plates (see _window).
        .order_by((r.ts + 0) if dialect == "postgresql" else r.ts, r.id)
        .limit(sa.bindparam("limit", type_=sa.BigInteger))
        .offset(sa.bindparam("offset", type_=sa.BigInteger))
    )


def _unnamed_columns(r: Any) -> list[sa.ColumnElement[Any]]:
    """:func:`_read_columns` with the plate's id in place of its text and state (see :func:`_named`)."""
    return [r.id, r.plate_id, *_read_columns(r, s.Plate.__table__.c)[3:]]


def _named(conn: Connection, rows: Sequence[Any], plates: pl.DataFrame) -> pl.DataFrame:
    """A frame of reads from rows of :func:`_unnamed_columns`, each plate's text and state taken from
    ``plates`` (``plate_id``, ``plate``, ``state``: every plate the rows name)."""
    if not rows:
        return empty_reads()
    raw = list(zip(*rows, strict=True))
    # Dictionary look-ups: a plate's few reads are named in microseconds, where polars' gathers take
    # a tenth of a millisecond each.
    text = dict(zip(plates["plate_id"].to_list(), plates["plate"].to_list(), strict=True))
    state = dict(zip(plates["plate_id"].to_list(), plates["state"].to_list(), strict=True))
    ids = raw[1]
    return _frame_of([raw[0], [text[i] for i in ids], [state[i] for i in ids], *raw[2:]], None, conn)


def fetch_reads(
    conn: Connection,
    ids: Sequence[int],
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    limit: int | None = None,
    offset: int = 0,
    camera_ids: Sequence[int] | None = None,
    min_confidence: float | None = None,
    described: Described | None = None,
    plates: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Reads of the given plate ids in ``[since, until]``, oldest first, at most ``limit`` rows after the
    first ``offset``.

    ``plates`` (``plate_id``, ``plate``, ``state`` of every id), when the caller holds them, names the
    reads' plates instead of a join to the plates for every read (a vague pattern's thousands of reads)."""
    if not ids or (camera_ids is not None and not camera_ids):
        return empty_reads()
    params = {
        **_filter_params(conn, ids, since_ms, until_ms, camera_ids, min_confidence, described),
        "limit": _FAR if limit is None else int(limit),
        "offset": int(offset),
    }
    if plates is not None:
        return _named(conn, _rows(conn, "fetch_unnamed", _fetch_unnamed_statement, params), plates)
    return _frame(_rows(conn, "fetch_reads", _fetch_statement, params), None, conn)


#: What a read found by one of its other readings carries beside :data:`READ_SCHEMA`: the reading that
#: matched and the reader's confidence in it.
ALTERNATIVE_SCHEMA: dict[str, pl.DataType] = {
    "alternative": pl.String(),
    "alternative_confidence": pl.Float64(),
}
_NO_ALTERNATIVES = empty_reads(ALTERNATIVE_SCHEMA)


def _by_alternative_statement(dialect: str) -> sa.Select[Any]:
    r, a = s.Read.__table__.c, s.ReadAlternative.__table__
    other = s.Plate.__table__.alias("other")
    return (
        _reads_select()
        .add_columns(other.c.plate, a.c.confidence)
        .join(a, sa.and_(a.c.read_id == r.id, a.c.ts == r.ts))
        .join(other, other.c.id == a.c.plate_id)
        .where(
            _id_list(dialect, "ids", a.c.plate_id),
            *_window(dialect, a.c.ts),
            sa.not_(_id_list(dialect, "ids", r.plate_id)),  # found by its own plate already
        )
        .order_by(r.ts, r.id, a.c.rank)
        .limit(sa.bindparam("limit", type_=sa.BigInteger))
    )


def _any_alternative_statement(dialect: str) -> sa.Select[Any]:
    a = s.ReadAlternative.__table__.c
    return sa.select(a.read_id).where(_id_list(dialect, "ids", a.plate_id), *_window(dialect, a.ts)).limit(1)


def reads_by_alternative(
    conn: Connection,
    ids: Sequence[int],
    *,
    since_ms: int | None = None,
    until_ms: int | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Reads one of whose other readings is one of these plate ids, in ``[since, until]``, oldest first —
    with the ``alternative`` that matched and its ``alternative_confidence`` (one row per read: its best
    matching reading); none whose own plate is one of them (a search finds those by their plate). Most
    plates are no other read's other reading: one look in the alternatives' own index says so, and nothing
    is fetched."""
    if not ids:
        return _NO_ALTERNATIVES
    window = {
        "ids": _pack(conn, ids),
        "since": -_FAR if since_ms is None else since_ms,
        "until": _FAR if until_ms is None else until_ms,
    }
    if not _rows(conn, "any_alternative", _any_alternative_statement, window):
        return _NO_ALTERNATIVES
    params = {**window, "limit": _FAR if limit is None else int(limit)}
    rows = _rows(conn, "reads_by_alternative", _by_alternative_statement, params)
    frame = _frame(rows, ALTERNATIVE_SCHEMA, conn)
    return frame.unique("read_id", keep="first", maintain_order=True)


def alternatives_of(conn: Connection, read_ids: Sequence[int]) -> dict[int, str]:
    """Each read's other readings as people read them, best first: ``"7KX128 64%, 7KX12B 40%"``."""
    if not read_ids:
        return {}
    a, p = s.ReadAlternative.__table__.c, s.Plate.__table__.c
    rows = conn.execute(
        sa.select(a.read_id, p.plate, a.confidence)
        .join(s.Plate.__table__, p.id == a.plate_id)
        .where(_in(conn, a.read_id, list(read_ids)))
        .order_by(a.read_id, a.rank)
    ).all()
    out: dict[int, list[str]] = {}
    for read_id, plate, confidence in rows:
        out.setdefault(int(read_id), []).append(
            plate if confidence is None else f"{plate} {round(confidence * 100)}%"
        )
    return {k: ", ".join(v) for k, v in out.items()}


def _by_vehicle_statement(dialect: str) -> sa.Select[Any]:
    r = s.Read.__table__.c
    return (
        _reads_select()
        .where(
            _id_list(dialect, "vehicles", r.vehicle_id),
            *_window(dialect, r.ts),
            sa.or_(sa.bindparam("all_cams", type_=sa.Boolean), _id_list(dialect, "cams", r.camera_id)),
            sa.or_(
                sa.bindparam("any_direction", type_=sa.Boolean),
                r.direction == sa.bindparam("direction", type_=sa.String),
            ),
        )
        .order_by(r.ts, r.id)
        .limit(sa.bindparam("limit", type_=sa.BigInteger))
    )


def reads_by_vehicle(
    conn: Connection,
    described: Described,
    *,
    since_ms: int,
    until_ms: int | None = None,
    camera_ids: Sequence[int] | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Reads of these vehicle descriptions in ``[since, until]`` (by the ``(vehicle_id, ts)`` index), oldest
    first, at most ``limit``: a search by description alone."""
    if not described.vehicle_ids or (camera_ids is not None and not camera_ids):
        return empty_reads()
    params = {
        "vehicles": _pack(conn, described.vehicle_ids),
        "since": since_ms,
        "until": _FAR if until_ms is None else until_ms,
        "all_cams": camera_ids is None,
        "cams": _pack(conn, camera_ids or []),
        "any_direction": described.direction is None,
        "direction": described.direction or "",
        "limit": _FAR if limit is None else int(limit),
    }
    return _frame(_rows(conn, "reads_by_vehicle", _by_vehicle_statement, params), None, conn)


def cameras(conn: Connection) -> pl.DataFrame:
    """Every camera: ``camera_id``, ``camera`` (name), ``kind`` (fixed | mobile), place and location."""
    rows = _rows(conn, "cameras", _cameras_statement, {})  # before every canvass: straight to the driver
    columns = list(zip(*rows, strict=True)) if rows else [()] * len(_CAMERA_SCHEMA)
    return pl.DataFrame(
        [pl.Series(n, v, dtype=d) for (n, d), v in zip(_CAMERA_SCHEMA.items(), columns, strict=True)]
    )


_CAMERA_SCHEMA: dict[str, pl.DataType] = {
    "camera_id": pl.Int64(),
    "camera": pl.String(),
    "kind": pl.String(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "location": pl.String(),
}


def _cameras_statement(_dialect: str) -> sa.Select[Any]:
    c = s.Camera.__table__.c
    return sa.select(c.id, c.name, c.kind, c.lat, c.lon, c.location).order_by(c.id)


def _at_cameras_statement(dialect: str) -> sa.Select[Any]:
    reads = s.Read.__table__
    r = reads.c
    return (
        sa.select(*_unnamed_columns(r))  # the plates named from the plate index
        .select_from(reads)
        .where(
            _id_list(dialect, "cams", r.camera_id),
            r.ts >= sa.bindparam("since", type_=sa.BigInteger),
            r.ts <= sa.bindparam("until", type_=sa.BigInteger),
            r.lat.between(sa.bindparam("south", type_=sa.Float), sa.bindparam("north", type_=sa.Float)),
            r.lon.between(sa.bindparam("west", type_=sa.Float), sa.bindparam("east", type_=sa.Float)),
        )
        .order_by(r.camera_id, r.ts)
        .limit(sa.bindparam("limit", type_=sa.BigInteger))
    )


def reads_at_cameras(
    conn: Connection,
    plates: PlateIndex,
    groups: Sequence[tuple[Sequence[int], tuple[float, float, float, float] | None]],
    since_ms: int,
    until_ms: int,
    *,
    limit: int | None = None,
) -> pl.DataFrame:
    """Reads by cameras in ``[since, until]`` — by the (camera_id, ts) index — one frame for every group of
    camera ids and its optional lat/lon ``box`` (south, west, north, east), for mobile units whose reads
    carry their own position: the index holds the place too, so reads outside the box are never fetched.
    The groups' statements go in one round trip on PostgreSQL.

    The plates' text and state come from the store's plate index (``plates``), not from a join: a busy
    camera's two hours are thousands of reads, and one probe of the plates' key for each was most of a
    canvass on PostgreSQL (7 of 11 ms for 3,226 reads at 10M)."""
    statements = []
    for camera_ids, box in groups:
        if not camera_ids:
            continue
        south, west, north, east = box if box is not None else (-1000.0, -1000.0, 1000.0, 1000.0)
        params = {
            "cams": _pack(conn, camera_ids),
            "since": since_ms,
            "until": until_ms,
            "south": south,
            "north": north,
            "west": west,
            "east": east,
            "limit": _FAR if limit is None else int(limit),
        }
        statements.append(("reads_at_cameras", _at_cameras_statement, params))
    rows = [row for found in rows_together(conn, *statements) for row in found] if statements else []
    if not rows:
        return empty_reads()
    raw = list(zip(*rows, strict=True))
    try:
        plate, state = plates.texts(conn, raw[1])
    except LookupError:  # the index was out of step (a restored database): ask the database
        plate, state = _plate_texts(conn, raw[1])
    return _frame_of([raw[0], plate, state, *raw[2:]], None, conn)


def _plate_texts(conn: Connection, ids: Sequence[int]) -> tuple[list[str], list[str | None]]:
    p = s.Plate.__table__.c
    found = {int(i): (t, st) for i, t, st in conn.execute(
        sa.select(p.id, p.plate, p.state).where(_in(conn, p.id, sorted(set(ids))))
    )}  # fmt: skip
    return [found[i][0] for i in ids], [found[i][1] for i in ids]


def _beside_join(
    dialect: str, beside: Callable[[Any], sa.ColumnElement[bool]]
) -> tuple[sa.FromClause, Any, Any, Any]:
    """A plate's reads (``target``, by the ``ids`` parameter, in the window) joined to every read at the same
    camera within ``half`` of each — none older than ``floor``, none of the same plate id, and
    ``beside(columns)`` of those reads. Returns the join, its condition, the target's columns and the
    reads' beside it.

    On PostgreSQL the reads beside are a LATERAL subquery fenced with OFFSET 0: one probe of the camera's
    time index per target read, in the one day partition that read falls in (pruned as it runs). As a plain
    join the planner's generic plan, guessing at the target's reads, hashed the whole table instead: 10.6 s
    for a convoy at 50M reads."""
    reads, target = s.Read.__table__, s.Read.__table__.alias("target")
    tc = target.c
    half = sa.bindparam("half", type_=sa.BigInteger)
    # The retention floor on the companions' reads, written so that no planner takes it for an index
    # range (SQLite would walk ix_reads_ts from the floor instead of the camera's reads: seconds).
    floor = sa.bindparam("floor", type_=sa.BigInteger)

    def near(r: Any) -> sa.ColumnElement[bool]:
        return sa.and_(
            r.camera_id == tc.camera_id,
            r.ts.between(tc.ts - half, tc.ts + half),
            r.plate_id != tc.plate_id,
            (r.ts + 0) >= floor,
            beside(r),
        )

    where = sa.and_(_id_list(dialect, "ids", tc.plate_id), *_window(dialect, tc.ts))
    if dialect == "postgresql":
        lateral = sa.select(reads).where(near(reads.c)).offset(0).lateral("beside")
        return target.join(lateral, sa.true()), where, tc, lateral.c
    return target.join(reads, near(reads.c)), where, tc, reads.c


def _companions_statement(dialect: str) -> sa.Select[Any]:
    joined, where, tc, r = _beside_join(dialect, lambda r: sa.not_(_id_list(dialect, "itself", r.plate_id)))
    p = s.Plate.__table__
    counted = (
        sa.select(
            r.plate_id,
            sa.func.count(sa.distinct(tc.id)).label("times"),
            sa.func.count(sa.distinct(r.camera_id)).label("cameras"),
            sa.func.avg(r.ts - tc.ts).label("lag"),
            sa.func.avg(sa.func.abs(r.ts - tc.ts)).label("abs_lag"),
            sa.func.min(r.ts).label("first"),
            sa.func.max(r.ts).label("last"),
        )
        .select_from(joined)
        .where(where)
        .group_by(r.plate_id)
        .having(sa.func.count(sa.distinct(tc.id)) >= sa.bindparam("min_times", type_=sa.BigInteger))
        .subquery()
    )
    return sa.select(
        p.c.plate,
        p.c.state,
        counted.c.times,
        counted.c.cameras,
        counted.c.lag,
        counted.c.abs_lag,
        counted.c.first,
        counted.c.last,
    ).join(p, p.c.id == counted.c.plate_id)


def companion_counts(
    conn: Connection,
    plate_ids: Sequence[int],
    half_window_ms: int,
    since_ms: int | None,
    until_ms: int | None,
    min_times: int,
    itself: Sequence[int] = (),
    floor_ms: int | None = None,
) -> pl.DataFrame:
    """Plates read at the same camera within ``half_window_ms`` of a read of these plates, at least
    ``min_times`` separate times: counted in the database (one indexed self-join, grouped there). None of
    ``itself`` (the plate's ids under every state) is a companion: the same number read with and without
    its state at one camera is the vehicle itself. No companion read older than ``floor_ms`` counts."""
    schema = {
        "plate": pl.String(),
        "state": pl.String(),
        "times": pl.Int64(),
        "cameras": pl.Int64(),
        "mean_lag_s": pl.Float64(),
        "mean_abs_lag_s": pl.Float64(),
        "first_together": pl.Int64(),
        "last_together": pl.Int64(),
    }
    if not plate_ids:
        return pl.DataFrame(schema=schema)
    params = {
        "ids": _pack(conn, plate_ids),
        "half": int(half_window_ms),
        "since": -_FAR if since_ms is None else since_ms,
        "until": _FAR if until_ms is None else until_ms,
        "min_times": int(min_times),
        "floor": -_FAR if floor_ms is None else floor_ms,
        "itself": _pack(conn, sorted({*plate_ids, *itself})),
    }
    rows = _rows(conn, "companion_counts", _companions_statement, params)
    frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    return frame.with_columns(
        (pl.col("mean_lag_s", "mean_abs_lag_s") / 1000).round(1),
        pl.col("first_together", "last_together").cast(READ_SCHEMA["ts"]),
    )


def _beside_statement(dialect: str) -> sa.Select[Any]:
    joined, where, tc, r = _beside_join(dialect, lambda r: _id_list(dialect, "others", r.plate_id))
    plates = s.Plate.__table__
    return (
        sa.select(*_read_columns(r, plates.c), tc.id)
        .select_from(joined.join(plates, plates.c.id == r.plate_id))
        .where(where)
        .order_by(tc.id, r.ts)
    )


def reads_beside(
    conn: Connection,
    plate_ids: Sequence[int],
    others: Sequence[int],
    half_window_ms: int,
    since_ms: int | None,
    until_ms: int | None,
    floor_ms: int | None = None,
) -> pl.DataFrame:
    """Reads of the ``others`` plates (none older than ``floor_ms``) at the same camera within
    ``half_window_ms`` of a read of these plates, tagged (``tag``) with the id of that read."""
    if not plate_ids or not others:
        return empty_reads({"tag": pl.Int64()})
    params = {
        "ids": _pack(conn, plate_ids),
        "others": _pack(conn, others),
        "half": int(half_window_ms),
        "since": -_FAR if since_ms is None else since_ms,
        "until": _FAR if until_ms is None else until_ms,
        "floor": -_FAR if floor_ms is None else floor_ms,
    }
    return _frame(_rows(conn, "reads_beside", _beside_statement, params), {"tag": pl.Int64()}, conn)


def read_positions(
    conn: Connection, since_ms: int | None, until_ms: int | None, plate_ids: Sequence[int] | None = None
) -> pl.DataFrame:
    """Every read's plate id, time, place and camera in a window, ordered by plate then time (for clones)."""
    r = s.Read.__table__.c
    query = sa.select(r.id, r.plate_id, r.ts, r.lat, r.lon, r.camera_id).order_by(r.plate_id, r.ts, r.id)
    if since_ms is not None:
        query = query.where(r.ts >= since_ms)
    if until_ms is not None:
        query = query.where(r.ts <= until_ms)
    if plate_ids is not None:
        query = query.where(_in(conn, r.plate_id, plate_ids))
    schema = {
        "read_id": pl.Int64,
        "plate_id": pl.Int64,
        "ts": pl.Int64,
        "lat": pl.Float64,
        "lon": pl.Float64,
        "camera_id": pl.Int64,
    }
    rows = conn.execute(query).all()
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def plates_matching(conn: Connection, regex: str, state: str | None = None) -> pl.DataFrame:
    """PostgreSQL with the plates' trigram index: the distinct plates matching ``regex`` (a compiled
    pattern's: letters, digits, ``.``, ``[...]``, anchors), found by the index, in id order like the plates
    held in memory."""
    plates = s.Plate.__table__.c
    query = sa.select(plates.id, plates.plate, plates.state, plates.equiv_key).where(
        plates.plate.regexp_match(regex)
    )
    if state:
        query = query.where(plates.state == state)
    rows = conn.execute(query.order_by(plates.id)).all()
    return pl.DataFrame(rows, schema=PLATE_SCHEMA, orient="row")


def plates_by_key(conn: Connection, index: PlateIndex, key: str, max_edits: int) -> pl.DataFrame:
    """Distinct plates whose equivalence key is within ``max_edits`` of ``key``.

    Up to one edit, every variant of the key (a few hundred) is looked up in the plates held
    in memory, grouped by key; beyond that, the keys in memory are scanned.
    """
    if max_edits <= 1:
        by_key = index.by_key(conn)
        rows = [row for variant in key_variants(key, max_edits) for row in by_key.get(variant, ())]
        rows.sort()
        return pl.DataFrame(rows, schema=PLATE_SCHEMA, orient="row")  # a few plates: row by row (_frame_of)
    frame = index.frame(conn)
    keys = [k for k, _d in within(key, frame["equiv_key"].unique().to_list(), max_edits)]
    return frame.filter(pl.col("equiv_key").is_in(keys))


def reads_by_id(conn: Connection, read_ids: Sequence[int]) -> pl.DataFrame:
    """The reads with these ids (any order)."""
    if not read_ids:
        return empty_reads()
    return _frame(
        conn.execute(_reads_select().where(_in(conn, s.Read.__table__.c.id, read_ids))).all(), None, conn
    )


def describe_read_pairs(conn: Connection, pairs: pl.DataFrame) -> pl.DataFrame:
    """Pairs of reads (``first_read``, ``second_read``) with the plate, time, camera and place of each."""
    reads = reads_by_id(conn, pairs["first_read"].to_list() + pairs["second_read"].to_list())
    side = reads.select("read_id", "plate", "state", "ts", "camera", "lat", "lon")
    first = side.rename({c: f"first_{c}" for c in ("ts", "camera", "lat", "lon")})
    second = side.drop("plate", "state").rename({c: f"second_{c}" for c in ("ts", "camera", "lat", "lon")})
    return (
        pairs.join(first, left_on="first_read", right_on="read_id")
        .join(second, left_on="second_read", right_on="read_id")
        .select(
            "plate",
            "state",
            "kmh",
            "distance_m",
            "seconds",
            "first_read",
            "first_ts",
            "first_camera",
            "first_lat",
            "first_lon",
            "second_read",
            "second_ts",
            "second_camera",
            "second_lat",
            "second_lon",
        )
        .sort("kmh", "plate", descending=[True, False])
    )


def agency(conn: Connection, name: str) -> sa.Row[Any] | None:
    """A registered agency by name: its id, kind and state (None when there is none)."""
    return conn.execute(
        sa.select(s.Agency.id, s.Agency.kind, s.Agency.state).where(s.Agency.name == name)
    ).first()


def image_paths(conn: Connection, read_ids: list[int]) -> dict[int, str | None]:
    """Each read's image file, by read id."""
    rows = conn.execute(sa.select(s.Read.id, s.Read.image_path).where(s.Read.id.in_(read_ids))).all()
    return {int(r[0]): r[1] for r in rows}
