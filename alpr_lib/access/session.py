"""``AccessSession``: the one audited door to the workbench's data, a thin gate.

An ``AccessSession`` is obtained by logging in (:func:`~.logon.login`) or by resuming a
session a login started (:func:`~.logon.resume`: the CLI's cached session, a browser's
cookie, the door service for a kernel). Every method checks, in one transaction with the work:

* the session is live (30 minutes idle, 12 hours at most) and the account enabled;
* the member's role may perform the operation (:data:`~alpr_lib.access.roles.PERMISSIONS`);
* for data operations: a valid purpose, case number and reason
  (:mod:`~alpr_lib.access.purpose`), and a current training record — except under the
  ``training`` purpose on a synthetic database;

and records an audit entry — allowed, denied or failed — before any result is returned. The data
methods (``search_plate``, ``canvass``, ``release`` ...) are the table of typed operations in
:mod:`~alpr_lib.access.operations`, each run by :meth:`AccessSession.operate`; the department's rules
come from the session's :class:`~alpr_lib.access.Policy`, never from a call's arguments.

>>> session = login(store, "analyst", password, client="lab")  # doctest: +SKIP
>>> session.set_purpose("investigation", case="26-01234", reason="burglary series, Rhododendron Dr")
>>> session.search_plate("7ABC123").frame  # doctest: +SKIP
"""

from __future__ import annotations

import collections
import dataclasses
import datetime as dt
import json
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import keys, validate
from ..errors import (
    AccessDenied,
    AlprError,
    InvalidInput,
    InvalidPassword,
    KeyUnavailable,
    NotAuthenticated,
    NotFound,
    StoreBusy,
)
from ..hotlists import add_entries, hotlists_frame, read_hotlist_csv
from ..ingest import ImportReport, import_reads
from ..media import ImageStore
from ..plates import normalize
from ..retention import purge_status
from ..store import Store, records
from ..store import queries as q
from ..store import schema as s
from ..store.writes import ensure_case
from . import audit, cases, custody, mfa
from .auth import (
    UserRecord,
    check_password_policy,
    end_session,
    hash_password,
    session_outcome,
    session_refusal,
    verify_password,
)
from .operations import OPERATIONS, Context, Operation, audit_params
from .purpose import Policy, Why, check_why
from .results import AuditReport, Result, _iso, _now, _window
from .review import MisuseRules, entries_frame, misuse_flags, search_log
from .roles import (
    DATA_OPERATIONS,
    PERMISSIONS,
    PURPOSE_LIMITS,
    REVEALS_DATA,
    ROLES,
    is_data_operation,
    may,
)

if TYPE_CHECKING:
    from ..recognition.ocr import Engine

__all__ = ["DEFAULT_TRAINING_COURSE", "TRAINING_EXERCISES", "AccessSession", "Result"]

T = TypeVar("T")
DEFAULT_TRAINING_COURSE = "ALPR operation, law and department policy"
#: The exercises of the training notebooks (``notebooks/training/``), each recorded when a member completes
#: it on the synthetic city; a trainer's approval of training carries the list.
TRAINING_EXERCISES: dict[str, str] = {
    "policy-in-practice": "purposes, cases and refusals (01-policy-in-practice)",
    "retention-and-holds": "retention, holds and the purge (02-retention-and-holds)",
    "audit-review": "reviewing the audit log (03-audit-review)",
}
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


_SESSIONS, _USERS, _TRAINING, _META = (
    s.Session.__table__,
    s.User.__table__,
    s.TrainingRecord.__table__,
    s.Meta.__table__,
)
# The gate's facts in one query, built once (it runs before every operation).
_GATE = (
    sa.select(
        _SESSIONS.c.created_at,
        _SESSIONS.c.last_seen_at,
        _SESSIONS.c.ended_at,
        _USERS.c.disabled,
        _USERS.c.must_change_password,
        _USERS.c.mfa_secret.is_not(None).label("enrolled"),
        sa.select(sa.func.max(_TRAINING.c.expires_on))
        .where(_TRAINING.c.user_id == _USERS.c.id)
        .scalar_subquery()
        .label("trained_until"),
        sa.select(_META.c.value).where(_META.c.key == "synthetic").scalar_subquery().label("synthetic"),
    )
    .select_from(_SESSIONS.join(_USERS, _USERS.c.id == _SESSIONS.c.user_id))
    .where(_SESSIONS.c.id == sa.bindparam("sid"))
)
#: What a member whose password was reset, or whose role needs a second factor they have not enrolled, may
#: still do: put that right.
_ACCOUNT_OPERATIONS = frozenset({"users.password", "users.mfa.enrol"})
_TOUCH = (
    _SESSIONS.update()
    .where(_SESSIONS.c.id == sa.bindparam("sid"))
    .values(last_seen_at=sa.bindparam("now", type_=s.UTCDateTime()))
)
# PostgreSQL: the gate's facts and the touch in one statement (a round trip less on every operation). The
# touch is made only where the gate will find the session alive — not ended, not past its lifetime, not
# idle, its member not disabled — as the two statements do; the facts are read from the statement's
# snapshot, taken before the touch (the previous last_seen_at).
_GATE_AND_TOUCH = sa.select(_GATE.cte("gate")).add_cte(
    _SESSIONS.update()
    .where(
        _SESSIONS.c.id == sa.bindparam("sid"),
        _SESSIONS.c.ended_at.is_(None),
        _SESSIONS.c.created_at >= sa.bindparam("alive_after", type_=s.UTCDateTime()),
        _SESSIONS.c.last_seen_at >= sa.bindparam("idle_after", type_=s.UTCDateTime()),
        ~sa.exists().where(_USERS.c.id == _SESSIONS.c.user_id, _USERS.c.disabled),
    )
    .values(last_seen_at=sa.bindparam("now", type_=s.UTCDateTime()))
    .cte("touch")
)


#: A row of :data:`_GATE` (and :data:`_GATE_AND_TOUCH`) as the driver gives it, its fields by name.
_GateRow = collections.namedtuple("_GateRow", list(_GATE.selected_columns.keys()))  # type: ignore[misc]


