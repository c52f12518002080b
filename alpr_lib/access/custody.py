"""Custody of the records: the program's named officers, the register of copies, the destruction report.

Policy 807.2(e) puts a designee in charge of the ALPR program and 807.2(f) a custodian over its records;
:func:`name_officer` records who holds each office (every naming kept, the latest holds it). Copies made
from the data leave the database's retention behind, so each is registered (:func:`record_copy`) with its
case, what it holds — counts, never plate text — and when its hold ends: a backup when every read in it is
past retention, a release package when its case is closed. :func:`destruction_report` gives the custodian
the purges' records and the copies whose hold has ended, to confirm destroyed (:func:`confirm_destroyed`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import InvalidInput, NotFound
from ..store import schema as s

__all__ = [
    "OFFICES",
    "confirm_destroyed",
    "copies_frame",
    "destruction_report",
    "name_officer",
    "officers",
    "record_copy",
]

#: The program's offices, with the policy section that creates each and the role its holder must have.
OFFICES: dict[str, tuple[str, frozenset[str]]] = {
    "designee": ("program designee (807.2(e))", frozenset({"admin", "supervisor"})),
    "custodian": ("custodian of records (807.2(f))", frozenset({"custodian"})),
}

_O, _U, _C, _K = s.ProgramOfficer.__table__, s.User.__table__, s.Copy.__table__, s.Case.__table__


def name_officer(conn: Connection, office: str, member: str, *, by: str, now: dt.datetime) -> None:
    """Name ``member`` to ``office``; the member must hold a role the office allows."""
    if office not in OFFICES:
        raise InvalidInput(f"the offices are {', '.join(OFFICES)}")
    row = conn.execute(
        sa.select(_U.c.id, s.Role.name).join(s.Role, s.Role.id == _U.c.role_id).where(_U.c.name == member)
    ).first()
    if row is None:
        raise NotFound(f"no user named {member!r}")
    title, roles = OFFICES[office]
    if row[1] not in roles:
        raise InvalidInput(f"the {title} is a member with the {' or '.join(sorted(roles))} role")
    conn.execute(sa.insert(_O).values(office=office, user_id=row[0], named_by=by, named_at=now))


def officers(conn: Connection, *, history: bool = False) -> pl.DataFrame:
    """Who holds each office (``history``: every naming, newest first): office, member, full name, when."""
    rows = conn.execute(
        sa.select(_O.c.id, _O.c.office, _U.c.name, _U.c.full_name, _O.c.named_by, _O.c.named_at)
        .join(_U, _U.c.id == _O.c.user_id)
        .order_by(_O.c.id.desc())
    ).all()
    if not history:
        latest: dict[str, Any] = {}
        for row in rows:
            latest.setdefault(row[1], row)
        rows = list(latest.values())
    schema = {
        "office": pl.String,
        "member": pl.String,
        "full_name": pl.String,
        "named_by": pl.String,
        "named_at": pl.Datetime("us", "UTC"),
    }
    return pl.DataFrame([tuple(r[1:]) for r in rows], schema=schema, orient="row")


def record_copy(
    conn: Connection,
    *,
    kind: str,
    holds: str,
    path: str,
    made_by: str,
    now: dt.datetime,
    case_id: int | None = None,
    sha256: str = "",
    hold_until: dt.datetime | None = None,
) -> int:
    """Register a copy made from the data; returns its id."""
    values = {
        "kind": kind, "case_id": case_id, "holds": holds[:200], "path": path[:500], "sha256": sha256,
        "made_by": made_by, "made_at": now, "hold_until": hold_until,
    }  # fmt: skip
    return int(conn.execute(sa.insert(_C).values(**values).returning(_C.c.id)).scalar_one())


_COPY_SCHEMA = {
    "copy_id": pl.Int64,
    "kind": pl.String,
    "case": pl.String,
    "holds": pl.String,
    "path": pl.String,
    "made_by": pl.String,
    "made_at": pl.Datetime("us", "UTC"),
    "hold_until": pl.Datetime("us", "UTC"),
    "case_status": pl.String,
    "destroyed_at": pl.Datetime("us", "UTC"),
    "destroyed_by": pl.String,
}


def copies_frame(conn: Connection, *, due: dt.datetime | None = None) -> pl.DataFrame:
    """The register of copies, newest first; with ``due``, only those not yet confirmed destroyed whose hold
    has ended by then (its date passed, or — held while its case is open — its case closed)."""
    query = (
        sa.select(
            _C.c.id, _C.c.kind, _K.c.number, _C.c.holds, _C.c.path, _C.c.made_by, _C.c.made_at,
            _C.c.hold_until, _K.c.status, _C.c.destroyed_at, _C.c.destroyed_by,
        )
        .select_from(_C.outerjoin(_K, _K.c.id == _C.c.case_id))
        .order_by(_C.c.id.desc())
    )  # fmt: skip
    if due is not None:
        query = query.where(
            _C.c.destroyed_at.is_(None),
            sa.or_(
                sa.and_(_C.c.hold_until.is_not(None), _C.c.hold_until <= due),
                sa.and_(_C.c.hold_until.is_(None), _K.c.status == "closed"),
            ),
        )
    return pl.DataFrame(conn.execute(query).all(), schema=_COPY_SCHEMA, orient="row")


def confirm_destroyed(conn: Connection, copy_id: int, *, by: str, note: str, now: dt.datetime) -> None:
    """The custodian's confirmation that a copy is destroyed (once; the note says how)."""
    row = conn.execute(sa.select(_C.c.destroyed_at).where(_C.c.id == copy_id)).first()
    if row is None:
        raise NotFound(f"there is no copy {copy_id}")
    if row[0] is not None:
        raise InvalidInput(f"copy {copy_id} was already confirmed destroyed")
    note = " ".join((note or "").split())
    if len(note) < 4:
        raise InvalidInput("say how it was destroyed (a few words)")
    conn.execute(
        sa.update(_C).where(_C.c.id == copy_id).values(destroyed_at=now, destroyed_by=by, note=note[:2000])
    )


_DESTRUCTION_SCHEMA = {
    "purge_id": pl.Int64,
    "ran_at": pl.Datetime("us", "UTC"),
    "ran_by": pl.String,
    "finished_at": pl.Datetime("us", "UTC"),
    "cutoff_ms": pl.Int64,
    "oldest_ms": pl.Int64,
    "newest_ms": pl.Int64,
    "reads_destroyed": pl.Int64,
    "images_destroyed": pl.Int64,
    "plates_destroyed": pl.Int64,
}


def destruction_report(conn: Connection, *, now: dt.datetime, limit: int = 1000) -> dict[str, pl.DataFrame]:
    """The purges' destruction records (newest first) and the copies due to be destroyed."""
    d = s.DestructionRecord.__table__.c
    rows = conn.execute(
        sa.select(
            d.id, d.ran_at, d.ran_by, d.finished_at, d.cutoff_ts, d.oldest_ts, d.newest_ts,
            d.reads_destroyed, d.images_destroyed, d.plates_destroyed,
        )
        .order_by(d.id.desc())
        .limit(limit)
    ).all()  # fmt: skip
    return {
        "purges": pl.DataFrame(rows, schema=_DESTRUCTION_SCHEMA, orient="row"),
        "copies_due": copies_frame(conn, due=now),
    }
