"""``AccessSession``: the one audited door to the workbench's data.

An ``AccessSession`` is obtained by logging in (:func:`login`). Every method checks
the member's role against :data:`~alpr_lib.access.roles.PERMISSIONS`, and records an
audit entry — allowed, denied or failed — in the same transaction as the work.

>>> session = login(store, "admin", password, client="cli")  # doctest: +SKIP
>>> session.list_users()  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..errors import AccessDenied, AlprError, InvalidInput, NotFound
from ..ingest import ImportReport, import_csv
from ..store import Store
from ..store import schema as s
from . import audit
from .auth import UserRecord, authenticate, check_password_policy, hash_password, refusal
from .roles import PERMISSIONS, ROLES, may

__all__ = ["DEFAULT_TRAINING_COURSE", "AccessSession", "login"]

T = TypeVar("T")
DEFAULT_TRAINING_COURSE = "ALPR operation, law and department policy"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def login(store: Store, name: str, password: str, *, client: str = "cli") -> AccessSession:
    """Log a member in and return their :class:`AccessSession`.

    Every attempt is audited. Raises :class:`NotAuthenticated` with a plain reason.
    """
    now = _now()
    with store.atomic() as conn:
        user, outcome = authenticate(conn, name, password, now)
        audit.append(
            conn,
            operation="logon",
            outcome="ok" if outcome == "ok" else "denied",
            client=client,
            user_name=name[:64],
            role=user.role if user else None,
            detail=None if outcome == "ok" else outcome,
            now=now,
        )
    if user is None or outcome != "ok":
        raise refusal(outcome)
    return AccessSession(store, user, client)


class AccessSession:
    """A logged-in member's door to the data. Obtain one with :func:`login`."""

    def __init__(self, store: Store, user: UserRecord, client: str) -> None:
        self._store = store
        self.user = user
        self.client = client

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def role(self) -> str:
        return self.user.role

    def __repr__(self) -> str:
        return f"<AccessSession {self.user.name} ({self.user.role}) via {self.client}>"

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

    def _refusal(self, conn: Connection, operation: str) -> str | None:
        """Why this member may not perform ``operation`` now, or None when they may."""
        disabled = conn.execute(sa.select(s.User.disabled).where(s.User.id == self.user.id)).scalar()
        if disabled is None or disabled:
            return "the account is disabled"
        if not may(self.user.role, operation):
            allowed = ", ".join(sorted(PERMISSIONS.get(operation, ()))) or "no role"
            return f"the {self.user.role} role may not {operation} (allowed: {allowed})"
        return None

    def _run(
        self, operation: str, params: dict[str, Any], work: Callable[[Connection], tuple[T, int | None]]
    ) -> T:
        """Gate, do ``work`` and audit it in one transaction. Refusals and failures are audited too."""
        try:
            with self._store.atomic() as conn:
                refused = self._refusal(conn, operation)
                if refused:
                    # Committed with the refusal: the denied attempt stays on record.
                    self._audit(conn, operation, "denied", params=params, detail=refused)
                else:
                    result, count = work(conn)
                    self._audit(conn, operation, "ok", params=params, result_count=count)
        except AlprError as exc:
            with self._store.atomic() as conn:
                self._audit(conn, operation, "error", params=params, detail=type(exc).__name__)
            raise
        if refused:
            raise AccessDenied(refused)
        return result

    # -- user administration ------------------------------------------------------------------

    def add_user(self, name: str, role: str, password: str, *, full_name: str = "") -> None:
        """Create a member. Names are lower-case letters, digits, ``.``, ``_`` and ``-``."""
        params = {"name": name, "role": role}
        if role not in ROLES:
            raise InvalidInput(f"unknown role {role!r}; roles are {', '.join(ROLES)}")
        if not name or len(name) > 64 or not set(name) <= _NAME_CHARS:
            raise InvalidInput("a user name is 1-64 lower-case letters, digits, '.', '_' or '-'")

        def work(conn: Connection) -> tuple[None, int]:
            if conn.execute(sa.select(s.User.id).where(s.User.name == name)).first():
                raise InvalidInput(f"a user named {name!r} already exists")
            check_password_policy(name, password)
            role_id = conn.execute(sa.select(s.Role.id).where(s.Role.name == role)).scalar_one()
            conn.execute(
                sa.insert(s.User).values(
                    name=name,
                    full_name=full_name,
                    role_id=role_id,
                    password_hash=hash_password(password),
                    disabled=False,
                    failed_logons=0,
                    created_at=_now(),
                    password_changed_at=_now(),
                )
            )
            return None, 1

        self._run("users.add", params, work)

    def list_users(self) -> pl.DataFrame:
        """Every member: name, full name, role, disabled, locked, and when their training expires."""

        def work(conn: Connection) -> tuple[pl.DataFrame, int]:
            expires = (
                sa.select(
                    s.TrainingRecord.user_id, sa.func.max(s.TrainingRecord.expires_on).label("trained_until")
                )
                .group_by(s.TrainingRecord.user_id)
                .subquery()
            )
            rows = conn.execute(
                sa.select(
                    s.User.name,
                    s.User.full_name,
                    s.Role.name,
                    s.User.disabled,
                    s.User.locked_until,
                    expires.c.trained_until,
                )
                .join(s.Role, s.Role.id == s.User.role_id)
                .join(expires, expires.c.user_id == s.User.id, isouter=True)
                .order_by(s.User.name)
            ).all()
            now = _now()
            frame = pl.DataFrame(
                [(r[0], r[1], r[2], bool(r[3]), bool(r[4] and r[4] > now), r[5]) for r in rows],
                schema={
                    "name": pl.String,
                    "full_name": pl.String,
                    "role": pl.String,
                    "disabled": pl.Boolean,
                    "locked": pl.Boolean,
                    "trained_until": pl.Date,
                },
                orient="row",
            )
            return frame, frame.height

        return self._run("users.list", {}, work)

    def _user_id(self, conn: Connection, name: str) -> int:
        uid = conn.execute(sa.select(s.User.id).where(s.User.name == name)).scalar()
        if uid is None:
            raise NotFound(f"no user named {name!r}")
        return int(uid)

    def record_training(
        self,
        name: str,
        *,
        course: str = DEFAULT_TRAINING_COURSE,
        completed_on: dt.date | None = None,
        valid_days: int = 365,
    ) -> dt.date:
        """Record that ``name`` completed department-approved training; returns its expiry date."""
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
            conn.execute(
                sa.insert(s.TrainingRecord).values(
                    user_id=self._user_id(conn, name),
                    course=course,
                    completed_on=completed,
                    expires_on=expires,
                    recorded_by=self.user.id,
                    recorded_at=_now(),
                )
            )
            return expires, 1

        return self._run("users.train", params, work)

    def disable_user(self, name: str) -> None:
        """Disable a member's account: they can no longer log in."""
        if name == self.user.name:
            raise InvalidInput("you cannot disable your own account")
        self._set_user(name, "users.disable", disabled=True)

    def unlock_user(self, name: str) -> None:
        """Lift a lockout after repeated failed logons."""
        self._set_user(name, "users.unlock", failed_logons=0, locked_until=None)

    def _set_user(self, name: str, operation: str, **values: Any) -> None:
        def work(conn: Connection) -> tuple[None, int]:
            conn.execute(sa.update(s.User).where(s.User.id == self._user_id(conn, name)).values(**values))
            return None, 1

        self._run(operation, {"name": name}, work)

    # -- data administration ------------------------------------------------------------------

    def import_reads(
        self,
        path: Path,
        *,
        column_map: Mapping[str, str] | None = None,
        rejects_path: Path | None = None,
        timezone: str = "America/Los_Angeles",
        progress: Callable[[int], None] | None = None,
    ) -> ImportReport:
        """Import a vendor-style reads CSV (administrators); see :func:`alpr_lib.ingest.import_csv`."""
        params: dict[str, Any] = {"file": Path(path).name, "map": dict(column_map or {})}
        self._run("import-reads.start", params, lambda conn: (None, None))
        try:
            report = import_csv(
                self._store,
                Path(path),
                column_map=column_map,
                rejects_path=rejects_path,
                timezone=timezone,
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

    def verify_audit(
        self, checkpoint: audit.Checkpoint | None = None
    ) -> tuple[audit.ChainReport, audit.Checkpoint]:
        """Walk the audit chain (against ``checkpoint`` when given); return the report and a new checkpoint.

        Keep the new checkpoint outside the database (``workbench audit verify`` appends it
        to the supervisor's checkpoint file) only when the report is ok.
        """
        params = {"checkpoint": checkpoint.as_dict() if checkpoint else None}

        def work(conn: Connection) -> tuple[tuple[audit.ChainReport, audit.Checkpoint], int]:
            report = audit.verify_chain(conn, checkpoint)
            return (report, audit.take_checkpoint(conn)), report.rows

        return self._run("audit.verify", params, work)

    def backup(self, dest: Path) -> Path:
        """A consistent online copy of the database (SQLite) at ``dest``."""
        return self._run("backup", {"dest": str(dest)}, lambda conn: (self._store.backup(Path(dest)), None))