class AccessSession:
    """A logged-in member's door to the data. Obtain one with :func:`login` or :func:`resume`."""

    def __init__(
        self,
        store: Store,
        user: UserRecord,
        client: str,
        *,
        session_id: int,
        token: str,
        policy: Policy | None = None,
    ) -> None:
        self._store = store
        self.user = user
        self.client = client
        self.policy = policy or Policy()
        self._session_id = session_id
        self._token = token
        self._why: Why | None = None

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def images(self) -> ImageStore:
        """The image store: the only folder whose files this session's operations open or destroy."""
        return ImageStore(self.policy.image_store)

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def token(self) -> str:
        """The session's secret token: hand it only to this member's own client (cache file, cookie)."""
        return self._token

    def __repr__(self) -> str:
        return f"<AccessSession {self.user.name} ({self.user.role}) via {self.client}>"

    def logout(self) -> None:
        """End the session: its token stops working everywhere (CLI cache, browser, kernels)."""
        with self._store.atomic() as conn:
            end_session(conn, self._session_id, _now())
            self._audit(conn, "logoff", "ok", params={"session": self._session_id})

    def close(self) -> None:
        """End the session without a log-off entry (a one-command CLI login: its log-on entry says it all)."""
        with self._store.atomic() as conn:
            end_session(conn, self._session_id, _now())

    # -- purpose ------------------------------------------------------------------------------

    def set_purpose(self, purpose: str, *, case: str | None = None, reason: str | None = None) -> Why:
        """State why the following data operations are made; checked now, refused and audited if invalid."""
        why = Why(purpose, case, reason)
        try:
            checked = check_why(why, self.policy, synthetic=self._store.is_synthetic())
            if checked.purpose == "investigation":  # the registry now, not only at the first search
                with self._store.read() as conn:
                    cases.check_case(conn, checked, self.user.id, _now(), "search.plate")
        except (InvalidInput, AccessDenied) as exc:
            self._why = None
            with self._store.atomic() as conn:
                self._audit(conn, "purpose", "denied", detail=str(exc), **_why_fields(why))
            raise
        self._why = checked
        return self._why

    @property
    def purpose(self) -> Why | None:
        """The purpose stated with :meth:`set_purpose`, if any."""
        return self._why

    # -- the gate -----------------------------------------------------------------------------

    def _audit(self, conn: Connection, operation: str, outcome: str, **fields: Any) -> int:
        return audit.append(
            conn,
            operation=operation,
            outcome=outcome,
            client=self.client,
            user_name=self.user.name,
            role=self.user.role,
            **fields,
        )

    def _gate(self, conn: Connection, operation: str, why: Why | None) -> tuple[AlprError | None, Why | None]:
        """Why this member may not perform ``operation`` now (an error to raise), and the checked purpose."""
        now = _now()
        idle, absolute = (
            dt.timedelta(minutes=self.policy.idle_minutes),
            dt.timedelta(hours=self.policy.max_hours),
        )
        touched = conn.dialect.name == "postgresql"
        probed = None
        if touched:
            params = {
                "sid": self._session_id,
                "now": now,
                "alive_after": now - absolute,
                "idle_after": now - idle,
            }
            # The gate's facts, the touch and the case's registry row in one round trip (with BEGIN).
            probe = cases.case_probe(why, self.user.id) if is_data_operation(operation) else None
            gate = ("gate_and_touch", lambda _dialect: _GATE_AND_TOUCH, params)
            found = q.rows_together(conn, gate, *([probe] if probe else []))
            if len(found[0]) != 1:
                raise sa.exc.NoResultFound("the session's row is missing")
            row = _GateRow(*found[0][0])
            probed = (probe[2]["number"], found[1]) if probe else None
        else:
            row = conn.execute(_GATE, {"sid": self._session_id}).one()
        state = session_outcome(
            row.created_at, row.last_seen_at, row.ended_at, now, idle=idle, absolute=absolute
        )
        if state != "ok":
            end_session(conn, self._session_id, now)
            return session_refusal(state, self.policy), None
        if row.disabled:
            end_session(conn, self._session_id, now)
            return session_refusal("disabled", self.policy), None
        if not touched:
            conn.execute(_TOUCH, {"sid": self._session_id, "now": now})
        if operation not in _ACCOUNT_OPERATIONS:
            if row.must_change_password:
                return AccessDenied(
                    "an administrator reset your password: choose your own first (workbench users password)"
                ), None
            if self.user.role in self.policy.mfa_roles and not row.enrolled:
                return AccessDenied(
                    f"the {self.user.role} role must use a second factor: enrol an authenticator first "
                    "(workbench users mfa enrol)"
                ), None
        if not may(self.user.role, operation):
            allowed = ", ".join(sorted(PERMISSIONS.get(operation, ()))) or "no role"
            return AccessDenied(f"the {self.user.role} role may not {operation} (allowed: {allowed})"), None
        if not is_data_operation(operation):
            return (_untrained(row.trained_until, now) if operation in REVEALS_DATA else None), None
        try:
            checked = check_why(why, self.policy, synthetic=row.synthetic == "true")
        except InvalidInput as exc:
            return exc, None
        limited = PURPOSE_LIMITS.get(self.user.role)
        if limited is not None and checked.purpose not in limited:
            return AccessDenied(f"the {self.user.role} role reaches data only for {', '.join(limited)}"), None
        if checked.purpose != "training":
            untrained = _untrained(row.trained_until, now)
            if untrained is not None:
                return untrained, None
        try:
            override = cases.check_case(conn, checked, self.user.id, now, operation, probed=probed)
        except AlprError as exc:
            return exc, None
        return None, dataclasses.replace(checked, override=override)

    def _run(
        self,
        operation: str,
        params: dict[str, Any],
        work: Callable[[Connection, Why | None], tuple[T, int | None]],
        why: Why | None = None,
    ) -> tuple[T, int]:
        """Gate, do ``work`` (given the purpose the gate accepted) and audit it in one transaction; returns
        the work's value and the audit id.

        Refusals and failures are audited too, and nothing the work wrote is kept. When SQLite stayed busy
        with another write past its wait, the whole transaction was rolled back, and it is run again a few
        times before the member is told to try again.
        """

        def once() -> tuple[T, int]:
            try:
                with self._store.atomic() as conn:
                    refused, checked = self._gate(conn, operation, why)
                    if refused is not None:
                        # Committed with the refusal: the denied attempt stays on record.
                        self._audit(
                            conn, operation, "denied", params=params, detail=str(refused), commit=True,
                            **_why_fields(why),
                        )  # fmt: skip
                    else:
                        result, count = work(conn, checked)
                        done = params
                        if checked is not None and checked.override is not None:
                            done = {**params, "override": checked.override}  # flagged in the review
                        entry = self._audit(
                            conn, operation, "ok", params=done, result_count=count, commit=True,
                            **_why_fields(checked),
                        )  # fmt: skip
            except StoreBusy:
                raise  # nothing was kept; the caller runs it again
            except AlprError as exc:
                # Malformed input is a refusal (its message names no data); anything else a failure.
                refused = isinstance(exc, (InvalidInput, AccessDenied, NotFound))
                outcome, detail = ("denied", str(exc)) if refused else ("error", type(exc).__name__)
                with self._store.atomic() as conn:
                    self._audit(
                        conn, operation, outcome, params=params, detail=detail, commit=True,
                        **_why_fields(why),
                    )  # fmt: skip
                raise
            if refused is not None:
                raise refused
            return result, entry

        return self._store.retrying(once)

    def _admin(
        self, operation: str, params: dict[str, Any], work: Callable[[Connection], tuple[T, int | None]]
    ) -> T:
        return self._run(operation, params, lambda conn, _why: work(conn))[0]

    def _why_of(
        self, purpose: str | None = None, case: str | None = None, reason: str | None = None
    ) -> Why | None:
        if purpose is None and case is None and reason is None:
            return self._why
        return Why(purpose, case, reason)

    def operate(
        self, name: str, *args: Any, limit: int | None = None, why: Why | None = None, **kwargs: Any
    ) -> Result:
        """Run the data operation ``name`` of :data:`~alpr_lib.access.operations.OPERATIONS` through the
        gate (session, role, purpose, case, training), in one transaction with its audit entry; its typed
        result, capped at ``limit`` rows (default: the policy's, or a paged operation's first page), carries
        the entry's id. ``why`` defaults
        to the purpose stated with :meth:`set_purpose`. Every data method (``search_plate``, ``canvass``
        ...) is this, named."""
        op = OPERATIONS.get(name)
        if op is None:
            raise InvalidInput(f"there is no operation {name!r}")
        why = why or self._why
        cap = (
            limit
            if limit is not None
            else min(op.first_page or self.policy.result_limit, self.policy.result_limit)
        )
        try:
            validate.count(cap, "the result limit")
            params = {**audit_params(op.run, args, kwargs), "limit": cap}
        except (TypeError, InvalidInput) as exc:
            refused = exc if isinstance(exc, InvalidInput) else InvalidInput(f"{name}: {exc}")
            with self._store.atomic() as conn:
                self._audit(conn, op.audit, "denied", detail=str(refused), **_why_fields(why))
            raise refused from None

        def work(conn: Connection, checked: Why | None) -> tuple[Result, int]:
            context = Context(self._store, self.policy, self.user, cap, checked)
            found = op.run(conn, context, *args, **kwargs)
            return found, found.count

        result, entry = self._run(op.audit, params, work, why)
        return dataclasses.replace(result, audit_id=entry)

    # -- the case registry ----------------------------------------------------------------------

    def open_case(self, number: str, *, offense: str, assign: Sequence[str], title: str = "") -> None:
        """Open (register) a case under an offense category of :data:`~.cases.OFFENSES` and assign its
        members (supervisors and administrators)."""
        params = {"case": number, "offense": offense, "assign": list(assign)}

        def work(conn: Connection) -> tuple[None, int]:
            clean = validate.name(title, "the case title", longest=200) if title.strip() else ""
            cases.open_case(
                conn, self.policy, number, offense=offense, members=list(assign), by=self.user.id,
                now=_now(), title=clean,
            )  # fmt: skip
            return None, 1

        self._admin("cases.open", params, work)

    def assign_case(self, number: str, member: str) -> None:
        """Assign a member to an open case (supervisors and administrators)."""
        params = {"case": number, "member": member}
        self._admin(
            "cases.assign",
            params,
            lambda conn: (cases.assign(conn, self.policy, number, member, by=self.user.id, now=_now()), 1),
        )

    def close_case(self, number: str) -> None:
        """Close a case: investigation searches stop naming it (supervisors and administrators)."""
        self._admin(
            "cases.close",
            {"case": number},
            lambda conn: (cases.close(conn, self.policy, number, by=self.user.id, now=_now()), 1),
        )

    def override_case(self, number: str, member: str, *, reason: str) -> int:
        """Let ``member`` search for case ``number`` for a day though not assigned to it (or though it is not
        open): a supervisor's override, only with a reason; every search under it is flagged for review."""
        params = {"case": number, "member": member, "reason": reason}

        def work(conn: Connection) -> tuple[int, int]:
            granted = cases.grant_override(
                conn, self.policy, number, member, reason=reason, by=self.user.id, now=_now()
            )
            return granted, 1

        result: int = self._admin("cases.override", params, work)
        return result

    def front_page(self) -> dict[str, Any]:
        """What the dashboards' front page shows the member: their name, role and training, the open cases
        they are assigned to, and how many hotlist alerts wait for verification (a count, for the roles
        that see alerts). Audited as ``home``."""
        from ..hotlists import alerts_count
        from ..store import retained

        def work(conn: Connection) -> tuple[dict[str, Any], int]:
            mine = cases.case_list(conn, member=self.user.id, status="open")
            waiting = None
            if self.user.role in DATA_OPERATIONS["alerts.list"]:
                floor = retained.floor_ms(_now(), self.policy.retention_days)
                waiting = alerts_count(conn, status="unverified", since_ms=floor)
            full_name, trained_until = conn.execute(
                sa.select(
                    _USERS.c.full_name,
                    sa.select(sa.func.max(_TRAINING.c.expires_on))
                    .where(_TRAINING.c.user_id == _USERS.c.id)
                    .scalar_subquery(),
                ).where(_USERS.c.id == self.user.id)
            ).one()
            page = {
                "name": self.user.name,
                "full_name": full_name or "",
                "role": self.user.role,
                "trained_until": trained_until,
                "trained": trained_until is not None and trained_until >= _now().date(),
                "cases": mine.select("case", "offense", "opened_at").to_dicts(),
                "unverified_alerts": waiting,
            }
            return page, mine.height

        result: dict[str, Any] = self._admin("home", {}, work)
        return result

    def cases(self, *, status: str | None = None, everyone: bool = False) -> pl.DataFrame:
        """The registered cases this member is assigned to (``everyone``: all of them — supervisors and
        administrators), newest first: number, offense, status, who opened it and when, members."""
        if status not in (None, "open", "closed"):
            raise InvalidInput("a case's status is open or closed")

        def work(conn: Connection) -> tuple[pl.DataFrame, int]:
            frame = cases.case_list(conn, member=None if everyone else self.user.id, status=status)
            return frame, frame.height

        operation = "cases.list.all" if everyone else "cases.list"  # the gate: who may see every case
        result: pl.DataFrame = self._admin(operation, {"status": status}, work)
        return result

    def open_cases(self) -> list[str]:
        """The numbers of the open cases this member is assigned to (the dashboards' case list)."""
        return self.cases(status="open")["case"].to_list()

    # -- maps, agencies, hotlists ---------------------------------------------------------------

    def map_layers(self) -> dict[str, Any]:
        """What a map needs besides results: the cameras (name, kind, place) and the roads as GeoJSON
        (the synthetic city's, or none). No plate data; audited like any other call."""

        def work(conn: Connection) -> tuple[dict[str, Any], int]:
            cams = q.cameras(conn)
            roads = records.meta_value(conn, "roads")
            return {"cameras": cams, "roads": json.loads(roads) if roads else None}, cams.height

        result: dict[str, Any] = self._admin("map.layers", {}, work)
        return result

    def add_agency(self, name: str, *, kind: str, state: str, contact: str = "") -> None:
        """Register an agency data may be released to (administrators)."""
        from .release import AGENCY_KINDS

        def work(conn: Connection) -> tuple[None, int]:
            clean = validate.name(name, "an agency's name", longest=200)
            if records.agency_exists(conn, clean):
                raise InvalidInput("an agency of that name is already registered")
            if kind not in AGENCY_KINDS:
                raise InvalidInput(f"an agency's kind is one of {', '.join(AGENCY_KINDS)}")
            if not (len(state) == 2 and state.isascii() and state.isalpha()):
                raise InvalidInput("an agency's state is two letters, e.g. OR")
            records.add_agency(
                conn, name=clean, kind=kind, state=state.upper(),
                contact=validate.name(contact, "the contact", longest=200) if contact.strip() else "",
            )  # fmt: skip
            return None, 1

        self._admin("agency.add", {"name": name, "kind": kind, "state": state}, work)

    def agencies(self) -> pl.DataFrame:
        """The agencies data may be released to: name, kind, state, contact."""

        def work(conn: Connection) -> tuple[pl.DataFrame, int]:
            frame = records.agencies(conn)
            return frame, frame.height

        result: pl.DataFrame = self._admin("agency.list", {}, work)
        return result

    def import_hotlist(self, path: Path, *, name: str) -> dict[str, Any]:
        """Import a hotlist CSV into hotlist ``name`` (administrators). Bad lines are reported, not imported.

        Entries match the reads ingested from then on."""
        params: dict[str, Any] = {"file": Path(path).name, "hotlist": name}

        def work(conn: Connection) -> tuple[dict[str, Any], int]:
            if not name.strip():
                raise InvalidInput("name the hotlist, e.g. 'Stolen vehicles (LEDS)'")
            clean = validate.name(name, "the hotlist's name", longest=120)
            parsed = read_hotlist_csv(Path(path), hotlist=clean, timezone=self.policy.timezone)
            added = add_entries(conn, parsed.entries)
            return {"hotlist": clean, "added": added, "rejected": parsed.rejected}, added

        return self._admin("hotlist.import", params, work)

    def hotlists(self) -> pl.DataFrame:
        """Each hotlist with its active entries by kind (no plate data)."""
        return self._admin("hotlist.list", {}, lambda conn: (lambda f: (f, f.height))(hotlists_frame(conn)))

    # -- user administration ------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, *, full_name: str = "") -> None:
        """Create a member. Names are lower-case letters, digits, ``.``, ``_`` and ``-``."""
        params = {"name": name, "role": role}
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        if not name or len(name) > 64 or not set(name) <= _NAME_CHARS:
            raise InvalidInput("a user name is 1-64 lower-case letters, digits, '.', '_' or '-'")
        full_name = validate.name(full_name, "the full name", longest=120) if full_name.strip() else ""

        def work(conn: Connection) -> tuple[None, int]:
            if records.user_id(conn, name) is not None:
                raise InvalidInput(f"a user named {name!r} already exists")
            check_password_policy(name, password)
            records.add_user(
                conn,
                name=name,
                full_name=full_name,
                role=role,
                password_hash=hash_password(password),
                now=_now(),
            )
            return None, 1

        self._admin("users.add", params, work)

    def list_users(self) -> pl.DataFrame:
        """Every member: name, full name, role, disabled, locked, and when their training expires."""

        def work(conn: Connection) -> tuple[pl.DataFrame, int]:
            frame = records.users(conn, _now())
            return frame, frame.height

        return self._admin("users.list", {}, work)

    def _user_id(self, conn: Connection, name: str) -> int:
        uid = records.user_id(conn, name)
        if uid is None:
            raise NotFound(f"no user named {name!r}")
        return uid

    def record_training(
        self,
        name: str,
        *,
        course: str = DEFAULT_TRAINING_COURSE,
        completed_on: dt.date | None = None,
        valid_days: int = 365,
    ) -> dt.date:
        """Record the department's approval of ``name``'s training, with the exercises they completed
        attached (trainers, supervisors, administrators — never the member themselves); returns its expiry
        date."""
        self._not_oneself(
            name, "users.train", "own training",
            "a member's training is approved by a trainer or supervisor, never by themselves",
        )  # fmt: skip
        completed = completed_on or _now().date()
        if completed > _now().date():
            raise InvalidInput("training cannot be recorded as completed in the future")
        if valid_days < 1:
            raise InvalidInput("training must stay valid for at least one day")
        expires = completed + dt.timedelta(days=valid_days)
        params = {
            "name": name,
            "course": course,
            "completed_on": completed.isoformat(),
            "valid_days": valid_days,
        }

        def work(conn: Connection) -> tuple[dt.date, int]:
            records.add_training(
                conn, self._user_id(conn, name), course=course, completed_on=completed, expires_on=expires,
                recorded_by=self.user.id, now=_now(),
            )  # fmt: skip
            return expires, 1

        return self._admin("users.train", params, work)

    def complete_exercise(self, exercise: str) -> bool:
        """Record that this member completed a training exercise (:data:`TRAINING_EXERCISES`), on the
        synthetic city only; False when it was already recorded."""
        if exercise not in TRAINING_EXERCISES:
            raise InvalidInput(f"unknown exercise; the exercises are {', '.join(TRAINING_EXERCISES)}")

        def work(conn: Connection) -> tuple[bool, int]:
            if not self._store.is_synthetic():
                raise InvalidInput("training exercises are completed on the synthetic (demo) city only")
            return records.complete_exercise(conn, self.user.id, exercise, _now()), 1

        result: bool = self._admin("training.complete", {"exercise": exercise}, work)
        return result

    def disable_user(self, name: str) -> None:
        """Disable a member's account: they can no longer log in."""
        if name == self.user.name:
            raise InvalidInput("you cannot disable your own account")
        self._set_user(name, "users.disable", disabled=True)

    def unlock_user(self, name: str) -> None:
        """Lift a lockout after repeated failed logons."""
        self._set_user(name, "users.unlock", failed_logons=0, locked_until=None)

    def enable_user(self, name: str) -> None:
        """Let a disabled member log in again (their lockout lifted too)."""
        self._set_user(name, "users.enable", disabled=False, failed_logons=0, locked_until=None)

    def set_role(self, name: str, role: str) -> None:
        """Give member ``name`` another role (administrators; never one's own). Their sessions end: the new
        role holds from their next login."""
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        self._not_oneself(
            name, "users.role", "own role",
            "a member's role is changed by another administrator, never by themselves", role=role,
        )  # fmt: skip

        def work(conn: Connection) -> tuple[None, int]:
            uid = self._user_id(conn, name)
            role_id = conn.execute(sa.select(s.Role.id).where(s.Role.name == role)).scalar_one()
            records.update_user(conn, uid, role_id=role_id)
            records.end_sessions(conn, uid, _now())
            return None, 1

        self._admin("users.role", {"name": name, "role": role}, work)

    def set_profile(
        self,
        name: str,
        *,
        full_name: str | None = None,
        title: str | None = None,
        agency: str | None = None,
        contractor: bool | None = None,
    ) -> None:
        """Record a member's full name, job title and agency (807.2(a) authorizes by title), and whether they
        are a contractor rather than a sworn or civilian employee (administrators)."""
        values: dict[str, Any] = {}
        for key, value, longest in (
            ("full_name", full_name, 120),
            ("title", title, 120),
            ("agency", agency, 120),
        ):
            if value is not None:
                values[key] = (
                    validate.name(value, f"the {key.replace('_', ' ')}", longest=longest)
                    if value.strip()
                    else ""
                )
        if contractor is not None:
            values["contractor"] = contractor
        if not values:
            raise InvalidInput(
                "say what to record: --full-name, --title, --agency or --contractor/--employee"
            )
        params = {"name": name, **values}
        self._admin(
            "users.profile",
            params,
            lambda conn: (records.update_user(conn, self._user_id(conn, name), **values), 1),
        )

    def change_password(self, current: str, new: str) -> None:
        """Change this member's own password: the current one is required, the new one must meet the policy
        (:func:`~alpr_lib.access.auth.check_password_policy`) and differ from it. The member's other sessions
        end; a password an administrator reset is the member's own again."""
        params = {"name": self.user.name}

        def work(conn: Connection) -> tuple[None, int]:
            row = conn.execute(
                sa.select(_USERS.c.password_hash, _USERS.c.full_name, _USERS.c.title).where(
                    _USERS.c.id == self.user.id
                )
            ).one()
            if not verify_password(row.password_hash, current):
                raise NotAuthenticated("the current password is not right")
            if new == current:
                raise InvalidPassword("the new password must differ from the current one")
            check_password_policy(self.user.name, new, context=(row.full_name, row.title))
            now = _now()
            records.update_user(
                conn, self.user.id, password_hash=hash_password(new), password_changed_at=now,
                must_change_password=False,
            )  # fmt: skip
            records.end_sessions(conn, self.user.id, now, keep=self._session_id)
            return None, 1

        self._admin("users.password", params, work)

    def reset_password(self, name: str, temporary: str) -> None:
        """Set a temporary password for member ``name`` (administrators; never one's own: change it with
        :meth:`change_password`). It must be changed at their next login; their sessions end and a lockout
        is lifted."""
        self._not_oneself(
            name, "users.reset", "own password", "change your own password with `workbench users password`"
        )

        def work(conn: Connection) -> tuple[None, int]:
            uid = self._user_id(conn, name)
            check_password_policy(name, temporary)
            now = _now()
            records.update_user(
                conn, uid, password_hash=hash_password(temporary), password_changed_at=now,
                must_change_password=True, failed_logons=0, locked_until=None,
            )  # fmt: skip
            records.end_sessions(conn, uid, now)
            return None, 1

        self._admin("users.reset", {"name": name}, work)

    def begin_mfa(self) -> dict[str, str]:
        """Start enrolling an authenticator for this member: a new secret (kept sealed until confirmed) and
        the ``otpauth://`` URI its QR code carries. Confirm with :meth:`confirm_mfa` and the first code."""

        def work(conn: Connection) -> tuple[dict[str, str], int]:
            secret = mfa.new_secret()
            records.update_user(
                conn, self.user.id, mfa_pending=mfa.seal(self._account_key(), self.user.name, secret)
            )
            uri = mfa.provisioning_uri(secret, self.user.name, self.policy.department_name)
            return {"secret": secret, "uri": uri}, 1

        result: dict[str, str] = self._admin("users.mfa.enrol", {"step": "begin"}, work)
        return result

    def confirm_mfa(self, code: str) -> None:
        """Finish an enrolment with the authenticator's current code: from now on every login asks for one."""

        def work(conn: Connection) -> tuple[None, int]:
            pending = conn.execute(
                sa.select(_USERS.c.mfa_pending).where(_USERS.c.id == self.user.id)
            ).scalar()
            if pending is None:
                raise InvalidInput(
                    "there is no enrolment to confirm; start one with `workbench users mfa enrol`"
                )
            secret = mfa.unseal(self._account_key(), self.user.name, pending)
            step = mfa.check_code(secret, code, last_step=None)
            if step is None:
                raise InvalidInput("that code is not the authenticator's current one; try the next code")
            records.update_user(conn, self.user.id, mfa_secret=pending, mfa_pending=None, mfa_last_step=step)
            return None, 1

        self._admin("users.mfa.enrol", {"step": "confirm"}, work)

    def reset_mfa(self, name: str) -> None:
        """Remove member ``name``'s authenticator (a lost phone): they enrol again (administrators)."""
        self._not_oneself(
            name,
            "users.mfa.reset",
            "own second factor",
            "another administrator resets your own second factor",
        )

        def work(conn: Connection) -> tuple[None, int]:
            uid = self._user_id(conn, name)
            records.update_user(conn, uid, mfa_secret=None, mfa_pending=None, mfa_last_step=None)
            records.end_sessions(conn, uid, _now())
            return None, 1

        self._admin("users.mfa.reset", {"name": name}, work)

    def account_state(self) -> dict[str, bool]:
        """What this member must put right before anything else (the gate refuses all but that until then):
        ``must_change_password`` after an administrator's reset, ``must_enrol`` when their role needs a second
        factor they have not enrolled; and whether they use one (``second_factor``)."""
        with self._store.read() as conn:
            row = conn.execute(
                sa.select(_USERS.c.must_change_password, _USERS.c.mfa_secret.is_not(None)).where(
                    _USERS.c.id == self.user.id
                )
            ).one()
        return {
            "must_change_password": bool(row[0]),
            "second_factor": bool(row[1]),
            "must_enrol": self.user.role in self.policy.mfa_roles and not row[1],
        }

    def _account_key(self) -> bytes:
        if self._store.keys is None:
            raise KeyUnavailable("a second factor needs the department's key folder (set key_dir)")
        return self._store.keys.account_key()

    def _not_oneself(self, name: str, operation: str, detail: str, message: str, **params: Any) -> None:
        """Refuse, and audit the refusal, when a member would do ``operation`` to their own account
        (separation of duties: training, role, a reset)."""
        if name != self.user.name:
            return
        with self._store.atomic() as conn:
            self._audit(conn, operation, "denied", params={"name": name, **params}, detail=detail)
        raise AccessDenied(message)

    def _set_user(self, name: str, operation: str, **values: Any) -> None:
        def work(conn: Connection) -> tuple[None, int]:
            records.update_user(conn, self._user_id(conn, name), **values)
            return None, 1

        self._admin(operation, {"name": name}, work)

    # -- data administration ------------------------------------------------------------------

    def import_reads(
        self,
        path: Path,
        *,
        format: str | None = None,
        column_map: Mapping[str, str] | None = None,
        rejects_path: Path | None = None,
        image_folder: Path | None = None,
        at: tuple[float, float] | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import reads from a CSV or a camera system's export (administrators); see
        :func:`alpr_lib.ingest.import_reads`."""
        params: dict[str, Any] = {"file": Path(path).name, "format": format, "map": dict(column_map or {})}
        if image_folder is not None:
            params["images"] = Path(image_folder).name
        if at is not None:
            params["at"] = list(at)
        self._admin("import-reads.start", params, lambda conn: (None, None))
        try:
            report = import_reads(
                self._store,
                Path(path),
                format=format,
                at=at,
                column_map=column_map,
                rejects_path=rejects_path,
                timezone=self.policy.timezone,
                images=self.images,
                image_folder=image_folder,
                progress=progress,
            )
        except AlprError as exc:
            with self._store.atomic() as conn:
                self._audit(conn, "import-reads", "error", params=params, detail=type(exc).__name__)
            raise
        with self._store.atomic() as conn:
            summary = {k: v for k, v in report.as_dict().items() if k != "rejected_rows"}
            self._audit(
                conn, "import-reads", "ok", params={**params, **summary}, result_count=report.imported
            )
        return report

    def ingest_media(self, kind: str, path: Path, *, engine: Engine, **options: Any) -> dict[str, Any]:
        """Recognise plates in a folder of camera images (``kind="images"``) or a video file (``"video"``)
        and store them as reads (administrators); see :mod:`alpr_lib.recognition_intake`."""
        from ..recognition_intake import ingest_images, ingest_video

        params = {"kind": kind, "path": Path(path).name, "camera": options.get("camera")}
        self._admin("ingest.start", params, lambda conn: (None, None))
        run: Callable[..., Any] = ingest_video
        options = {**options, "images": self.images}
        if kind == "images":
            run, options = ingest_images, {**options, "timezone": self.policy.timezone}
        try:
            report = run(self._store, Path(path), engine=engine, **options)
        except AlprError as exc:
            with self._store.atomic() as conn:
                self._audit(conn, "ingest", "error", params=params, detail=type(exc).__name__)
            raise
        data = report.as_dict()
        with self._store.atomic() as conn:
            summary = {k: v for k, v in data.items() if k != "skipped"} | {"skipped": len(report.skipped)}
            self._audit(conn, "ingest", "ok", params={**params, **summary}, result_count=report.imported)
        return data

    # -- retention ----------------------------------------------------------------------------------

    def purge(
        self, *, now: dt.datetime | None = None, dry_run: bool = False, future: bool = False
    ) -> dict[str, Any]:
        """Destroy reads past the retention period that no hold keeps (see :mod:`alpr_lib.retention`).

        ``now`` later than the present destroys reads that are not yet expired: refused (and audited)
        unless ``future`` says the member confirmed it; a dry run needs no confirmation."""
        from ..retention import purge

        when = now or _now()
        ahead = when > _now() + dt.timedelta(minutes=1)
        retention_days = self.policy.retention_days
        params = {"now": when.isoformat(), "retention_days": retention_days, "dry_run": dry_run}
        if ahead:
            params["future_now"] = True

        def start(conn: Connection) -> tuple[None, None]:
            if ahead and not (future or dry_run):
                raise InvalidInput(
                    "the purge's --now lies in the future: it would destroy reads that have not reached the "
                    "end of their retention; check the date, or confirm with --yes"
                )
            return None, None

        self._admin("purge.start", params, start)
        report = purge(
            self._store, now=when, retention_days=retention_days, ran_by=self.user.name,
            images=self.images, dry_run=dry_run,
        )  # fmt: skip
        data = report.as_dict()
        with self._store.atomic() as conn:
            self._audit(conn, "purge", "ok", params={**params, **data}, result_count=report.reads)
        return data

    def add_hold(
        self,
        *,
        case: str,
        reason: str,
        plate: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        read_ids: Sequence[int] = (),
        review_on: dt.date | None = None,
    ) -> int:
        """Keep reads past retention for a case: a plate in a time window, or given reads. A hold made by a
        supervisor or administrator is active at once; one requested by an investigator waits for approval."""
        params = {
            "case": case, "plate": plate, "since": _iso(since), "until": _iso(until),
            "reads": len(read_ids), "review_on": review_on.isoformat() if review_on else None,
        }  # fmt: skip

        def work(conn: Connection) -> tuple[int, int]:
            check_why(Why("investigation", case, reason), self.policy, synthetic=True)
            if not plate and not read_ids:
                raise InvalidInput("a hold needs a plate (with a time window) or read ids")
            since_ms, until_ms = _window(since, until)
            plate_id = None
            if plate:
                ids = q.plate_ids(conn, normalize(plate))
                if not ids:
                    raise NotFound("no reads of that plate are held by the workbench")
                plate_id = ids[0]
            wanted = {validate.identifier(r, "a read id") for r in read_ids}
            missing = records.missing_reads(conn, wanted) if wanted else set()
            if missing:
                raise NotFound(f"{len(missing)} of the {len(wanted)} reads are not held by the workbench")
            active = self.user.role in ("supervisor", "admin")
            hold_id = records.add_hold(
                conn, case_id=ensure_case(conn, case), plate_id=plate_id, ts_from=since_ms, ts_to=until_ms,
                reason=reason, status="active" if active else "requested", requested_by=self.user.id,
                approved_by=self.user.id if active else None, review_on=review_on, read_ids=sorted(wanted),
                now=_now(),
            )  # fmt: skip
            return hold_id, 1

        return int(self._admin("hold.add", params, work))

    def approve_hold(self, hold_id: int) -> None:
        """Make a requested hold active (supervisors, administrators)."""
        self._set_hold(hold_id, "hold.approve", "requested", status="active", approved_by=self.user.id)

    def release_hold(self, hold_id: int) -> None:
        """Release a hold: its reads fall back under the retention period (the next purge may take them)."""
        self._set_hold(hold_id, "hold.release", None, status="released", released_at=_now())

    def _set_hold(self, hold_id: int, operation: str, must_be: str | None, **values: Any) -> None:
        def work(conn: Connection) -> tuple[None, int]:
            validate.identifier(hold_id, "a hold id")
            status = records.hold_status(conn, hold_id)
            if status is None:
                raise NotFound(f"there is no hold {hold_id}")
            if status == "released" or (must_be and status != must_be):
                raise InvalidInput(f"hold {hold_id} is {status}")
            records.update_hold(conn, hold_id, **values)
            return None, 1

        self._admin(operation, {"hold": hold_id}, work)

    def holds(self) -> pl.DataFrame:
        """Every hold: case, plate, window, reason, status, who asked, review date."""

        def work(conn: Connection) -> tuple[pl.DataFrame, int]:
            frame = records.holds(conn)
            return frame, frame.height

        result: pl.DataFrame = self._admin("hold.list", {}, work)
        return result

    def transparency(self, *, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
        """The public report's aggregate figures for a period (see :mod:`.transparency`)."""
        from .transparency import transparency_figures

        params = {"since": _iso(since), "until": _iso(until)}

        def work(conn: Connection) -> tuple[dict[str, Any], int]:
            _window(since, until)
            return transparency_figures(conn, since, until), 1

        result: dict[str, Any] = self._admin("transparency", params, work)
        return result

    def verify_audit(
        self, checkpoint: audit.Checkpoint | None = None, *, trusted: Sequence[keys.PublicKey] | None = None
    ) -> tuple[audit.ChainReport, audit.Checkpoint]:
        """Walk the audit chain (against ``checkpoint`` when given), checking every entry's signature with
        the department's keys (``trusted``: public keys handed over, instead of the key folder); return the
        report and a new, signed checkpoint.

        Keep the new checkpoint outside the database (``workbench audit verify`` appends it
        to the supervisor's checkpoint file) only when the report is ok.
        """
        params = {"checkpoint": checkpoint.as_dict() if checkpoint else None}

        def work(conn: Connection) -> tuple[tuple[audit.ChainReport, audit.Checkpoint], int]:
            report = audit.verify_chain(
                conn, checkpoint, audit.trusted_keys(conn) if trusted is None else trusted
            )
            return (report, audit.take_checkpoint(conn)), report.rows

        return self._admin("audit.verify", params, work)

    def audit_report(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        user: str | None = None,
        rules: MisuseRules | None = None,
        history_days: int = 90,
    ) -> AuditReport:
        """Audit entries in ``[since, until)`` (of one member when ``user`` is given) and misuse flags.

        The frame holds the entries; ``flags`` the flags (see :mod:`.review`), judged
        against the ``history_days`` before ``since`` as well; ``checkpoint`` the audit
        chain's head before this report's own entry. Supervisors and administrators.
        """
        until = (until or _now()).astimezone(dt.UTC)
        since = (since or until - dt.timedelta(days=7)).astimezone(dt.UTC)
        params = {"since": _iso(since), "until": _iso(until), "user": user}

        def work(conn: Connection) -> tuple[tuple[Any, ...], int]:
            _window(since, until)
            history = entries_frame(
                records.audit_entries(conn, since - dt.timedelta(days=history_days), until, user)
            )
            shown = history.filter(pl.col("ts") >= since)
            registry, members = cases.registry_frames(conn)
            flags = misuse_flags(
                shown,
                history=history,
                timezone=self.policy.timezone,
                rules=rules,
                cases=registry,
                members=members,
            )
            purge = purge_status(conn, retention_days=self.policy.retention_days, now=_now())
            members = records.member_profiles(conn, shown["user_name"].drop_nulls().unique().to_list())
            return (shown, flags, audit.take_checkpoint(conn), purge, members), shown.height

        (frame, flags, head, last_purge, members), entry = self._run(
            "audit.report", params, lambda conn, _why: work(conn)
        )
        # The chain's head goes into the report: a filed report is a checkpoint kept outside the database.
        return AuditReport(
            frame, entry, "audit.report", False, flags=flags, checkpoint=head, last_purge=last_purge,
            members=members,
        )  # fmt: skip

    def audit_export(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        org: str = "",
        redact: bool = False,
    ) -> pl.DataFrame:
        """The search log of ``[since, until)`` (default: the last 90 days) in the columns of vendors' audit
        exports (:data:`~.review.EXPORT_COLUMNS`); ``redact`` for public release (supervisors,
        administrators, the custodian)."""
        until = (until or _now()).astimezone(dt.UTC)
        since = (since or until - dt.timedelta(days=90)).astimezone(dt.UTC)
        params = {"since": _iso(since), "until": _iso(until), "redact": redact}

        def work(conn: Connection) -> tuple[pl.DataFrame, int]:
            _window(since, until)
            entries = entries_frame(records.audit_entries(conn, since, until))
            people = conn.execute(sa.select(_USERS.c.name, _USERS.c.full_name, _USERS.c.agency)).all()
            names = {p.name: p.full_name for p in people}
            agencies = {p.name: p.agency for p in people if p.agency}
            frame = search_log(
                entries, org=org, timezone=self.policy.timezone, full_names=names, redact=redact,
                agencies=agencies,
            )  # fmt: skip
            return frame, frame.height

        result: pl.DataFrame = self._admin("audit.export", params, work)
        return result

    def release_manifests(self) -> set[str]:
        """The SHA-256 of every release manifest recorded at release, to check a package against
        (administrators, supervisors, investigators, the custodian)."""

        def work(conn: Connection) -> tuple[set[str], int]:
            found = set(conn.execute(sa.select(s.Release.manifest_sha256)).scalars())
            return found, len(found)

        result: set[str] = self._admin("release.verify", {}, work)
        return result

    # -- the department's keys -------------------------------------------------------------------

    def audit_log(self) -> list[dict[str, Any]]:
        """Every audit entry whole — hashes, key ids and signatures included — for an outside auditor, who
        verifies it with the department's public keys and no database (``workbench audit verify --log``):
        supervisors, administrators, the custodian."""

        def work(conn: Connection) -> tuple[list[dict[str, Any]], int]:
            table = s.AuditEntry.__table__
            rows = [
                {
                    k: (v.astimezone(dt.UTC).isoformat() if isinstance(v, dt.datetime) else v)
                    for k, v in r.items()
                }
                for r in conn.execute(sa.select(table).order_by(table.c.id)).mappings()
            ]
            return rows, len(rows)

        result: list[dict[str, Any]] = self._admin("audit.export", {"format": "jsonl"}, work)
        return result

    def signing_keys(self, department: str = "") -> dict[str, Any]:
        """The database's identity, the key it signs with now and the public bundle of all its keys (what an
        auditor or a receiving agency verifies with; no secret): supervisors, administrators, the
        custodian."""

        def work(conn: Connection) -> tuple[dict[str, Any], int]:
            database_id = records.meta_value(conn, "database_id")
            ring = self._store.keys
            if ring is None or database_id is None:
                raise NotFound("this database has no signing key; create one with `workbench keys create`")
            bundle = ring.bundle(database_id, department)
            bundle["signing_key"] = records.meta_value(conn, "signing_key")
            bundle["key_dir"] = str(ring.folder)
            return bundle, len(bundle["keys"])

        result: dict[str, Any] = self._admin("keys.show", {}, work)
        return result

    def create_key(self) -> dict[str, Any]:
        """Give a database from before signing keys its key: every entry after this one is signed, and the
        first signed entry vouches for those before it through the chain (administrators)."""

        def work(conn: Connection) -> tuple[dict[str, Any], int]:
            audit.lock_chain(conn)
            record = audit.create_key(conn)
            if record is None:
                raise InvalidInput("no key folder was given (set key_dir)")
            return record.as_dict(), 1

        result: dict[str, Any] = self._admin("keys.create", {}, work)
        return result

    def rotate_key(self) -> dict[str, Any]:
        """A new signing key from this entry on; the old key's private half is destroyed and its public half
        kept, to verify what it signed (administrators). Rotate when the key may have been copied, when its
        holder leaves, or on the department's schedule."""

        def work(conn: Connection) -> tuple[tuple[str, keys.PublicKey], int]:
            audit.lock_chain(conn)
            return audit.rotate_key(conn), 1

        old, new = self._admin("keys.rotate", {}, work)
        assert self._store.keys is not None  # rotate_key refused otherwise
        self._store.keys.retire(old, last_entry=new.first_entry - 1)
        return {"retired": old, **new.as_dict()}

    def review_notebooks(self, folder: Path, *, member: str | None = None) -> pl.DataFrame:
        """Members' own notebooks in ``folder`` (one folder per member, as JupyterLab keeps them): member,
        notebook, size and when last saved, for a supervisor's review (supervisors, administrators)."""
        params = {"member": member}

        def work(conn: Connection) -> tuple[pl.DataFrame, int]:
            rows = []
            for path in sorted(Path(folder).glob("*/**/*.ipynb")):
                owner = path.relative_to(folder).parts[0]
                if ".ipynb_checkpoints" in path.parts or (member and owner != member):
                    continue
                stat = path.stat()
                saved = dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC)
                rows.append((owner, str(path.relative_to(Path(folder) / owner)), stat.st_size, saved))
            schema = {
                "member": pl.String,
                "notebook": pl.String,
                "bytes": pl.Int64,
                "saved": pl.Datetime("us", "UTC"),
            }
            frame = pl.DataFrame(rows, schema=schema, orient="row")
            return frame, frame.height

        result: pl.DataFrame = self._admin("notebooks.review", params, work)
        return result

    def backup(
        self, dest: Path, progress: Callable[[int], None] | None = None, *, keys_to: Path | None = None
    ) -> Path:
        """A consistent online copy of the database at ``dest``, an SQLite file (see :meth:`Store.backup`),
        registered as a copy whose hold ends when every read in it is past retention; and, with ``keys_to``,
        the department's keys for it copied into that new folder (kept apart from the data)."""

        def work(conn: Connection) -> tuple[Path, None]:
            database_id = records.meta_value(conn, "database_id")
            if keys_to is not None and self._store.keys is not None and database_id is not None:
                self._store.keys.copy_to(Path(keys_to), database_id)
            made = self._store.backup(Path(dest), progress)
            now = _now()
            ends = now + dt.timedelta(days=self.policy.retention_days)
            custody.record_copy(
                conn, kind="backup", holds="the whole database", path=str(Path(made).resolve()),
                made_by=self.user.name, now=now, hold_until=ends,
            )  # fmt: skip
            return made, None

        params = {"dest": str(dest), "keys_to": str(keys_to) if keys_to else None}
        return self._admin("backup", params, work)

    def database_info(self) -> dict[str, Any]:
        """Counts (reads, plates, cameras, users by role), the reads' time range, the database and the last
        purge (:func:`~alpr_lib.access.admin.database_info`); no plate data, but for members only."""
        from .admin import database_info

        self._admin("info", {}, lambda conn: (None, None))  # the member checked, the look audited
        return database_info(self._store, retention_days=self.policy.retention_days)

    # -- custody of records -----------------------------------------------------------------------

    def name_officer(self, office: str, member: str) -> None:
        """Name the program's ``designee`` (807.2(e)) or ``custodian`` of records (807.2(f)); every naming is
        kept (administrators)."""

        def work(conn: Connection) -> tuple[None, int]:
            custody.name_officer(conn, office, member, by=self.user.name, now=_now())
            return None, 1

        self._admin("program.name", {"office": office, "member": member}, work)

    def officers(self, *, history: bool = False) -> pl.DataFrame:
        """Who holds each office of the program (``history``: every naming)."""
        result: pl.DataFrame = self._admin(
            "program.list",
            {"history": history},
            lambda conn: (lambda f: (f, f.height))(custody.officers(conn, history=history)),
        )
        return result

    def destruction_report(self) -> dict[str, pl.DataFrame]:
        """The purges' destruction records and the copies whose hold has ended, to confirm destroyed
        (the custodian, administrators, supervisors)."""

        def work(conn: Connection) -> tuple[dict[str, pl.DataFrame], int]:
            found = custody.destruction_report(conn, now=_now())
            return found, found["purges"].height + found["copies_due"].height

        result: dict[str, pl.DataFrame] = self._admin("records.destruction", {}, work)
        return result

    def copies(self) -> pl.DataFrame:
        """Every registered copy of the data (releases, backups), newest first."""
        result: pl.DataFrame = self._admin(
            "records.copies", {}, lambda conn: (lambda f: (f, f.height))(custody.copies_frame(conn))
        )
        return result

    def confirm_copy_destroyed(self, copy_id: int, *, note: str) -> None:
        """Confirm that a copy whose hold ended is destroyed (the custodian)."""
        validate.identifier(copy_id, "a copy id")

        def work(conn: Connection) -> tuple[None, int]:
            custody.confirm_destroyed(conn, copy_id, by=self.user.name, note=note, now=_now())
            return None, 1

        self._admin("records.confirm", {"copy": copy_id}, work)


