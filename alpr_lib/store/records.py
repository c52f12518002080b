"""The department's records beside the reads: members and their training, agencies, holds, the audit log's
entries, the map's layers. Plain SQL, no gate: the door (``alpr_lib.access``) decides who may call these.

>>> with store.atomic() as conn:  # doctest: +SKIP
...     users(conn, now)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator, Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection, RowMapping

from . import schema as s

__all__ = [
    "add_agency",
    "add_hold",
    "add_training",
    "add_user",
    "agencies",
    "audit_entries",
    "hold_status",
    "member_profiles",
    "holds",
    "meta_value",
    "set_meta_value",
    "missing_reads",
    "update_hold",
    "end_sessions",
    "update_user",
    "user_id",
    "users",
]


def meta_value(conn: Connection, key: str) -> str | None:
    """A value of the database's own metadata (``roads``, ``synthetic``, ``signing_key`` ...)."""
    value = conn.execute(sa.select(s.Meta.value).where(s.Meta.key == key)).scalar()
    return None if value is None else str(value)


def set_meta_value(conn: Connection, key: str, value: str) -> None:
    conn.execute(sa.delete(s.Meta).where(s.Meta.key == key))
    conn.execute(sa.insert(s.Meta).values(key=key, value=value))


# -- members ------------------------------------------------------------------------------------


def user_id(conn: Connection, name: str) -> int | None:
    found = conn.execute(sa.select(s.User.id).where(s.User.name == name)).scalar()
    return None if found is None else int(found)


def add_user(
    conn: Connection, *, name: str, full_name: str, role: str, password_hash: str, now: dt.datetime
) -> None:
    role_id = conn.execute(sa.select(s.Role.id).where(s.Role.name == role)).scalar_one()
    conn.execute(
        sa.insert(s.User).values(
            name=name, full_name=full_name, role_id=role_id, password_hash=password_hash, disabled=False,
            failed_logons=0, created_at=now, password_changed_at=now,
        )
    )  # fmt: skip


def update_user(conn: Connection, uid: int, **values: Any) -> None:
    conn.execute(sa.update(s.User).where(s.User.id == uid).values(**values))


def end_sessions(conn: Connection, uid: int, now: dt.datetime, *, keep: int | None = None) -> None:
    """End every live session of member ``uid`` (but ``keep``)."""
    where = [s.Session.user_id == uid, s.Session.ended_at.is_(None)]
    if keep is not None:
        where.append(s.Session.id != keep)
    conn.execute(sa.update(s.Session).where(*where).values(ended_at=now))


