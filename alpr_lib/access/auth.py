"""Users and passwords: argon2id hashes, a password policy after NIST SP 800-63B, lockout.

Passwords are never stored or logged; only their argon2id hashes are kept.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.engine import Connection

from ..errors import InvalidPassword, NotAuthenticated
from ..store import schema as s

if TYPE_CHECKING:
    from .purpose import Policy

__all__ = [
    "LOCKOUT",
    "Lockout",
    "UserRecord",
    "check_password_policy",
    "end_session",
    "hash_password",
    "open_session",
    "session_outcome",
    "session_refusal",
    "session_state",
    "token_hash",
    "verify_password",
]

_HASHER = PasswordHasher()  # argon2id with the library's RFC 9106 defaults

#: Words a member's password must not be built on: the product's and the policy's own.
_CONTEXT_WORDS = ("alpr", "workbench", "police", "department", "florence", "license", "plate")
#: Fewest guesses an attacker needs (zxcvbn's estimate) for a password to be accepted: 10^8, zxcvbn's
#: "safely unguessable" class against an online attacker — the lockout slows one to a handful a minute.
_MIN_GUESSES_LOG10 = 8.0


@functools.cache
def _breached() -> frozenset[str]:
    """The 30,000 passwords most common in public breaches, as zxcvbn ships them (offline)."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"])


@dataclass(frozen=True)
class Lockout:
    """After ``attempts`` consecutive failed logons the account locks for ``minutes``."""

    attempts: int = 5
    minutes: int = 10


LOCKOUT = Lockout()


@dataclass(frozen=True)
class UserRecord:
    id: int
    name: str
    role: str
    disabled: bool


def check_password_policy(name: str, password: str, *, context: tuple[str, ...] = ()) -> None:
    """Raise :class:`InvalidPassword` unless ``password`` meets the policy of NIST SP 800-63B (which CJIS
    follows): at least 12 characters (up to 256, any characters), not the user name, not a password known
    from breaches, not guessable from dictionary words, names, keyboard patterns, repeats or the member's
    own details (``context``: full name, title). No composition rules, no periodic change."""
    if len(password) < 12:
        raise InvalidPassword("a password needs at least 12 characters")
    if len(password) > 256:
        raise InvalidPassword("a password may have at most 256 characters")
    lowered = password.lower()
    if name and lowered in (name.lower(), name.lower() * 2, name.lower()[::-1]):
        raise InvalidPassword("a password may not be the user name")
    if lowered in _breached():
        raise InvalidPassword("that password is on the lists of breached passwords; choose another")
    from zxcvbn import zxcvbn

    words = [w for w in (name, *context, *_CONTEXT_WORDS) if w]
    if (
        len(set(lowered)) < 4
        or zxcvbn(password[:100], user_inputs=words)["guesses_log10"] < _MIN_GUESSES_LOG10
    ):
        raise InvalidPassword(
            "that password is too easy to guess (common words, names, keyboard patterns or repeats); "
            "a phrase of several unrelated words is easy to remember and hard to guess"
        )


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# A hash to verify against when the user does not exist, so both cases take as long.
_DUMMY_HASH = _HASHER.hash("not-a-real-password-for-timing")


def authenticate(
    conn: Connection, name: str, password: str, now: dt.datetime, lockout: Lockout = LOCKOUT
) -> tuple[UserRecord | None, str]:
    """Check a logon's password. Returns the user (or None) and an outcome word for the audit log.

    Outcomes: ``ok``; ``unknown-user``, ``bad-password``, ``lockout`` (this failure locked the
    account), ``locked-bad-password`` and ``disabled-bad-password`` — all answered alike
    (:func:`refusal`), so a stranger learns nothing of which names are members; ``locked`` and
    ``disabled`` — the right password for an account that may not log in now, the only answers
    that say so. The password is checked in every case (the same work for every answer).
    Failed attempts are counted on the user row; the caller commits them together with the
    audit entry, and clears them (:func:`logon_succeeded`) once every factor has passed. A lock lasts
    ``lockout.minutes`` and is not extended by further failures, so nobody can keep a member locked
    out by guessing on.
    """
    u = s.User.__table__.c
    user = conn.execute(
        sa.select(
            u.id,
            u.name,
            u.disabled,
            u.locked_until,
            u.failed_logons,
            u.password_hash,
            s.Role.name.label("role"),
        )
        .join(s.Role, s.Role.id == u.role_id)
        .where(u.name == name)
    ).first()
    if user is None:
        verify_password(_DUMMY_HASH, password)
        return None, "unknown-user"
    record = UserRecord(user.id, user.name, user.role, bool(user.disabled))
    right = verify_password(user.password_hash, password)
    if user.disabled:
        return record, "disabled" if right else "disabled-bad-password"
    if user.locked_until is not None and user.locked_until > now:
        return record, "locked" if right else "locked-bad-password"
    if not right:
        return record, count_failure(conn, user.id, now, lockout, "bad-password")
    return record, "ok"


def authenticate_again(conn: Connection, name: str, now: dt.datetime) -> tuple[UserRecord | None, str]:
    """The second step of a two-step logon, the password already proven: the member as they stand now
    (``disabled`` or ``locked`` since are refused as such)."""
    u = s.User.__table__.c
    user = conn.execute(
        sa.select(u.id, u.name, u.disabled, u.locked_until, s.Role.name.label("role"))
        .join(s.Role, s.Role.id == u.role_id)
        .where(u.name == name)
    ).first()
    if user is None:
        return None, "unknown-user"
    record = UserRecord(user.id, user.name, user.role, bool(user.disabled))
    if user.disabled:
        return record, "disabled"
    if user.locked_until is not None and user.locked_until > now:
        return record, "locked"
    return record, "ok"