def _untrained(trained_until: dt.date | None, now: dt.datetime) -> AccessDenied | None:
    """The refusal of a member without current ALPR training, or None when theirs is current."""
    if trained_until is None:
        return AccessDenied(
            "no ALPR training is on record for you; a trainer records it with `workbench users train`"
        )
    if trained_until < now.date():
        return AccessDenied(
            f"your ALPR training expired on {trained_until}; renew it with a trainer before using data"
        )
    return None


def _why_fields(why: Why | None) -> dict[str, Any]:
    """The audit columns of a purpose as given (cut to the columns' sizes), for refused attempts too."""
    if why is None:
        return {}
    return {
        "purpose": (why.purpose or None) and str(why.purpose)[:32],
        "case_number": (why.case or None) and str(why.case)[:64],
        "reason": (why.reason or None) and str(why.reason)[:2000],
    }


def _data_method(op: Operation) -> Callable[..., Result]:
    """``AccessSession.<name>``: the operation's arguments, then ``limit``, ``purpose``, ``case`` and
    ``reason``; its docstring and signature are the operation's, for ``help()`` and completion."""
    import inspect

    ours = list(inspect.signature(op.run).parameters.values())[2:]
    keyword = inspect.Parameter.KEYWORD_ONLY
    tail = [inspect.Parameter(n, keyword, default=None) for n in ("limit", "purpose", "case", "reason")]
    self_ = inspect.Parameter("self", inspect.Parameter.POSITIONAL_OR_KEYWORD)

    def method(
        self: AccessSession,
        *args: Any,
        limit: int | None = None,
        purpose: str | None = None,
        case: str | None = None,
        reason: str | None = None,
        **kwargs: Any,
    ) -> Result:
        return self.operate(op.name, *args, limit=limit, why=self._why_of(purpose, case, reason), **kwargs)

    method.__name__ = op.name
    method.__qualname__ = f"AccessSession.{op.name}"
    method.__doc__ = op.run.__doc__
    method.__signature__ = inspect.signature(op.run).replace(parameters=[self_, *ours, *tail])  # type: ignore[attr-defined]
    return method


for _op in OPERATIONS.values():
    setattr(AccessSession, _op.name, _data_method(_op))
