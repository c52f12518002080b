"""The case registry: which investigations exist, their offense, who works them — and the rule that ties
every investigation search to one.

Audits of ALPR systems (California State Auditor 2019-118, EFF's 2025 review of search logs) found searches
justified with "investigation" and no case. Here a supervisor opens a case (its number, an offense category
from :data:`OFFENSES` — the NIBRS Group A offense categories — and its members), assigns members and closes
it. :func:`check_case` is the gate's rule: an ``investigation`` names an open registered case its member is
assigned to; a ``missing-person`` search names the missing-person report number (the department's format);
a ``hit-verification`` names the alert it verifies (its id); ``administrative`` and ``training`` keep their
own rules. A supervisor may override the registry for one member and one case number for a day, with a
reason (:func:`grant_override`); searches under it carry the override and are flagged in the audit review.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import AccessDenied, InvalidCaseNumber, InvalidInput, NotFound
from ..hotlists import alerts_count
from ..store import records
from ..store import schema as s
from ..store.queries import cached_rows
from .purpose import Policy, Why, check_case_number

__all__ = [
    "OFFENSES",
    "OVERRIDE_HOURS",
    "assign",
    "case_list",
    "check_case",
    "close",
    "grant_override",
    "open_case",
]

#: The offense categories a case is opened under: the NIBRS Group A offense categories, by the name the CLI
#: and dashboards use.
OFFENSES: dict[str, str] = {
    "animal-cruelty": "Animal cruelty",
    "arson": "Arson",
    "assault": "Assault offenses",
    "bribery": "Bribery",
    "burglary": "Burglary / breaking and entering",
    "counterfeiting": "Counterfeiting / forgery",
    "vandalism": "Destruction / damage / vandalism of property",
    "drugs": "Drug / narcotic offenses",
    "embezzlement": "Embezzlement",
    "extortion": "Extortion / blackmail",
    "fraud": "Fraud offenses",
    "gambling": "Gambling offenses",
    "homicide": "Homicide offenses",
    "human-trafficking": "Human trafficking",
    "kidnapping": "Kidnapping / abduction",
    "larceny": "Larceny / theft offenses",
    "motor-vehicle-theft": "Motor vehicle theft",
    "pornography": "Pornography / obscene material",
    "prostitution": "Prostitution offenses",
    "robbery": "Robbery",
    "sex-offenses": "Sex offenses",
    "stolen-property": "Stolen property offenses",
    "weapons": "Weapon law violations",
}

#: How long a supervisor's override lasts.
OVERRIDE_HOURS = 24

_C, _M, _O, _U = s.Case.__table__, s.CaseMember.__table__, s.CaseOverride.__table__, s.User.__table__


def _user(conn: Connection, name: str) -> int:
    uid = records.user_id(conn, name)
    if uid is None:
        raise NotFound(f"no user named {name!r}")
    return uid


def _case(conn: Connection, number: str) -> sa.Row[Any] | None:
    return conn.execute(sa.select(_C).where(_C.c.number == number)).first()


def open_case(
    conn: Connection,
    policy: Policy,
    number: str,
    *,
    offense: str,
    members: Sequence[str],
    by: int,
    now: dt.datetime,
    title: str = "",
) -> int:
    """Open (register) a case with its offense and assigned members; returns its id. A number a hold or
    release used before is registered now; one already open or closed is refused."""
    number = check_case_number(number, policy)
    if offense not in OFFENSES:
        raise InvalidInput(f"unknown offense category; use one of {', '.join(OFFENSES)}")
    if not members:
        raise InvalidInput("assign the case to at least one member (--assign NAME)")
    ids = [_user(conn, m) for m in dict.fromkeys(members)]
    found = _case(conn, number)
    values = {"offense": offense, "opened_by": by, "opened_at": now, "status": "open", "title": title}
    if found is not None and found.opened_by is not None:
        raise InvalidInput(f"case {number} is already in the registry ({found.status})")
    if found is None:
        case_id = int(
            conn.execute(sa.insert(_C).values(number=number, **values).returning(_C.c.id)).scalar_one()
        )
    else:
        case_id = int(found.id)
        conn.execute(sa.update(_C).where(_C.c.id == case_id).values(**values))
    for uid in ids:
        conn.execute(sa.insert(_M).values(case_id=case_id, user_id=uid, added_at=now, added_by=by))
    return case_id


def _registered(conn: Connection, number: str, policy: Policy) -> sa.Row[Any]:
    found = _case(conn, check_case_number(number, policy))
    if found is None or found.opened_by is None:
        raise NotFound(f"case {number} is not in the registry (a supervisor opens it: workbench cases open)")
    return found


def assign(conn: Connection, policy: Policy, number: str, member: str, *, by: int, now: dt.datetime) -> None:
    """Add a member to an open case (a member already on it is refused)."""
    found = _registered(conn, number, policy)
    if found.status != "open":
        raise InvalidInput(f"case {number} is closed")
    uid = _user(conn, member)
    if conn.execute(sa.select(_M.c.user_id).where(_M.c.case_id == found.id, _M.c.user_id == uid)).first():
        raise InvalidInput(f"{member} is already assigned to case {number}")
    conn.execute(sa.insert(_M).values(case_id=found.id, user_id=uid, added_at=now, added_by=by))


def close(conn: Connection, policy: Policy, number: str, *, by: int, now: dt.datetime) -> None:
    """Close an open case: no investigation search names it from now on."""
    found = _registered(conn, number, policy)
    if found.status != "open":
        raise InvalidInput(f"case {number} is already closed")
    conn.execute(
        sa.update(_C).where(_C.c.id == found.id).values(status="closed", closed_at=now, closed_by=by)
    )


def grant_override(
    conn: Connection,
    policy: Policy,
    number: str,
    member: str,
    *,
    reason: str,
    by: int,
    now: dt.datetime,
) -> int:
    """Let ``member`` search for case ``number`` for :data:`OVERRIDE_HOURS` hours although not assigned to it
    (or although it is not open in the registry); only with a reason. Returns the override's id."""
    number = check_case_number(number, policy)
    reason = " ".join((reason or "").split())
    if len(reason) < 10:
        raise InvalidInput("an override needs a reason of a few words (10 characters at least)")
    uid = _user(conn, member)
    values = {
        "number": number,
        "user_id": uid,
        "reason": reason[:2000],
        "granted_by": by,
        "granted_at": now,
        "expires_at": now + dt.timedelta(hours=OVERRIDE_HOURS),
    }
    return int(conn.execute(sa.insert(_O).values(**values).returning(_O.c.id)).scalar_one())


