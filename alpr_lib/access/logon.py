"""Logging in, resuming a session, and what a web server or the door service records around the door.

:func:`login` and :func:`resume` give an :class:`~alpr_lib.access.AccessSession`; :func:`identify` answers
a web server's "who holds this cookie?" on each request; :func:`record_event` and :func:`record_refusal`
audit what happens around the door (a kernel started, a cell sent to a kernel, a copied token refused).

>>> session = login(store, "analyst", password, client="lab")  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import secrets
import time
from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .. import keys
from ..errors import KeyUnavailable, SecondFactorNeeded
from ..store import Store
from ..store import schema as s
from . import audit, mfa
from .auth import (
    LOCKOUT,
    LOGON_REFUSALS,
    UserRecord,
    authenticate,
    authenticate_again,
    count_failure,
    end_session,
    logon_succeeded,
    open_session,
    refusal,
    session_refusal,
    session_state,
)
from .purpose import Policy
from .results import _now
from .session import AccessSession

__all__ = [
    "PROOF_SECONDS",
    "UNKNOWN_MEMBER",
    "identify",
    "login",
    "record_event",
    "record_refusal",
    "resume",
]

#: The audit's name for a failed logon under a name that is no member's (never a member's name: no spaces).
UNKNOWN_MEMBER = "unknown member"


#: How long the password step of a two-step logon stays good.
PROOF_SECONDS = 300
#: The two-step logons this process has proven the password of and awaits the code for: a random proof
#: (the only thing a web form keeps, in a signed cookie) -> (member, when proven).
_PROOFS: dict[str, tuple[str, float]] = {}


def _proven(proof: str, name: str) -> str | None:
    """The member whose password ``proof`` proves (and uses up), when it is this process's, fresh and, if a
    ``name`` is given, theirs."""
    member, made = _PROOFS.pop(proof, ("", 0.0))
    fresh = member and time.monotonic() - made < PROOF_SECONDS
    return member if fresh and name in ("", member) else None


def login(
    store: Store,
    name: str,
    password: str,
    *,
    otp: str | None = None,
    proof: str | None = None,
    client: str = "cli",
    policy: Policy | None = None,
) -> AccessSession:
    """Log a member in and return their :class:`~alpr_lib.access.AccessSession` (a new session).

    A member who enrolled an authenticator also gives its current code (``otp``); without it the right
    password raises :class:`SecondFactorNeeded`, whose ``proof`` finishes the logon with the code alone,
    once, within :data:`PROOF_SECONDS` (``login(store, "", "", otp=code, proof=proof)``). A wrong code
    counts as a failed logon. Every attempt is audited. Raises :class:`NotAuthenticated` with a plain reason.
    """
    now = _now()
    proven = _proven(proof, name) if proof is not None else None
    with store.atomic() as conn:
        if proven is not None:
            user, outcome = authenticate_again(conn, proven, now)
        else:
            user, outcome = authenticate(conn, name, password, now)
        if user is not None and outcome == "ok":
            outcome = _second_factor(conn, user, otp, now)
        sid, token = (None, None)
        if user is not None and outcome == "ok":
            logon_succeeded(conn, user.id)
            sid, token = open_session(conn, user.id, client, now)
        audit.append(
            conn,
            operation="logon",
            outcome="ok" if outcome == "ok" else "denied",
            client=client,
            # A name that is no member's is not kept: it may be a password typed in the wrong field.
            user_name=user.name if user else UNKNOWN_MEMBER,
            role=user.role if user else None,
            params={"session": sid} if sid else None,
            detail=None if outcome == "ok" else outcome,
            now=now,
        )
    if outcome == "code-needed" and user is not None:
        for stale in [p for p, (_m, made) in _PROOFS.items() if time.monotonic() - made >= PROOF_SECONDS]:
            del _PROOFS[stale]  # logons abandoned at the second step
        needed = SecondFactorNeeded(LOGON_REFUSALS[outcome])
        needed.proof = secrets.token_urlsafe(24)
        _PROOFS[needed.proof] = (user.name, time.monotonic())
        raise needed
    if user is None or sid is None or token is None:
        raise refusal(outcome)
    return AccessSession(store, user, client, session_id=sid, token=token, policy=policy)


def _second_factor(conn: Connection, user: UserRecord, otp: str | None, now: dt.datetime) -> str:
    """``ok`` when the member has no authenticator or ``otp`` is its code now (used once); ``code-needed``
    when none was given; ``bad-code`` (or ``lockout``) when it is wrong."""
    row = conn.execute(sa.select(s.User.mfa_secret, s.User.mfa_last_step).where(s.User.id == user.id)).one()
    if row.mfa_secret is None:
        return "ok"
    if not otp or not otp.strip():
        return "code-needed"
    ring = keys.ring_of(conn.engine)
    if ring is None:
        raise KeyUnavailable("the second factor needs the department's key folder (set key_dir)")
    secret = mfa.unseal(ring.account_key(), user.name, row.mfa_secret)
    step = mfa.check_code(secret, otp, last_step=row.mfa_last_step, now=now.timestamp())
    if step is None:
        return count_failure(conn, user.id, now, LOCKOUT, "bad-code")
    conn.execute(sa.update(s.User).where(s.User.id == user.id).values(mfa_last_step=step))
    return "ok"


def resume(store: Store, token: str, *, client: str, policy: Policy | None = None) -> AccessSession:
    """Resume the session a login started, from its token. Audited; refused when expired or unknown."""
    policy = policy or Policy()
    now = _now()
    with store.atomic() as conn:
        user, outcome, sid = _live_user(conn, token, policy, now)
        audit.append(
            conn,
            operation="resume",
            outcome="ok" if outcome == "ok" else "denied",
            client=client,
            user_name=user.name if user else None,
            role=user.role if user else None,
            params={"session": sid} if sid is not None else None,
            detail=None if outcome == "ok" else outcome,
            now=now,
        )
    if user is None or sid is None or outcome != "ok":
        raise session_refusal(outcome, policy)
    return AccessSession(store, user, client, session_id=sid, token=token, policy=policy)


def _live_user(
    conn: Connection, token: str, policy: Policy, now: dt.datetime, *, touch: bool = True, write: bool = True
) -> tuple[UserRecord | None, str, int | None]:
    """The session's member and state: ok, unknown, ended, idle, expired or disabled (or, with
    ``write=False``, ``write`` when knowing it means writing)."""
    row, outcome = session_state(
        conn,
        now,
        idle=dt.timedelta(minutes=policy.idle_minutes),
        absolute=dt.timedelta(hours=policy.max_hours),
        token=token,
        touch=touch,
        write=write,
    )
    if row is None or outcome == "write":
        return None, outcome, None
    u = conn.execute(
        sa.select(s.User.id, s.User.name, s.User.disabled, s.Role.name.label("role"))
        .join(s.Role, s.Role.id == s.User.role_id)
        .where(s.User.id == row.user_id)
    ).one()
    user = UserRecord(u.id, u.name, u.role, bool(u.disabled))
    if outcome == "ok" and user.disabled:
        if not write:
            return None, "write", None
        outcome = "disabled"
        end_session(conn, row.id, now)
    return user, outcome, int(row.id)


def identify(
    store: Store, token: str, *, client: str, policy: Policy | None = None, touch: bool = False
) -> UserRecord | None:
    """Who holds this live session token (a web server's check on each request), or None.

    Not audited when the session is live (that would log every page request); a session
    found expired or an account found disabled is audited once, as the session ends. The idle clock
    is reset only with ``touch`` — a member opening a page — never by a browser's background polling.
    """
    policy = policy or Policy()
    now = _now()
    # Read first: a live session whose check changes nothing (most requests) takes no write lock, so a
    # page is not kept waiting behind an import's or a purge's transaction on SQLite.
    with store.read() as conn:
        user, outcome, _sid = _live_user(conn, token, policy, now, touch=touch, write=False)
    if outcome != "write":
        return user if outcome == "ok" else None
    with store.atomic() as conn:
        user, outcome, sid = _live_user(conn, token, policy, now, touch=touch)
        if user is not None and outcome in ("idle", "expired", "disabled"):
            audit.append(
                conn,
                operation="resume",
                outcome="denied",
                client=client,
                user_name=user.name,
                role=user.role,
                params={"session": sid},
                detail=outcome,
                now=now,
            )
    return user if outcome == "ok" else None


def record_event(
    store: Store,
    token: str,
    *,
    client: str,
    operation: str,
    params: Mapping[str, Any],
    policy: Policy | None = None,
) -> int:
    """Audit an event of the application around the door — a kernel started, a cell sent to a kernel —
    for the member holding ``token``. Refused (and the refusal audited) when the session is not live."""
    policy = policy or Policy()
    now = _now()
    with store.atomic() as conn:
        user, outcome, sid = _live_user(conn, token, policy, now)
        entry = audit.append(
            conn,
            operation=operation,
            outcome="ok" if outcome == "ok" else "denied",
            client=client,
            user_name=user.name if user else None,
            role=user.role if user else None,
            params={**params, "session": sid},
            detail=None if outcome == "ok" else outcome,
            now=now,
        )
    if outcome != "ok":
        raise session_refusal(outcome, policy)
    return entry


def record_refusal(
    store: Store,
    *,
    client: str,
    operation: str,
    user_name: str | None,
    params: Mapping[str, Any],
    detail: str,
) -> int:
    """Audit a refusal made around the door — a copied token, a file or a kernel channel a member may
    not use — naming whose identity was presented (``user_name``) and what was seen (``params``)."""
    with store.atomic() as conn:
        role = None
        if user_name:
            role = conn.execute(
                sa.select(s.Role.name)
                .join(s.User, s.User.role_id == s.Role.id)
                .where(s.User.name == user_name)
            ).scalar()
        return audit.append(
            conn,
            operation=operation,
            outcome="denied",
            client=client,
            user_name=user_name,
            role=role,
            params=dict(params),
            detail=detail,
        )