def count_failure(conn: Connection, uid: int, now: dt.datetime, lockout: Lockout, outcome: str) -> str:
    """Count one failed logon (a wrong password or code) on the member; ``lockout`` when it locks them."""
    failed = int(conn.execute(sa.select(s.User.failed_logons).where(s.User.id == uid)).scalar_one()) + 1
    values: dict[str, object] = {"failed_logons": failed}
    if failed >= lockout.attempts:
        values = {"failed_logons": 0, "locked_until": now + dt.timedelta(minutes=lockout.minutes)}
        outcome = "lockout"
    conn.execute(sa.update(s.User).where(s.User.id == uid).values(**values))
    return outcome


def logon_succeeded(conn: Connection, uid: int) -> None:
    """Clear the failed-logon count once every factor has passed."""
    conn.execute(
        sa.update(s.User)
        .where(s.User.id == uid, sa.or_(s.User.failed_logons != 0, s.User.locked_until.is_not(None)))
        .values(failed_logons=0, locked_until=None)
    )


_WRONG = (
    "unknown user or wrong password (after five failures an account waits 10 minutes; an administrator "
    "can unlock it)"
)
LOGON_REFUSALS = {
    "unknown-user": _WRONG,
    "bad-password": _WRONG,
    "lockout": _WRONG,
    "locked-bad-password": _WRONG,
    "disabled-bad-password": _WRONG,
    "locked": "the account is locked after repeated failed logons; wait 10 minutes or ask an administrator "
    "to run `workbench users unlock`",
    "disabled": "the account is disabled; ask an administrator",
    "code-needed": "this account asks for the six-digit code from its authenticator app (WORKBENCH_OTP, or "
    "the prompt)",
    "bad-code": _WRONG.replace("wrong password", "wrong password or code"),
}


def refusal(outcome: str) -> NotAuthenticated:
    return NotAuthenticated(LOGON_REFUSALS[outcome])


# -- sessions ---------------------------------------------------------------------------------
# A session is a random token held by the member's client (CLI cache file, browser cookie,
# kernel environment); the database keeps only its SHA-256, so a copy of the database
# cannot be used to log in.


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(conn: Connection, user_id: int, client: str, now: dt.datetime) -> tuple[int, str]:
    """Start a session for ``user_id``; returns its id and the token (shown only this once)."""
    token = secrets.token_urlsafe(32)
    sid = conn.execute(
        sa.insert(s.Session)
        .values(
            token_hash=token_hash(token), user_id=user_id, client=client, created_at=now, last_seen_at=now
        )
        .returning(s.Session.id)
    ).scalar_one()
    return int(sid), token


_TOUCH_EVERY = dt.timedelta(minutes=1)


def session_outcome(
    created_at: dt.datetime,
    last_seen_at: dt.datetime,
    ended_at: dt.datetime | None,
    now: dt.datetime,
    *,
    idle: dt.timedelta,
    absolute: dt.timedelta,
) -> str:
    """A session's state now: ``ok``, ``ended`` (logged out), ``expired`` (too old) or ``idle``."""
    if ended_at is not None:
        return "ended"
    if now - created_at > absolute:
        return "expired"
    if now - last_seen_at > idle:
        return "idle"
    return "ok"


def session_state(
    conn: Connection,
    now: dt.datetime,
    *,
    idle: dt.timedelta,
    absolute: dt.timedelta,
    session_id: int | None = None,
    token: str | None = None,
    touch: bool = True,
    write: bool = True,
) -> tuple[sa.Row[tuple[int, int, str]] | None, str]:
    """Look a session up by id or token: its row (id, user_id, client) and ``ok``, ``unknown``,
    ``ended``, ``idle`` or ``expired``. A live session's last-seen time follows ``now`` (within a minute)
    when ``touch``: only a member's own actions touch it, never a browser's background requests.

    With ``write=False`` nothing is written: a check that would have written (a touch due, a session to
    end) answers ``write`` instead, for the caller to ask again in a write transaction."""
    c = s.Session.__table__.c
    where = c.id == session_id if session_id is not None else c.token_hash == token_hash(token or "")
    row = conn.execute(
        sa.select(c.id, c.user_id, c.client, c.created_at, c.last_seen_at, c.ended_at).where(where)
    ).first()
    if row is None:
        return None, "unknown"
    outcome = session_outcome(
        row.created_at, row.last_seen_at, row.ended_at, now, idle=idle, absolute=absolute
    )
    due = (touch and now - row.last_seen_at > _TOUCH_EVERY) if outcome == "ok" else row.ended_at is None
    if due and not write:
        return row, "write"
    if outcome == "ok":
        # Touched at most once a minute: a browser asks many times a minute, the idle limit is in minutes.
        if due:
            conn.execute(sa.update(s.Session).where(c.id == row.id).values(last_seen_at=now))
    elif row.ended_at is None:
        conn.execute(sa.update(s.Session).where(c.id == row.id).values(ended_at=now))
    return row, outcome


def end_session(conn: Connection, session_id: int, now: dt.datetime) -> None:
    conn.execute(
        sa.update(s.Session)
        .where(s.Session.id == session_id, s.Session.ended_at.is_(None))
        .values(ended_at=now)
    )


def session_refusal(outcome: str, policy: Policy) -> NotAuthenticated:
    """The refusal a member sees for a session that is not live (``unknown``, ``ended``, ``idle``,
    ``expired``, ``disabled``)."""
    return NotAuthenticated(
        {
            "unknown": "that session is not known; log in again",
            "ended": "that session was ended by logging out; log in again",
            "idle": f"the session expired after {policy.idle_minutes} minutes without use; log in again",
            "expired": f"the session reached its {policy.max_hours}-hour limit; log in again",
            "disabled": "the account is disabled; ask an administrator",
        }[outcome]
    )