#: What a hit verification does before it knows its alert: list the alerts, look at a hit's crop, record the
#: verification (which names its alert).
_VERIFYING = frozenset({"alerts.list", "alerts.verify", "crop"})


def _case_check(_dialect: str) -> sa.Select[Any]:
    assigned = sa.exists().where(
        _M.c.case_id == _C.c.id, _M.c.user_id == sa.bindparam("uid", type_=sa.Integer)
    )
    return sa.select(_C.c.opened_by, _C.c.status, assigned).where(
        _C.c.number == sa.bindparam("number", type_=sa.String)
    )


def case_probe(why: Why | None, user_id: int) -> tuple[str, Any, dict[str, Any]] | None:
    """The statement :func:`check_case` runs for ``why`` (as :func:`~alpr_lib.store.queries.rows_together`
    takes it), for the gate to send with its own; None when it runs none."""
    if why is None or why.purpose != "investigation" or not why.case:
        return None
    return "case_check", _case_check, {"number": why.case, "uid": user_id}


def check_case(
    conn: Connection,
    why: Why,
    user_id: int,
    now: dt.datetime,
    operation: str,
    *,
    probed: tuple[str, list[Any]] | None = None,
) -> int | None:
    """Raise unless the purpose's case may be searched for by this member now; returns the id of the
    supervisor's override it relies on, if it does. ``probed``: the case number :func:`case_probe`'s
    statement was run for, and its rows (used when it is this purpose's case)."""
    if why.purpose == "hit-verification":
        if why.case is None and operation in _VERIFYING:
            return None
        if not (why.case or "").isdigit():
            raise InvalidCaseNumber("a hit verification names the alert it verifies: --case ALERT_ID")
        if not alerts_count(conn, alert_id=int(why.case)):
            raise InvalidCaseNumber(f"there is no alert {why.case} to verify")
        return None
    if why.purpose != "investigation":
        return None
    number = why.case or ""
    # One statement, compiled once: it runs before every investigation search (sent with the gate's).
    if probed is not None and probed[0] == number:
        rows = probed[1]
    else:
        rows = cached_rows(conn, "case_check", _case_check, {"number": number, "uid": user_id})
    found = rows[0] if rows else None  # (opened_by, status, assigned)
    if found is not None and found[0] is not None and found[1] == "open" and found[2]:
        return None
    override = conn.execute(
        sa.select(_O.c.id)
        .where(_O.c.number == number, _O.c.user_id == user_id, _O.c.expires_at > now)
        .order_by(_O.c.id.desc())
        .limit(1)
    ).scalar()
    if override is not None:
        return int(override)
    if found is None or found[0] is None:
        raise AccessDenied(f"case {number} is not open in the case registry; a supervisor opens it")
    if found[1] != "open":
        raise AccessDenied(f"case {number} is closed; a closed case is not searched")
    raise AccessDenied(f"you are not assigned to case {number}; a supervisor assigns members")