def users(conn: Connection, now: dt.datetime) -> pl.DataFrame:
    """Every member: name, full name, role, disabled, locked (now), when their training expires, the training
    exercises they completed, their title and agency (a contractor marked), whether they use a second factor
    and whether their password waits to be changed after a reset."""
    expires = (
        sa.select(s.TrainingRecord.user_id, sa.func.max(s.TrainingRecord.expires_on).label("trained_until"))
        .group_by(s.TrainingRecord.user_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(
            s.User.name, s.User.full_name, s.Role.name, s.User.disabled, s.User.locked_until,
            expires.c.trained_until, s.User.title, s.User.agency, s.User.contractor,
            s.User.mfa_secret.is_not(None), s.User.must_change_password,
        )
        .join(s.Role, s.Role.id == s.User.role_id)
        .join(expires, expires.c.user_id == s.User.id, isouter=True)
        .order_by(s.User.name)
    ).all()  # fmt: skip
    done: dict[str, list[str]] = {}
    for name, exercise in conn.execute(
        sa.select(s.User.name, s.TrainingCompletion.exercise)
        .join(s.User, s.User.id == s.TrainingCompletion.user_id)
        .order_by(s.TrainingCompletion.exercise)
    ):
        done.setdefault(name, []).append(exercise)
    schema = {
        "name": pl.String,
        "full_name": pl.String,
        "role": pl.String,
        "disabled": pl.Boolean,
        "locked": pl.Boolean,
        "trained_until": pl.Date,
        "exercises": pl.List(pl.String),
        "title": pl.String,
        "agency": pl.String,
        "contractor": pl.Boolean,
        "second_factor": pl.Boolean,
        "must_change_password": pl.Boolean,
    }
    return pl.DataFrame(
        [
            (
                r[0],
                r[1],
                r[2],
                bool(r[3]),
                bool(r[4] and r[4] > now),
                r[5],
                done.get(r[0], []),
                r[6],
                r[7],
                bool(r[8]),
                bool(r[9]),
                bool(r[10]),
            )
            for r in rows
        ],
        schema=schema,
        orient="row",
    )


def member_profiles(conn: Connection, names: Sequence[str]) -> pl.DataFrame:
    """Members ``names`` as policy authorizes them: name, role, full name, title, agency, contractor."""
    rows = conn.execute(
        sa.select(s.User.name, s.Role.name, s.User.full_name, s.User.title, s.User.agency, s.User.contractor)
        .join(s.Role, s.Role.id == s.User.role_id)
        .where(s.User.name.in_(sorted(set(names))))
        .order_by(s.User.name)
    ).all()
    schema = {
        "name": pl.String,
        "role": pl.String,
        "full_name": pl.String,
        "title": pl.String,
        "agency": pl.String,
        "contractor": pl.Boolean,
    }
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


def add_training(
    conn: Connection,
    uid: int,
    *,
    course: str,
    completed_on: dt.date,
    expires_on: dt.date,
    recorded_by: int,
    now: dt.datetime,
) -> list[str]:
    """Record an approval of training with the exercises the member has completed; returns them."""
    done = list(
        conn.execute(
            sa.select(s.TrainingCompletion.exercise)
            .where(s.TrainingCompletion.user_id == uid)
            .order_by(s.TrainingCompletion.exercise)
        ).scalars()
    )
    conn.execute(
        sa.insert(s.TrainingRecord).values(
            user_id=uid, course=course, completed_on=completed_on, expires_on=expires_on,
            recorded_by=recorded_by, recorded_at=now, completions=json.dumps(done),
        )
    )  # fmt: skip
    return done


def complete_exercise(conn: Connection, uid: int, exercise: str, now: dt.datetime) -> bool:
    """Record that a member completed a training exercise; False when it already was."""
    t = s.TrainingCompletion.__table__.c
    if conn.execute(sa.select(t.user_id).where(t.user_id == uid, t.exercise == exercise)).first():
        return False
    conn.execute(sa.insert(s.TrainingCompletion).values(user_id=uid, exercise=exercise, completed_at=now))
    return True


# -- agencies -------------------------------------------------------------------------------------


def add_agency(conn: Connection, *, name: str, kind: str, state: str, contact: str) -> None:
    conn.execute(sa.insert(s.Agency).values(name=name, kind=kind, state=state, contact=contact))


def agency_exists(conn: Connection, name: str) -> bool:
    return conn.execute(sa.select(s.Agency.id).where(s.Agency.name == name)).first() is not None


def agencies(conn: Connection) -> pl.DataFrame:
    """The agencies data may be released to: name, kind, state, contact."""
    a = s.Agency.__table__
    rows = conn.execute(sa.select(a.c.name, a.c.kind, a.c.state, a.c.contact).order_by(a.c.name)).all()
    schema = {"name": pl.String, "kind": pl.String, "state": pl.String, "contact": pl.String}
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


# -- holds ----------------------------------------------------------------------------------------


def add_hold(
    conn: Connection,
    *,
    case_id: int,
    plate_id: int | None,
    ts_from: int | None,
    ts_to: int | None,
    reason: str,
    status: str,
    requested_by: int,
    approved_by: int | None,
    review_on: dt.date | None,
    read_ids: Sequence[int],
    now: dt.datetime,
) -> int:
    """A new hold (and the reads it names, if any); its id."""
    hold_id = conn.execute(
        sa.insert(s.Hold)
        .values(
            case_id=case_id, plate_id=plate_id, ts_from=ts_from, ts_to=ts_to, reason=reason, status=status,
            requested_by=requested_by, approved_by=approved_by, review_on=review_on, created_at=now,
        )
        .returning(s.Hold.id)
    ).scalar_one()  # fmt: skip
    if read_ids:
        conn.execute(sa.insert(s.HoldRead), [{"hold_id": hold_id, "read_id": r} for r in sorted(read_ids)])
    return int(hold_id)


def missing_reads(conn: Connection, read_ids: set[int]) -> set[int]:
    """Those of ``read_ids`` the workbench does not hold."""
    return read_ids - set(conn.execute(sa.select(s.Read.id).where(s.Read.id.in_(read_ids))).scalars())


def hold_status(conn: Connection, hold_id: int) -> str | None:
    status = conn.execute(sa.select(s.Hold.status).where(s.Hold.id == hold_id)).scalar()
    return None if status is None else str(status)


def update_hold(conn: Connection, hold_id: int, **values: Any) -> None:
    conn.execute(sa.update(s.Hold).where(s.Hold.id == hold_id).values(**values))


def holds(conn: Connection) -> pl.DataFrame:
    """Every hold: case, plate, window, reason, status, who asked, review date."""
    h, c, u, p = s.Hold.__table__, s.Case.__table__, s.User.__table__, s.Plate.__table__
    rows = conn.execute(
        sa.select(
            h.c.id, c.c.number, p.c.plate, h.c.ts_from, h.c.ts_to, h.c.reason, h.c.status, u.c.name,
            h.c.review_on,
        )
        .select_from(
            h.join(c, c.c.id == h.c.case_id)
            .join(u, u.c.id == h.c.requested_by)
            .outerjoin(p, p.c.id == h.c.plate_id)
        )
        .order_by(h.c.id)
    ).all()  # fmt: skip
    schema = {
        "hold_id": pl.Int64,
        "case": pl.String,
        "plate": pl.String,
        "from_ms": pl.Int64,
        "to_ms": pl.Int64,
        "reason": pl.String,
        "status": pl.String,
        "requested_by": pl.String,
        "review_on": pl.Date,
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


# -- the audit log --------------------------------------------------------------------------------


def audit_entries(
    conn: Connection, since: dt.datetime, until: dt.datetime, user: str | None = None
) -> Iterator[RowMapping]:
    """The audit entries in ``[since, until)``, of one member when ``user`` is given, oldest first."""
    t = s.AuditEntry.__table__
    query = sa.select(t).where(t.c.ts >= since, t.c.ts < until).order_by(t.c.id)
    if user:
        query = query.where(t.c.user_name == user)
    return iter(conn.execute(query).mappings())
