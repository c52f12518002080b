"""``AccessSession``: the one audited door to the workbench's data.

An ``AccessSession`` is obtained by logging in (:func:`login`) or by resuming a
session a login started (:func:`resume`: the CLI's cached session, a browser's
cookie, a Jupyter kernel). Every method checks, in one transaction with the work:

* the session is live (30 minutes idle, 12 hours at most) and the account enabled;
* the member's role may perform the operation (:data:`~alpr_lib.access.roles.PERMISSIONS`);
* for data operations: a valid purpose, case number and reason
  (:mod:`~alpr_lib.access.purpose`), and a current training record — except under the
  ``training`` purpose on a synthetic database;

and records an audit entry — allowed, denied or failed — before any result is returned.

>>> session = login(store, "analyst", password, client="lab")  # doctest: +SKIP
>>> session.set_purpose("investigation", case="26-01234", reason="burglary series, Rhododendron Dr")
>>> session.search_plate("7ABC123").frame  # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..analytics import (
    Scene,
    fuzzy_rank,
    haversine_m,
    impossible_travel,
    match_pattern,
    rank_companions,
    scene_summary,
)
from ..analytics import canvass as canvass_reads
from ..analytics import common_plates as find_common_plates
from ..analytics import timeline as movement_timeline
from ..analytics.canvass import cameras_near, canvass_all
from ..errors import AccessDenied, AlprError, InvalidInput, NotAuthenticated, NotAvailable, NotFound
from ..hotlists import add_entries, alerts_frame, hotlists_frame, read_hotlist_csv, verify_alert
from ..ingest import ImportReport, import_csv
from ..matching import compile_pattern
from ..plates import equivalence_key, is_valid_plate, normalize
from ..store import Store
from ..store import queries as q
from ..store import schema as s
from ..store.queries import READ_SCHEMA
from . import audit
from .auth import (
    UserRecord,
    authenticate,
    check_password_policy,
    end_session,
    hash_password,
    open_session,
    refusal,
    session_state,
)
from .purpose import Policy, Why, check_why
from .review import MisuseRules, entries_frame, misuse_flags
from .roles import PERMISSIONS, PURPOSE_LIMITS, ROLES, is_data_operation, may

__all__ = [
    "DEFAULT_TRAINING_COURSE",
    "AccessSession",
    "Result",
    "identify",
    "login",
    "record_event",
    "resume",
]

T = TypeVar("T")
DEFAULT_TRAINING_COURSE = "ALPR operation, law and department policy"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789._-")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def login(
    store: Store, name: str, password: str, *, client: str = "cli", policy: Policy | None = None
) -> AccessSession:
    """Log a member in and return their :class:`AccessSession` (a new session).

    Every attempt is audited. Raises :class:`NotAuthenticated` with a plain reason.
    """
    now = _now()
    with store.atomic() as conn:
        user, outcome = authenticate(conn, name, password, now)
        sid, token = (None, None)
        if user is not None and outcome == "ok":
            sid, token = open_session(conn, user.id, client, now)
        audit.append(
            conn,
            operation="logon",
            outcome="ok" if outcome == "ok" else "denied",
            client=client,
            user_name=name[:64],
            role=user.role if user else None,
            params={"session": sid} if sid else None,
            detail=None if outcome == "ok" else outcome,
            now=now,
        )
    if user is None or sid is None or token is None:
        raise refusal(outcome)
    return AccessSession(store, user, client, session_id=sid, token=token, policy=policy)


def _session_refusal(outcome: str, policy: Policy) -> NotAuthenticated:
    return NotAuthenticated(
        {
            "unknown": "that session is not known; log in again",
            "ended": "that session was ended by logging out; log in again",
            "idle": f"the session expired after {policy.idle_minutes} minutes without use; log in again",
            "expired": f"the session reached its {policy.max_hours}-hour limit; log in again",
            "disabled": "the account is disabled; ask an administrator",
        }[outcome]
    )


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
        raise _session_refusal(outcome, policy)
    return AccessSession(store, user, client, session_id=sid, token=token, policy=policy)


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
        sa.select(sa.func.max(_TRAINING.c.expires_on))
        .where(_TRAINING.c.user_id == _USERS.c.id)
        .scalar_subquery()
        .label("trained_until"),
        sa.select(_META.c.value).where(_META.c.key == "synthetic").scalar_subquery().label("synthetic"),
    )
    .select_from(_SESSIONS.join(_USERS, _USERS.c.id == _SESSIONS.c.user_id))
    .where(_SESSIONS.c.id == sa.bindparam("sid"))
)
_TOUCH = (
    _SESSIONS.update()
    .where(_SESSIONS.c.id == sa.bindparam("sid"))
    .values(last_seen_at=sa.bindparam("now", type_=s.UTCDateTime()))
)


def _live_user(
    conn: Connection, token: str, policy: Policy, now: dt.datetime
) -> tuple[UserRecord | None, str, int | None]:
    """The session's member and state: ok, unknown, ended, idle, expired or disabled."""
    row, outcome = session_state(
        conn,
        now,
        idle=dt.timedelta(minutes=policy.idle_minutes),
        absolute=dt.timedelta(hours=policy.max_hours),
        token=token,
    )
    if row is None:
        return None, outcome, None
    u = conn.execute(
        sa.select(s.User.id, s.User.name, s.User.disabled, s.Role.name.label("role"))
        .join(s.Role, s.Role.id == s.User.role_id)
        .where(s.User.id == row.user_id)
    ).one()
    user = UserRecord(u.id, u.name, u.role, bool(u.disabled))
    if outcome == "ok" and user.disabled:
        outcome = "disabled"
        end_session(conn, row.id, now)
    return user, outcome, int(row.id)