_LIST_COLUMNS = {
    "case": pl.String,
    "offense": pl.String,
    "status": pl.String,
    "opened_at": pl.Datetime("us", "UTC"),
    "opened_by": pl.String,
    "closed_at": pl.Datetime("us", "UTC"),
    "members": pl.List(pl.String),
}


def case_list(conn: Connection, *, member: int | None = None, status: str | None = None) -> pl.DataFrame:
    """Registered cases (those ``member`` is assigned to, when given), newest first, with their members."""
    opener = _U.alias("opener")
    query = (
        sa.select(
            _C.c.id, _C.c.number, _C.c.offense, _C.c.status, _C.c.opened_at, opener.c.name, _C.c.closed_at
        )
        .select_from(_C.outerjoin(opener, opener.c.id == _C.c.opened_by))
        .where(_C.c.opened_by.is_not(None))
        .order_by(_C.c.opened_at.desc(), _C.c.id.desc())
    )
    if status:
        query = query.where(_C.c.status == status)
    if member is not None:
        query = query.where(_C.c.id.in_(sa.select(_M.c.case_id).where(_M.c.user_id == member)))
    rows = conn.execute(query).all()
    members: dict[int, list[str]] = {}
    if rows:
        for case_id, name in conn.execute(
            sa.select(_M.c.case_id, _U.c.name)
            .join(_U, _U.c.id == _M.c.user_id)
            .where(_M.c.case_id.in_([r[0] for r in rows]))
            .order_by(_U.c.name)
        ):
            members.setdefault(int(case_id), []).append(name)
    data = [(*r[1:], members.get(int(r[0]), [])) for r in rows]
    return pl.DataFrame(data, schema=_LIST_COLUMNS, orient="row")


def registry_frames(conn: Connection) -> tuple[pl.DataFrame, pl.DataFrame]:
    """For the audit review: each registered case's number and when it closed; each assignment's case
    number, member name and when it was made."""
    cases = conn.execute(sa.select(_C.c.number, _C.c.closed_at).where(_C.c.opened_by.is_not(None))).all()
    added = conn.execute(
        sa.select(_C.c.number, _U.c.name, _M.c.added_at)
        .join(_C, _C.c.id == _M.c.case_id)
        .join(_U, _U.c.id == _M.c.user_id)
    ).all()
    return (
        pl.DataFrame(cases, schema={"case": pl.String, "closed_at": pl.Datetime("us", "UTC")}, orient="row"),
        pl.DataFrame(
            added,
            schema={"case": pl.String, "user_name": pl.String, "added_at": pl.Datetime("us", "UTC")},
            orient="row",
        ),
    )
