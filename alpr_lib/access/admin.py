"""Setting a database up: the first administrator, the demo city, facts about a store.

These are the only operations that run without a logged-in member: they create the
members who log in, and ``database_info`` gives counts only, never plate data.
"""

from __future__ import annotations

import datetime as dt
import secrets
import zoneinfo
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy import Connection

from ..errors import InvalidInput, NotASyntheticStore
from ..ingest import load_city
from ..retention import purge_status
from ..store import Store, mask_url
from ..store import schema as s
from ..synth import CityConfig, generate
from . import audit, custody
from .auth import check_password_policy, hash_password
from .session import DEFAULT_TRAINING_COURSE

__all__ = ["DEMO_CASES", "DEMO_USERS", "build_demo", "database_info", "init_database"]

#: The demo's members: name -> (role, trained). ``trainee`` is an analyst not yet trained.
DEMO_USERS: dict[str, tuple[str, bool]] = {
    "admin": ("admin", True),
    "analyst": ("analyst", True),
    "investigator": ("investigator", True),
    "supervisor": ("supervisor", True),
    "trainer": ("trainer", True),
    "trainee": ("analyst", False),
    "custodian": ("custodian", True),
}

#: The demo's case registry, opened by the supervisor: number -> (offense, assigned members, open). The
#: burglary series is the one the demo's scenarios and the training notebooks work; the closed case shows a
#: search refused once a case is closed.
DEMO_CASES: dict[str, tuple[str, tuple[str, ...], bool]] = {
    "26-01234": ("burglary", ("admin", "analyst", "investigator", "trainee"), True),
    "26-03131": ("burglary", ("analyst", "investigator"), True),
    "26-04242": ("vandalism", ("analyst", "investigator"), True),  # the hit and run on Bay Street
    "26-05151": ("motor-vehicle-theft", ("analyst", "investigator"), True),
    "26-05555": ("robbery", ("admin", "analyst", "investigator"), True),
    "26-00077": ("larceny", ("investigator",), False),
}


def _demo_cases(conn: sa.Connection, users: dict[str, int], opened: dt.datetime) -> None:
    for number, (offense, members, still_open) in DEMO_CASES.items():
        case_id = conn.execute(
            sa.insert(s.Case)
            .values(number=number, offense=offense, opened_by=users["supervisor"], opened_at=opened)
            .returning(s.Case.id)
        ).scalar_one()
        for name in members:
            conn.execute(
                sa.insert(s.CaseMember).values(
                    case_id=case_id, user_id=users[name], added_at=opened, added_by=users["supervisor"]
                )
            )
        if not still_open:
            closed = {
                "status": "closed",
                "closed_at": opened + dt.timedelta(days=1),
                "closed_by": users["supervisor"],
            }
            conn.execute(sa.update(s.Case).where(s.Case.id == case_id).values(**closed))


def _add_user(
    conn: sa.Connection,
    name: str,
    role: str,
    password_hash: str,
    trained_by: int | None = None,
    trained: bool = False,
) -> int:
    now = dt.datetime.now(dt.UTC)
    role_id = conn.execute(sa.select(s.Role.id).where(s.Role.name == role)).scalar_one()
    uid = conn.execute(
        sa.insert(s.User)
        .values(
            name=name,
            full_name="",
            role_id=role_id,
            password_hash=password_hash,
            disabled=False,
            failed_logons=0,
            created_at=now,
            password_changed_at=now,
        )
        .returning(s.User.id)
    ).scalar_one()
    if trained:
        today = now.date()
        conn.execute(
            sa.insert(s.TrainingRecord).values(
                user_id=uid,
                course=DEFAULT_TRAINING_COURSE,
                completed_on=today,
                expires_on=today + dt.timedelta(days=365),
                recorded_by=trained_by or uid,
                recorded_at=now,
            )
        )
    return int(uid)