def identify(store: Store, token: str, *, client: str, policy: Policy | None = None) -> UserRecord | None:
    """Who holds this live session token (a web server's check on each request), or None.

    Not audited when the session is live (that would log every page request); a session
    found expired or an account found disabled is audited once, as the session ends.
    """
    policy = policy or Policy()
    now = _now()
    with store.atomic() as conn:
        user, outcome, sid = _live_user(conn, token, policy, now)
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
        raise _session_refusal(outcome, policy)
    return entry


@dataclass(frozen=True)
class Result:
    """What a data operation returns: its rows as a polars DataFrame and the audit entry that records it.

    ``truncated`` says the rows were capped at the session's result limit; ``extra`` holds
    an operation's further frames or figures (per-plate counts, per-scene summaries ...).
    """

    frame: pl.DataFrame
    audit_id: int
    operation: str
    truncated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.frame.height

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of data commands: ``audit_id``, ``count``, ``truncated``, ``rows``."""
        return {
            "audit_id": self.audit_id,
            "operation": self.operation,
            "count": self.count,
            "truncated": self.truncated,
            "rows": self.frame.to_dicts(),
        }

    def _repr_html_(self) -> str:
        note = f"{self.count:,} rows{' (capped: narrow the search)' if self.truncated else ''}"
        return f"{self.frame._repr_html_()}<p>{note} · audit entry {self.audit_id}</p>"


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
            self._why = check_why(why, self.policy, synthetic=self._store.is_synthetic())
        except InvalidInput as exc:
            self._why = None
            with self._store.atomic() as conn:
                self._audit(conn, "purpose", "denied", detail=str(exc), **_why_fields(why))
            raise
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
        row = conn.execute(_GATE, {"sid": self._session_id}).one()
        if row.ended_at is not None:
            return _session_refusal("ended", self.policy), None
        if now - row.created_at > dt.timedelta(hours=self.policy.max_hours):
            end_session(conn, self._session_id, now)
            return _session_refusal("expired", self.policy), None
        if now - row.last_seen_at > dt.timedelta(minutes=self.policy.idle_minutes):
            end_session(conn, self._session_id, now)
            return _session_refusal("idle", self.policy), None
        if row.disabled:
            end_session(conn, self._session_id, now)
            return _session_refusal("disabled", self.policy), None
        conn.execute(_TOUCH, {"sid": self._session_id, "now": now})
        if not may(self.user.role, operation):
            allowed = ", ".join(sorted(PERMISSIONS.get(operation, ()))) or "no role"
            return AccessDenied(f"the {self.user.role} role may not {operation} (allowed: {allowed})"), None
        if not is_data_operation(operation):
            return None, None
        try:
            checked = check_why(why, self.policy, synthetic=row.synthetic == "true")
        except InvalidInput as exc:
            return exc, None
        limited = PURPOSE_LIMITS.get(self.user.role)
        if limited is not None and checked.purpose not in limited:
            return AccessDenied(f"the {self.user.role} role reaches data only for {', '.join(limited)}"), None
        if checked.purpose != "training":
            expires = row.trained_until
            if expires is None:
                return AccessDenied(
                    "no ALPR training is on record for you; a trainer records it with `workbench users train`"
                ), None
            if expires < now.date():
                return AccessDenied(
                    f"your ALPR training expired on {expires}; renew it with a trainer before using data"
                ), None
        return None, checked

    def _run(
        self,
        operation: str,
        params: dict[str, Any],
        work: Callable[[Connection], tuple[T, int | None]],
        why: Why | None = None,
    ) -> tuple[T, int]:
        """Gate, do ``work`` and audit it in one transaction; returns the work's value and the audit id.

        Refusals and failures are audited too, and nothing the work wrote is kept.
        """
        try:
            with self._store.atomic() as conn:
                refused, checked = self._gate(conn, operation, why)
                if refused is not None:
                    # Committed with the refusal: the denied attempt stays on record.
                    self._audit(
                        conn, operation, "denied", params=params, detail=str(refused), **_why_fields(why)
                    )
                else:
                    result, count = work(conn)
                    entry = self._audit(
                        conn, operation, "ok", params=params, result_count=count, **_why_fields(checked)
                    )
        except AlprError as exc:
            # Malformed input is a refusal (its message names no data); anything else a failure.
            outcome, detail = (
                ("denied", str(exc)) if isinstance(exc, InvalidInput) else ("error", type(exc).__name__)
            )
            with self._store.atomic() as conn:
                self._audit(conn, operation, outcome, params=params, detail=detail, **_why_fields(why))
            raise
        if refused is not None:
            raise refused
        return result, entry

    def _admin(
        self, operation: str, params: dict[str, Any], work: Callable[[Connection], tuple[T, int | None]]
    ) -> T:
        return self._run(operation, params, work)[0]

    def _why_of(
        self, purpose: str | None = None, case: str | None = None, reason: str | None = None
    ) -> Why | None:
        if purpose is None and case is None and reason is None:
            return self._why
        return Why(purpose, case, reason)

    def _query(
        self,
        operation: str,
        params: dict[str, Any],
        work: Callable[[Connection, int], tuple[pl.DataFrame, bool, dict[str, Any]]],
        why: Why | None,
        limit: int | None,
    ) -> Result:
        """A data operation: gate (purpose, case, training), query, audit; the rows as a :class:`Result`."""
        cap = self.policy.result_limit if limit is None else limit
        if cap < 1:
            raise InvalidInput("the result limit must be at least 1")

        def counted(conn: Connection) -> tuple[tuple[pl.DataFrame, bool, dict[str, Any]], int]:
            frame, truncated, extra = work(conn, cap)
            return (frame, truncated, extra), frame.height

        (frame, truncated, extra), entry = self._run(operation, {**params, "limit": cap}, counted, why)
        return Result(frame, entry, operation, truncated, extra)

    # -- data ---------------------------------------------------------------------------------

    def search_plate(
        self,
        plate: str,
        *,
        state: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int | None = None,
        purpose: str | None = None,
        case: str | None = None,
        reason: str | None = None,
    ) -> Result:
        """Every read of exactly this plate (after normalisation), oldest first, in ``[since, until)``."""
        params = {"plate": plate, "state": state, "since": _iso(since), "until": _iso(until)}

        def work(conn: Connection, cap: int) -> tuple[pl.DataFrame, bool, dict[str, Any]]:
            text = normalize(plate)
            if not text:
                raise InvalidInput("give a plate: letters and digits")
            since_ms, until_ms = _window(since, until)
            ids = q.plate_ids(conn, text, (state or "").strip().upper() or None)
            frame = q.fetch_reads(conn, ids, since_ms=since_ms, until_ms=until_ms, limit=cap + 1)
            return frame.head(cap), frame.height > cap, {}

        return self._query("search.plate", params, work, self._why_of(purpose, case, reason), limit)

    def _not_yet(self, operation: str, params: dict[str, Any], why: Why | None) -> Result:
        def work(conn: Connection, cap: int) -> tuple[pl.DataFrame, bool, dict[str, Any]]:
            raise NotAvailable(f"{operation} is not available yet in this version of the workbench")

        return self._query(operation, params, work, why, None)

    def search_partial(
        self,
        pattern: str,
        *,
        state: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        cameras: list[str] | None = None,
        near: tuple[float, float, float] | None = None,
        min_confidence: float | None = None,
        limit: int | None = None,
        purpose: str | None = None,
        case: str | None = None,
        reason: str | None = None,
    ) -> Result:
        """Reads of every plate matching a partial ``pattern`` (see :mod:`alpr_lib.matching`).

        Filters: ``state``, time window, ``cameras`` (names), ``near`` (lat, lon, metres),
        ``min_confidence``. ``extra["plates"]`` lists the matching plates with their reads.
        """
        params = _filters(state, since, until, cameras, near, min_confidence) | {"pattern": pattern}

        def work(conn: Connection, cap: int) -> tuple[pl.DataFrame, bool, dict[str, Any]]:
            compiled = compile_pattern(pattern)
            plates, codes = self._store.plate_index.codes(conn)
            matched = match_pattern(plates, compiled, _state(state), codes)
            frame, truncated = self._reads_of(conn, matched, cap, since, until, cameras, near, min_confidence)
            plates = _with_counts(matched, frame)
            return frame, truncated, {"plates": plates, "pattern": compiled.regex}

        return self._query("search.partial", params, work, self._why_of(purpose, case, reason), limit)

    def search_fuzzy(
        self,
        plate: str,
        *,
        max_edits: int = 1,
        state: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        cameras: list[str] | None = None,
        near: tuple[float, float, float] | None = None,
        min_confidence: float | None = None,
        limit: int | None = None,
        purpose: str | None = None,
        case: str | None = None,
        reason: str | None = None,
    ) -> Result:
        """Reads of plates within ``max_edits`` of ``plate`` where look-alike characters cost nothing.

        Each read says why its plate matched (``distance``, ``confusions``, ``why``); closest first.
        ``extra["plates"]`` ranks the plates.
        """
        params = _filters(state, since, until, cameras, near, min_confidence) | {
            "plate": plate,
            "max_edits": max_edits,
        }

        def work(conn: Connection, cap: int) -> tuple[pl.DataFrame, bool, dict[str, Any]]:
            text = normalize(plate)
            if not is_valid_plate(text):
                raise InvalidInput("give a plate of 2-8 letters and digits")
            if not isinstance(max_edits, int) or not 0 <= max_edits <= 3:
                raise InvalidInput("--max-edits is a whole number from 0 to 3")
            candidates = q.plates_by_key(conn, self._store.plate_index, equivalence_key(text), max_edits)
            if state:
                candidates = candidates.filter(pl.col("state") == _state(state))
            ranked = fuzzy_rank(text, candidates, max_edits)
            frame, truncated = self._reads_of(
                conn, ranked, cap, since, until, cameras, near, min_confidence, rank=True
            )
            return frame, truncated, {"plates": _with_counts(ranked, frame)}

        return self._query("search.fuzzy", params, work, self._why_of(purpose, case, reason), limit)

    def _reads_of(
        self,
        conn: Connection,
        plates: pl.DataFrame,
        cap: int,
        since: dt.datetime | None,
        until: dt.datetime | None,
        cameras: list[str] | None,
        near: tuple[float, float, float] | None,
        min_confidence: float | None,
        *,
        rank: bool = False,
    ) -> tuple[pl.DataFrame, bool]:
        """The reads of the given plates under the search filters, at most ``cap`` (and whether capped)."""
        since_ms, until_ms = _window(since, until)
        if min_confidence is not None and not 0 <= min_confidence <= 1:
            raise InvalidInput("the minimum confidence is between 0 and 1")
        camera_ids = None
        scene = None
        all_cams = q.cameras(conn) if cameras or near is not None else None
        if cameras:
            wanted = {c.strip() for c in cameras if c.strip()}
            found = all_cams.filter(pl.col("camera").is_in(list(wanted)))
            if found.height < len(wanted):
                raise InvalidInput(
                    f"{len(wanted) - found.height} of the cameras named are not known; see the camera list"
                )
            camera_ids = found["camera_id"].to_list()
        if near is not None:
            lat, lon, radius = near
            scene = Scene(lat, lon, radius, 0, 1)  # a place only: the search's own window applies
            fixed, mobile = cameras_near(all_cams, scene)
            ids = set(fixed + mobile)
            camera_ids = sorted(ids if camera_ids is None else ids & set(camera_ids))
        frame = q.fetch_reads(
            conn,
            plates["plate_id"].to_list(),
            since_ms=since_ms,
            until_ms=until_ms,
            limit=None if scene is not None else cap + 1,
            camera_ids=camera_ids,
            min_confidence=min_confidence,
        )
        if scene is not None:
            frame = frame.filter(
                haversine_m(pl.col("lat"), pl.col("lon"), scene.lat, scene.lon) <= scene.radius_m
            )
        if rank:
            frame = _ranked(frame, plates)
        return frame.head(cap), frame.height > cap

    def _fetch_scenes(self, conn: Connection, scenes: list[Scene]) -> list[pl.DataFrame]:
        """Each scene's candidate reads: the fixed cameras near it, and mobile units' reads in its box."""
        if not scenes:
            raise InvalidInput("give at least one scene: a place (LAT,LON), a radius and a time window")
        if len(scenes) > 20:
            raise InvalidInput("at most 20 scenes at once")
        all_cams = q.cameras(conn)
        per_scene = []
        for scene in scenes:
            fixed, mobile = cameras_near(all_cams, scene)
            per_scene.append(
                pl.concat(
                    [
                        q.reads_at_cameras(conn, fixed, scene.since_ms, scene.until_ms),
                        q.reads_at_cameras(conn, mobile, scene.since_ms, scene.until_ms, box=scene.box),
                    ]
                )
            )
        return per_scene

    def _scene_reads(self, conn: Connection, scenes: list[Scene]) -> pl.DataFrame:
        return canvass_reads(self._fetch_scenes(conn, scenes), scenes)

    def canvass(
        self,
        scenes: Sequence[Scene | Mapping[str, Any]],
        *,
        limit: int | None = None,
        purpose: str | None = None,
        case: str | None = None,
        reason: str | None = None,
    ) -> Result:
        """Reads within each scene's radius and time window (nearby cameras first, then by camera and time).

        A scene is a :class:`~alpr_lib.analytics.Scene` or a mapping with ``lat``, ``lon``,
        ``radius_m``, ``since`` and ``until`` (aware datetimes); a bad one is refused and audited.
        The frame holds the reads with ``scene`` and ``distance_m``; ``extra["plates"]`` per-plate
        counts, ``extra["scenes"]`` per-scene summaries.
        """
        params = {"scenes": [_scene_params(sc) for sc in scenes]}

        def work(conn: Connection, cap: int) -> tuple[pl.DataFrame, bool, dict[str, Any]]:
            parsed = [_as_scene(sc) for sc in scenes]
            reads, counts, summary = canvass_all(self._fetch_scenes(conn, parsed), parsed)
            return reads.head(cap), reads.height > cap, {"plates": counts, "scenes": summary}

        return self._query("canvass", params, work, self._why_of(purpose, case, reason), limit)

    def common_plates(
        self,
        scenes: Sequence[Scene | Mapping[str, Any]],
        *,
        min_scenes: int = 2,
        limit: int | None = None,
        purpose: str | None = None,
        case: str | None = None,
        reason: str | None = None,
    ) -> Result:
        """Plates seen near at least ``min_scenes`` of the scenes, each in its window — most scenes first.

        ``extra["reads"]`` holds those plates' reads at the scenes; ``extra["scenes"]`` the summaries.
        """
        params = {"scenes": [_scene_params(sc) for sc in scenes], "min": min_scenes}

        def work(conn: Connection, cap: int) -> tuple[pl.DataFrame, bool, dict[str, Any]]:
            parsed = [_as_scene(sc) for sc in scenes]
            if not 1 <= min_scenes <= max(len(parsed), 1):
                raise InvalidInput("--min is at least 1 and at most the number of scenes")
            reads = self._scene_reads(conn, parsed)
            found = find_common_plates(reads, min_scenes)
            support = reads.join(found.select("plate", "state"), on=["plate", "state"], how="semi")
            return (
                found.head(cap),
                found.height > cap,
                {"reads": support, "scenes": scene_summary(reads, parsed)},
            )

        return self._query("common", params, work, self._why_of(purpose, case, reason), limit)

    def timeline(
        self,
        plate: str,
        *,
        state: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int | None = None,
        timezone: str = "America/Los_Angeles",
        purpose: str | None = None,
        case: str | None = None,
        reason: str | None = None,
    ) -> Result:
        """One plate's movements: sightings in time order (the frame), and in ``extra`` the ``places`` it
        dwells, the local ``hours`` it is seen, the ``path`` between sightings and a ``summary``."""
        params = {"plate": plate, "state": state, "since": _iso(since), "until": _iso(until)}

        def work(conn: Connection, cap: int) -> tuple[pl.DataFrame, bool, dict[str, Any]]:
            text = normalize(plate)
            if not is_valid_plate(text):
                raise InvalidInput("give a plate of 2-8 letters and digits")
            since_ms, until_ms = _window(since, until)
            ids = q.plate_ids(conn, text, _state(state))
            reads = q.fetch_reads(conn, ids, since_ms=since_ms, until_ms=until_ms, limit=cap + 1)
            result = movement_timeline(reads.head(cap), timezone=timezone)
            sightings = result.pop("sightings")
            return sightings, reads.height > cap, result

        return self._query("timeline", params, work, self._why_of(purpose, case, reason), limit)

    def convoy(
        self,
        plate: str,
        *,
        state: str | None = None,
        window_s: float = 90,
        min_times: int = 3,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int | None = None,
        purpose: str | None = None,
        case: str | None = None,
        reason: str | None = None,
    ) -> Result:
        """Plates seen at the same cameras as ``plate`` within ``window_s`` seconds of it, at least
        ``min_times`` separate times — ranked. ``extra["together"]`` holds the shared sightings."""
        params = {
            "plate": plate,
            "state": state,
            "window_s": window_s,
            "min_times": min_times,
            "since": _iso(since),
            "until": _iso(until),
        }

        def work(conn: Connection, cap: int) -> tuple[pl.DataFrame, bool, dict[str, Any]]:
            text = normalize(plate)
            if not is_valid_plate(text):
                raise InvalidInput("give a plate of 2-8 letters and digits")
            if not 0 < window_s <= 3600:
                raise InvalidInput("the convoy window is more than 0 and at most 3600 seconds")
            if min_times < 1:
                raise InvalidInput("--min-times is at least 1")
            since_ms, until_ms = _window(since, until)
            ids = q.plate_ids(conn, text, _state(state))
            counted = q.companion_counts(conn, ids, int(window_s * 1000), since_ms, until_ms, min_times)
            ranked = rank_companions(counted)
            top = ranked.head(min(cap, 50))
            with_ids = q.plate_id_pairs(conn, top.select("plate", "state"))
            together = q.reads_beside(conn, ids, with_ids, int(window_s * 1000), since_ms, until_ms)
            return ranked.head(cap), ranked.height > cap, {"together": together}

        return self._query("convoy", params, work, self._why_of(purpose, case, reason), limit)

    def clones(
        self,
        *,
        plate: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        min_kmh: float = 200,
        min_distance_m: float = 5000,
        limit: int | None = None,
        purpose: str | None = None,
        case: str | None = None,
        reason: str | None = None,
    ) -> Result:
        """Pairs of consecutive reads of one plate that imply impossible travel (faster than ``min_kmh``
        over at least ``min_distance_m``): one plate on two vehicles. Fastest first."""
        params = {
            "plate": plate,
            "since": _iso(since),
            "until": _iso(until),
            "min_kmh": min_kmh,
            "min_distance_m": min_distance_m,
        }

        def work(conn: Connection, cap: int) -> tuple[pl.DataFrame, bool, dict[str, Any]]:
            if not (min_kmh > 0 and min_distance_m >= 0):
                raise InvalidInput("the speed must be above 0 km/h and the distance at least 0 m")
            since_ms, until_ms = _window(since, until)
            ids = None
            if plate is not None:
                text = normalize(plate)
                if not is_valid_plate(text):
                    raise InvalidInput("give a plate of 2-8 letters and digits")
                ids = q.plate_ids(conn, text)
            pairs = impossible_travel(
                q.read_positions(conn, since_ms, until_ms, ids),
                min_kmh=min_kmh,
                min_distance_m=min_distance_m,
            )
            frame = q.describe_read_pairs(conn, pairs.head(cap))
            return frame, pairs.height > cap, {}

        return self._query("clones", params, work, self._why_of(purpose, case, reason), limit)

    def export(self, read_ids: list[int], *, agency: str, **why: Any) -> Result:
        """Reads packaged for another law-enforcement or prosecutorial agency."""
        return self._not_yet("export", {"reads": len(read_ids), "agency": agency}, self._why_of(**why))

    def alerts(
        self,
        *,
        status: str | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        limit: int | None = None,
        purpose: str | None = None,
        case: str | None = None,
        reason: str | None = None,
    ) -> Result:
        """Hotlist alerts, newest first: the read, the entry, how it matched (``exact`` or ``ocr``, with the
        look-alike positions), whether the states agree, and its verification (``unverified`` until a
        member records what the state system returned)."""
        params = {"status": status, "since": _iso(since), "until": _iso(until)}

        def work(conn: Connection, cap: int) -> tuple[pl.DataFrame, bool, dict[str, Any]]:
            if status not in (None, "unverified", "confirmed", "cleared"):
                raise InvalidInput("an alert's status is unverified, confirmed or cleared")
            since_ms, until_ms = _window(since, until)
            frame = alerts_frame(conn, status=status, since_ms=since_ms, until_ms=until_ms, limit=cap + 1)
            return frame.head(cap), frame.height > cap, {}

        return self._query("alerts.list", params, work, self._why_of(purpose, case, reason), limit)

    def verify_alert(
        self,
        alert_id: int,
        *,
        result: str,
        note: str,
        purpose: str | None = None,
        case: str | None = None,
        reason: str | None = None,
    ) -> Result:
        """Record the verification of an alert against the state system (LEDS): ``confirmed`` makes it
        actionable, ``cleared`` closes it. Who and when are recorded; a verification is never changed."""
        params = {"alert": alert_id, "result": result, "note": note}

        def work(conn: Connection, cap: int) -> tuple[pl.DataFrame, bool, dict[str, Any]]:
            verify_alert(conn, int(alert_id), result=result, note=note, user_id=self.user.id, now=_now())
            return alerts_frame(conn, alert_id=int(alert_id)), False, {}

        return self._query("alerts.verify", params, work, self._why_of(purpose, case, reason), None)

    def import_hotlist(
        self, path: Path, *, name: str, timezone: str = "America/Los_Angeles"
    ) -> dict[str, Any]:
        """Import a hotlist CSV into hotlist ``name`` (administrators). Bad lines are reported, not imported.

        Entries match the reads ingested from then on."""
        params: dict[str, Any] = {"file": Path(path).name, "hotlist": name}

        def work(conn: Connection) -> tuple[dict[str, Any], int]:
            if not name.strip():
                raise InvalidInput("name the hotlist, e.g. --name 'Stolen vehicles (LEDS)'")
            parsed = read_hotlist_csv(Path(path), hotlist=name.strip(), timezone=timezone)
            added = add_entries(conn, parsed.entries)
            return {"hotlist": name.strip(), "added": added, "rejected": parsed.rejected}, added

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

        self._admin("users.add", params, work)

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

        return self._admin("users.list", {}, work)

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

        return self._admin("users.train", params, work)

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

        self._admin(operation, {"name": name}, work)

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
        self._admin("import-reads.start", params, lambda conn: (None, None))
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

        return self._admin("audit.verify", params, work)

    def audit_report(
        self,
        *,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        user: str | None = None,
        timezone: str = "America/Los_Angeles",
        rules: MisuseRules | None = None,
        history_days: int = 90,
    ) -> Result:
        """Audit entries in ``[since, until)`` (of one member when ``user`` is given) and misuse flags.

        The frame holds the entries; ``extra["flags"]`` the flags (see :mod:`.review`), judged
        against the ``history_days`` before ``since`` as well; ``extra["checkpoint"]`` the audit
        chain's head before this report's own entry. Supervisors and administrators.
        """
        until = until or _now()
        since = since or until - dt.timedelta(days=7)
        params = {"since": _iso(since), "until": _iso(until), "user": user}

        def work(conn: Connection) -> tuple[tuple[pl.DataFrame, pl.DataFrame], int]:
            _window(since, until)
            t = s.AuditEntry.__table__

            def entries(start: dt.datetime) -> pl.DataFrame:
                query = sa.select(t).where(t.c.ts >= start, t.c.ts < until).order_by(t.c.id)
                if user:
                    query = query.where(t.c.user_name == user)
                return entries_frame(conn.execute(query).mappings())

            history = entries(since - dt.timedelta(days=history_days))
            shown = history.filter(pl.col("ts") >= since)
            flags = misuse_flags(shown, history=history, timezone=timezone, rules=rules)
            return (shown, flags, audit.take_checkpoint(conn)), shown.height

        (frame, flags, head), entry = self._run("audit.report", params, work)
        # The chain's head goes into the report: a filed report is a checkpoint kept outside the database.
        return Result(frame, entry, "audit.report", False, {"flags": flags, "checkpoint": head})

    def backup(self, dest: Path) -> Path:
        """A consistent online copy of the database (SQLite) at ``dest``."""
        return self._admin("backup", {"dest": str(dest)}, lambda conn: (self._store.backup(Path(dest)), None))


def _why_fields(why: Why | None) -> dict[str, Any]:
    """The audit columns of a purpose as given (cut to the columns' sizes), for refused attempts too."""
    if why is None:
        return {}
    return {
        "purpose": (why.purpose or None) and str(why.purpose)[:32],
        "case_number": (why.case or None) and str(why.case)[:64],
        "reason": (why.reason or None) and str(why.reason)[:2000],
    }


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when else None


def _window(since: dt.datetime | None, until: dt.datetime | None) -> tuple[int | None, int | None]:
    for when in (since, until):
        if when is not None and when.tzinfo is None:
            raise InvalidInput("times must carry a time zone (the CLI reads them in the department's zone)")
    since_ms, until_ms = q.to_ms(since), q.to_ms(until)
    if since_ms is not None and until_ms is not None and until_ms <= since_ms:
        raise InvalidInput("the end of the time window must be after its start")
    return since_ms, until_ms


def _state(state: str | None) -> str | None:
    value = (state or "").strip().upper()
    if value and not (len(value) == 2 and value.isalpha()):
        raise InvalidInput("a state is two letters, e.g. OR")
    return value or None


def _filters(
    state: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    cameras: list[str] | None,
    near: tuple[float, float, float] | None,
    min_confidence: float | None,
) -> dict[str, Any]:
    return {
        "state": state,
        "since": _iso(since),
        "until": _iso(until),
        "cameras": cameras,
        "near": list(near) if near else None,
        "min_confidence": min_confidence,
    }


def _ranked(reads: pl.DataFrame, plates: pl.DataFrame) -> pl.DataFrame:
    """Reads with their plate's ``distance``, ``confusions`` and ``why``: closest first, then by time."""
    info = {
        (p, s): (d, c, w)
        for p, s, d, c, w in plates.select("plate", "state", "distance", "confusions", "why").iter_rows()
    }
    keys = [info[k] for k in zip(reads["plate"].to_list(), reads["state"].to_list(), strict=True)]
    ts, ids = reads["ts"].to_physical().to_list(), reads["read_id"].to_list()
    order = pl.Series(
        sorted(range(reads.height), key=lambda i: (keys[i][0], keys[i][1], ts[i], ids[i])), dtype=pl.UInt32
    )
    extra = [
        pl.Series("distance", [k[0] for k in keys], dtype=pl.Int64),
        pl.Series("confusions", [k[1] for k in keys], dtype=pl.Int64),
        pl.Series("why", [k[2] for k in keys], dtype=pl.String),
    ]
    return reads.hstack(extra)[order]


def _with_counts(plates: pl.DataFrame, reads: pl.DataFrame) -> pl.DataFrame:
    """The matched plates with how many of the returned reads are theirs and when last seen.

    Counted in Python: on a search's few hundred rows a polars group-by costs more than the data.
    """
    counts: dict[tuple[str, str], int] = {}
    last: dict[tuple[str, str], int] = {}
    columns = (reads["plate"].to_list(), reads["state"].to_list(), reads["ts"].to_physical().to_list())
    for plate, state, ts in zip(*columns, strict=True):
        key = (plate, state)
        counts[key] = counts.get(key, 0) + 1
        if ts > last.get(key, -(2**62)):
            last[key] = ts
    keys = list(zip(plates["plate"].to_list(), plates["state"].to_list(), strict=True))
    kept = plates.drop("plate_id", "equiv_key", strict=False)
    return kept.hstack(
        [
            pl.Series("reads", [counts.get(k, 0) for k in keys], dtype=pl.Int64),
            pl.Series("last_seen", [last.get(k) for k in keys], dtype=pl.Int64).cast(READ_TS),
        ]
    )


def _as_scene(scene: Scene | Mapping[str, Any]) -> Scene:
    if isinstance(scene, Scene):
        return scene
    try:
        since, until = scene["since"], scene["until"]
        lat, lon, radius = float(scene["lat"]), float(scene["lon"]), float(scene["radius_m"])
    except (KeyError, TypeError, ValueError):
        raise InvalidInput("a scene needs lat, lon, radius_m, since and until") from None
    since_ms, until_ms = _window(since, until)
    if since_ms is None or until_ms is None:
        raise InvalidInput("give each scene a time window (from and to)")
    return Scene(lat, lon, radius, since_ms, until_ms)


def _scene_params(scene: Scene | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(scene, Scene):
        return scene.as_dict()
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in scene.items()}


READ_TS = READ_SCHEMA["ts"]
