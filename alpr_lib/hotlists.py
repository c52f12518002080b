"""Hotlists and alerts: plates of interest, and the reads that match them.

A match creates an ``unverified`` alert; nobody acts on it before the plate is
verified against the state system (LEDS in Oregon, NCIC nationally).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .plates import equivalence_key, normalize
from .store import schema as s

__all__ = ["HOTLIST_KINDS", "add_entries", "match_new_reads"]

HOTLIST_KINDS = ("stolen-vehicle", "stolen-plate", "wanted", "missing", "warrant")


def add_entries(conn: Connection, entries: pl.DataFrame) -> int:
    """Add hotlist entries (columns ``hotlist``, ``plate``, ``state``, ``kind``, ``note``).

    Hotlists named in ``hotlist`` are created when missing. Returns the entries added.
    """
    now = dt.datetime.now(dt.UTC)
    ids: dict[str, int] = dict(conn.execute(sa.select(s.Hotlist.name, s.Hotlist.id)).all())
    rows = []
    for e in entries.iter_rows(named=True):
        if e["kind"] not in HOTLIST_KINDS:
            raise ValueError(f"unknown hotlist kind {e['kind']!r}; use one of {', '.join(HOTLIST_KINDS)}")
        if e["hotlist"] not in ids:
            ids[e["hotlist"]] = conn.execute(
                sa.insert(s.Hotlist)
                .values(name=e["hotlist"], source="", updated_at=now)
                .returning(s.Hotlist.id)
            ).scalar_one()
        plate = normalize(e["plate"])
        rows.append(
            {
                "hotlist_id": ids[e["hotlist"]],
                "plate": plate,
                "state": e.get("state") or "",
                "equiv_key": equivalence_key(plate),
                "kind": e["kind"],
                "note": e.get("note") or "",
                "added_at": now,
            }
        )
    if rows:
        conn.execute(sa.insert(s.HotlistEntry), rows)
    return len(rows)


def match_new_reads(conn: Connection, after_read_id: int) -> int:
    """Create an unverified alert for every read with id above ``after_read_id`` whose plate is on a hotlist.

    An entry without a state matches the plate in any state. Returns the alerts created.
    """
    r, p, e = s.Read.__table__, s.Plate.__table__, s.HotlistEntry.__table__
    select = (
        sa.select(
            r.c.id,
            e.c.id,
            r.c.ts,
            sa.literal("exact"),
            sa.literal("unverified"),
            sa.literal(dt.datetime.now(dt.UTC), s.UTCDateTime),
        )
        .select_from(r.join(p, p.c.id == r.c.plate_id).join(e, e.c.plate == p.c.plate))
        .where(r.c.id > after_read_id, sa.or_(e.c.state == "", e.c.state == p.c.state))
    )
    result = conn.execute(
        sa.insert(s.Alert).from_select(
            ["read_id", "entry_id", "read_ts", "match", "status", "created_at"], select
        )
    )
    return max(result.rowcount, 0)


def max_read_id(conn: Connection) -> int:
    """The highest read id so far (0 for an empty store): new reads get larger ids."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(s.Read.id), 0))).scalar_one())