def init_database(store: Store, admin: str, password: str) -> dict[str, Any]:
    """Create the schema (or bring it up to date) and the first administrator.

    Refuses when the database already has members: add more with ``users add``.
    """
    check_password_policy(admin, password)
    store.migrate()
    with store.atomic() as conn:
        if conn.execute(sa.select(sa.func.count()).select_from(s.User)).scalar_one():
            raise InvalidInput("the database already has users; add more with `workbench users add`")
        audit.create_key(conn, exist_ok=True)  # every entry from the first administrator on is signed
        _add_user(conn, admin, "admin", hash_password(password))
        audit.append(
            conn,
            operation="init",
            outcome="ok",
            client="cli",
            user_name=admin,
            role="admin",
            params={"admin": admin},
        )
    return store.info()


def build_demo(
    store: Store,
    *,
    reads: int,
    seed: int,
    password: str | None = None,
    start: dt.date | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Replace the database with a fresh synthetic city and the demo members.

    Refuses to touch a database that holds real data. ``password`` is every demo
    member's password; when None one is generated and returned as ``password``.
    ``progress`` is called as ``progress(stage, done, total)``.
    """
    _clear_synthetic(store)
    generated = password is None
    password = password or secrets.token_urlsafe(12)
    for name in DEMO_USERS:
        check_password_policy(name, password)
    tell = progress or (lambda _stage, _done, _total: None)
    tz = zoneinfo.ZoneInfo(CityConfig.timezone)
    # The month that ended at the department's last midnight: recent, and never in the future.
    start = start or (dt.datetime.now(tz).date() - dt.timedelta(days=30))
    city = generate(CityConfig(reads=reads, seed=seed, start=start), progress=lambda msg: tell(msg, 0, 0))
    store.migrate()
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        tell("loading reads", done, reads)

    report = load_city(store, city, progress=step)
    pw_hash = hash_password(password)  # one hash per demo: argon2 is slow on purpose
    with store.atomic() as conn:
        audit.create_key(conn)  # the demo's own key: every entry of its history is signed
        admin_id = None
        users: dict[str, int] = {}
        for name, (role, trained) in DEMO_USERS.items():
            uid = _add_user(conn, name, role, pw_hash, trained_by=admin_id, trained=trained)
            admin_id = admin_id or uid
            users[name] = uid
        opened = dt.datetime.combine(start, dt.time(8), tz).astimezone(dt.UTC)
        _demo_cases(conn, users, opened)
        custody.name_officer(conn, "designee", "admin", by="admin", now=opened)
        custody.name_officer(conn, "custodian", "custodian", by="admin", now=opened)
        _demo_agencies(conn)
        history = _demo_history(conn, start, seed, tz)
        audit.append(
            conn,
            operation="demo",
            outcome="ok",
            client="cli",
            user_name="admin",
            role="admin",
            params={"reads": reads, "seed": seed, "start": start.isoformat()},
            result_count=report.imported,
        )
    info = store.info()
    info["demo_users"] = {name: role for name, (role, _) in DEMO_USERS.items()}
    info["demo_audit_history"] = history
    info["password"] = password if generated else None
    return info


#: Agencies the demo may release data to: the county's prosecutor and a neighbouring sheriff (in-state),
#: and one that must be refused (not a law-enforcement or prosecutorial agency).
DEMO_AGENCIES = (
    ("Lane County District Attorney", "prosecutorial", "OR"),
    ("Douglas County Sheriff's Office", "law-enforcement", "OR"),
    ("Florence Neighbourhood Watch", "other", "OR"),
)


def _demo_agencies(conn: Connection) -> None:
    for name, kind, state in DEMO_AGENCIES:
        conn.execute(sa.insert(s.Agency).values(name=name, kind=kind, state=state, contact=""))


def _demo_history(conn: Connection, start: dt.date, seed: int, tz: zoneinfo.ZoneInfo) -> int:
    """A month of the department's searches in the demo's audit log, for supervisors to learn the review on.

    Entries say ``detail='synthetic demo history'`` (they never happened). Weekday searches by the analyst
    and the investigator in working hours under case numbers, and three patterns the review should raise: the
    investigator looking up one plate late at night, four times, without a consistent case (``repeat-plate``,
    ``off-hours``); and one day on which the analyst ran 70 searches for a large case (``volume`` — a flag
    to ask about, which has a good answer)."""
    rng = np.random.default_rng(seed + 1)
    plates = [p for (p,) in conn.execute(sa.select(s.Plate.plate).order_by(s.Plate.id).limit(400))]
    if len(plates) < 10:
        return 0
    cases = [f"26-0{n}" for n in rng.integers(1000, 9999, 12)]
    # (time, member, operation, parameters, case, purpose, reason)
    entries: list[tuple[dt.datetime, str, str, dict[str, Any], str | None, str, str]] = []

    def at(day: dt.date, hour: float) -> dt.datetime:
        local = dt.datetime.combine(day, dt.time()) + dt.timedelta(hours=hour)
        return local.replace(tzinfo=tz).astimezone(dt.UTC)

    def search(when: dt.datetime, user: str, case: str) -> None:
        op = ("search.plate", "search.partial", "timeline", "canvass")[int(rng.integers(4))]
        plate = plates[int(rng.integers(len(plates)))]
        params: dict[str, Any] = {"plate": plate} if op in ("search.plate", "timeline") else {}
        if op == "search.partial":
            params = {"pattern": plate[:3] + "*"}
        entries.append((when, user, op, params, case, "investigation", "case work"))

    busy = start + dt.timedelta(days=15)
    while busy.weekday() >= 5:  # a working day
        busy += dt.timedelta(days=1)
    for offset in range(30):
        day = start + dt.timedelta(days=offset)
        if day.weekday() >= 5:
            continue
        for user, (lo, hi), n in (("analyst", (8, 17), 6), ("investigator", (8, 16), 5)):
            count = 70 if (user == "analyst" and day == busy) else int(rng.integers(n - 2, n + 3))
            for _ in range(count):
                case = cases[int(rng.integers(len(cases)))]
                search(at(day, rng.uniform(lo, hi)), user, case)
    target = plates[7]
    for k, (offset, hour) in enumerate(((3, 22.4), (9, 23.1), (16, 22.8), (24, 23.6))):
        case = (cases[0], None, cases[5], None)[k]
        purpose = "investigation" if case else "missing-person"
        when = at(start + dt.timedelta(days=offset), hour)
        entries.append(
            (when, "investigator", "search.plate", {"plate": target}, case, purpose, "checking a vehicle")
        )
    now = dt.datetime.now(dt.UTC)
    entries = sorted((e for e in entries if e[0] < now), key=lambda e: e[0])
    for when, user, op, params, case, purpose, reason in entries:
        audit.append(
            conn,
            operation=op,
            outcome="ok",
            client=("lab", "dashboard")[int(rng.integers(2))],
            user_name=user,
            role=DEMO_USERS[user][0],
            params=params,
            purpose=purpose,
            case_number=case,
            reason=reason,
            result_count=int(rng.integers(0, 40)),
            detail="synthetic demo history",
            now=when,
        )
    return len(entries)


def _clear_synthetic(store: Store) -> None:
    """Empty the store for a new demo, unless it holds real data."""
    if store.has_schema():
        real = not store.is_synthetic()
        if real:
            with store.read() as conn:
                used = (
                    conn.execute(sa.select(sa.func.count()).select_from(s.User)).scalar_one()
                    or conn.execute(sa.select(s.Read.id).limit(1)).first() is not None
                )
            if used:
                raise NotASyntheticStore(
                    f"{mask_url(store.url)} holds real data; give the demo another database with --db"
                )
    path = store.sqlite_path()
    if path is not None:
        # A new file rather than emptied tables: faster, and nothing old left in free pages.
        store.dispose()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    elif store.has_schema():
        store.drop_everything()


def database_info(
    store: Store, *, retention_days: int = 30, now: dt.datetime | None = None
) -> dict[str, Any]:
    """Counts (reads, plates, cameras, users by role), the reads' time range, the database URL, and the
    last purge: ``purge_overdue`` when reads past ``retention_days`` wait and no purge finished in a day."""
    if not store.has_schema():
        raise InvalidInput(f"{mask_url(store.url)} has no workbench schema yet; run `workbench init`")
    info = store.info()
    with store.read() as conn:
        info |= purge_status(conn, retention_days=retention_days, now=now or dt.datetime.now(dt.UTC))
    return info
