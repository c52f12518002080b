"""What retention lets a search see: reads newer than the retention floor, and older reads a hold keeps.

The floor is the purge's cutoff (``now`` minus the retention period, exactly), so what the door serves and
what the purge destroys agree to the millisecond whether or not the purge has run: a read the purge would
destroy is never served. The searches clamp their window to the floor (their indexes do the rest), add
back the held reads below it (:func:`held_reads`: few, found from the holds' side) and count what they
left out (:func:`count_reads`) so the member is told ("N reads past retention not shown").
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import validate
from . import schema as s
from .queries import (
    Described,
    _frame,
    _in,
    _reads_select,
    cached_rows,
    count_of_plates,
    empty_reads,
)

__all__ = [
    "NO_HELD_READS",
    "any_active_hold",
    "any_below",
    "below_and_held",
    "count_reads",
    "floor_ms",
    "held_clause",
    "held_reads",
]

_R, _H, _HR, _P = s.Read.__table__, s.Hold.__table__, s.HoldRead.__table__, s.Plate.__table__
_HELD_PLATE, _READ_PLATE = _P.alias("held_plate"), _P.alias("read_plate")


def floor_ms(now: dt.datetime, retention_days: int) -> int:
    """The retention floor in epoch ms: reads older than this are past retention (the purge's cutoff)."""
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    try:
        cutoff = max(now - dt.timedelta(days=retention_days), validate.EARLIEST)
    except OverflowError:
        cutoff = validate.EARLIEST
    return int(cutoff.timestamp() * 1000)


def held_clause() -> sa.ColumnElement[bool]:
    """True for a read that an active hold keeps: by its id, or by its plate and time window. A hold on a
    plate keeps its reads under every state: one read names the state and the next does not, and both are
    the evidence the hold was made for."""
    by_read = sa.exists().where(_HR.c.read_id == _R.c.id, _HR.c.hold_id == _H.c.id, _H.c.status == "active")
    by_plate = sa.exists().where(
        _H.c.status == "active",
        _HELD_PLATE.c.id == _H.c.plate_id,
        _READ_PLATE.c.id == _R.c.plate_id,
        _READ_PLATE.c.plate == _HELD_PLATE.c.plate,
        sa.or_(_H.c.ts_from.is_(None), _R.c.ts >= _H.c.ts_from),
        sa.or_(_H.c.ts_to.is_(None), _R.c.ts <= _H.c.ts_to),
    )
    return sa.or_(by_read, by_plate)


def _active_hold_statement(_dialect: str) -> sa.Select[Any]:
    return sa.select(_H.c.id).where(_H.c.status == "active").limit(1)


def _oldest_statement(_dialect: str) -> sa.Select[Any]:
    return sa.select(sa.func.min(_R.c.ts))


def _facts_statement(dialect: str) -> sa.Select[Any]:
    return sa.select(_oldest_statement(dialect).scalar_subquery(), sa.exists(_active_hold_statement(dialect)))


def any_active_hold(conn: Connection) -> bool:
    """Whether any hold is active (when none is, nothing below the floor is ever served)."""
    return bool(cached_rows(conn, "any_active_hold", _active_hold_statement, {}))


def any_below(conn: Connection, floor: int) -> bool:
    """Whether any read is older than ``floor`` (none once the purge has run: nothing to count)."""
    oldest = cached_rows(conn, "oldest_read", _oldest_statement, {})[0][0]
    return oldest is not None and int(oldest) < floor


def below_and_held(conn: Connection, floor: int) -> tuple[bool, bool]:
    """:func:`any_below` and :func:`any_active_hold` in one statement: what a search asks first."""
    oldest, held = cached_rows(conn, "retention_facts", _facts_statement, {})[0]
    return oldest is not None and int(oldest) < floor, bool(held)


_HELD_EXTRA = {"plate_id": pl.Int64(), "camera_id": pl.Int64()}
#: No held reads, in :func:`held_reads`'s shape.
NO_HELD_READS = empty_reads(_HELD_EXTRA)


def held_reads(
    conn: Connection, floor: int, since_ms: int | None, until_ms: int | None, *, holds_known: bool = False
) -> pl.DataFrame:
    """The reads below ``floor`` in ``[since, until]`` that an active hold keeps, oldest first, with their
    ``plate_id`` and ``camera_id`` (for the caller's filters). Found from the holds' side — their read ids,
    their plates by text — so the expired reads are never scanned. ``holds_known``: the caller has seen an
    active hold already (:func:`below_and_held`)."""
    extra = _HELD_EXTRA
    if not holds_known and not any_active_hold(conn):
        return NO_HELD_READS
    r = _R.c
    low = -(2**62) if since_ms is None else since_ms
    high = floor - 1 if until_ms is None else min(until_ms, floor - 1)
    in_window = sa.and_(r.ts >= low, r.ts <= high)
    by_read = sa.select(_HR.c.read_id).join(_H, _H.c.id == _HR.c.hold_id).where(_H.c.status == "active")
    by_plate = (
        sa.select(_R.c.id)
        .select_from(
            _H.join(_HELD_PLATE, _HELD_PLATE.c.id == _H.c.plate_id)
            .join(_READ_PLATE, _READ_PLATE.c.plate == _HELD_PLATE.c.plate)
            .join(_R, _R.c.plate_id == _READ_PLATE.c.id)
        )
        .where(
            _H.c.status == "active",
            in_window,
            sa.or_(_H.c.ts_from.is_(None), r.ts >= _H.c.ts_from),
            sa.or_(_H.c.ts_to.is_(None), r.ts <= _H.c.ts_to),
        )
    )
    statement = (
        _reads_select()
        .add_columns(r.plate_id, r.camera_id)
        .where(in_window, sa.or_(r.id.in_(by_read), r.id.in_(by_plate)))
        .order_by(r.ts, r.id)
    )
    return _frame(conn.execute(statement).all(), extra, conn)


def count_reads(
    conn: Connection,
    since_ms: int | None,
    until_ms: int,
    *,
    plate_ids: Sequence[int] | None = None,
    camera_ids: Sequence[int] | None = None,
    min_confidence: float | None = None,
    described: Described | None = None,
) -> int:
    """How many reads lie in ``[since, until]`` under these filters (of these plates: by the plate index)."""
    if plate_ids is not None:
        return count_of_plates(
            conn, plate_ids, since_ms, until_ms, camera_ids=camera_ids, min_confidence=min_confidence,
            described=described,
        )  # fmt: skip
    r = _R.c  # every plate (clones over a window): by the time index
    query = sa.select(sa.func.count()).select_from(_R).where(r.ts <= until_ms)
    if since_ms is not None:
        query = query.where(r.ts >= since_ms)
    if camera_ids is not None:
        if not camera_ids:
            return 0
        query = query.where(_in(conn, r.camera_id, camera_ids))
    if min_confidence is not None:
        query = query.where(r.confidence >= min_confidence)
    if described is not None and described.vehicle_ids is not None:
        query = query.where(_in(conn, r.vehicle_id, described.vehicle_ids))
    if described is not None and described.direction is not None:
        query = query.where(r.direction == described.direction)
    return int(conn.execute(query).scalar_one())
