"""Hotlists and alerts: plates of interest, the reads that match them, and their verification.

Every ingested read is matched against the active hotlist entries: exactly, and OCR-tolerantly
(the same plate but for at most :data:`MAX_OCR_SUBSTITUTIONS` look-alike characters, ``8`` for
``B`` ...). A match becomes an ``unverified`` alert that records the read, the entry, how it
matched and whether the states agree. Nobody acts on an alert before a member has verified
the plate against the state system (LEDS in Oregon, NCIC nationally) and recorded the result:
``confirmed`` makes it actionable, ``cleared`` closes it. An OCR match or a state that differs
is flagged as such — a misread 3 for 7 once put an innocent driver at gunpoint.
"""

from __future__ import annotations

import csv
import datetime as dt
import zoneinfo
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from .errors import InvalidInput, NotFound
from .plates import equivalence_key, is_valid_plate, normalize
from .store import schema as s
from .store.queries import alternatives_of
from .store.writes import insert_ignoring_duplicates

__all__ = [
    "HOTLIST_KINDS",
    "MAX_OCR_SUBSTITUTIONS",
    "HotlistFile",
    "add_entries",
    "alerts_count",
    "alerts_frame",
    "hotlists_frame",
    "match_new_reads",
    "max_read_id",
    "read_hotlist_csv",
    "verify_alert",
]

HOTLIST_KINDS = ("stolen-vehicle", "stolen-plate", "wanted", "missing", "warrant")
MAX_OCR_SUBSTITUTIONS = 2

_KIND_WORDS = {
    "stolenvehicle": "stolen-vehicle",
    "stolen": "stolen-vehicle",
    "stolenauto": "stolen-vehicle",
    "stolenplate": "stolen-plate",
    "wanted": "wanted",
    "wantedperson": "wanted",
    "missing": "missing",
    "missingperson": "missing",
    "endangered": "missing",
    "warrant": "warrant",
}
_COLUMNS = {
    "plate": ("plate", "plate number", "license plate", "tag"),
    "state": ("state", "plate state", "jurisdiction"),
    "kind": ("reason", "kind", "type", "category"),
    "source": ("source", "agency", "originating agency"),
    "expires": ("expiry", "expires", "expiration", "expires at", "expiry date"),
    "note": ("note", "notes", "comment", "description"),
}


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum())


@dataclass
class HotlistFile:
    """A parsed hotlist CSV: good entries, and rejected lines with their reasons (no plate text)."""

    entries: pl.DataFrame
    rejected: list[tuple[int, str]] = field(default_factory=list)


def read_hotlist_csv(path: Path, *, hotlist: str, timezone: str = "America/Los_Angeles") -> HotlistFile:
    """Read a hotlist CSV: ``plate`` and ``reason`` (stolen vehicle, stolen plate, wanted person,
    missing person, warrant) are required; ``state``, ``source``, ``expiry`` (ISO) and ``note`` optional."""
    tz = zoneinfo.ZoneInfo(timezone)
    try:
        handle = Path(path).open(newline="", encoding="utf-8-sig")
    except OSError as exc:
        raise InvalidInput(f"cannot read the hotlist file {Path(path).name}: {exc.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        header = next(reader, None)
        if not header:
            raise InvalidInput("the hotlist file is empty")
        names = {_squash(h): i for i, h in enumerate(header)}
        where: dict[str, int] = {}
        for ours, aliases in _COLUMNS.items():
            for alias in aliases:
                if _squash(alias) in names:
                    where[ours] = names[_squash(alias)]
                    break
        missing = [c for c in ("plate", "kind") if c not in where]
        if missing:
            raise InvalidInput(
                "the hotlist file needs a column for "
                + " and ".join("reason" if c == "kind" else c for c in missing)
            )
        rows, rejected = [], []
        for line, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue

            def cell(name: str, cells: list[str] = cells) -> str:
                i = where.get(name)
                return cells[i].strip() if i is not None and i < len(cells) else ""

            plate = normalize(cell("plate"))
            kind = _KIND_WORDS.get(_squash(cell("kind")))
            state = cell("state").upper()
            if not is_valid_plate(plate):
                rejected.append((line, "the plate is not 2-8 letters and digits"))
                continue
            if kind is None:
                rejected.append(
                    (line, "unknown reason; use stolen vehicle, stolen plate, wanted, missing or warrant")
                )
                continue
            if state and not (len(state) == 2 and state.isalpha()):
                rejected.append((line, "the state is not two letters"))
                continue
            expires = None
            if cell("expires"):
                try:
                    expires = dt.datetime.fromisoformat(cell("expires"))
                except ValueError:
                    rejected.append((line, "the expiry is not an ISO date or time"))
                    continue
                if expires.tzinfo is None:
                    expires = expires.replace(tzinfo=tz)
            rows.append(
                {
                    "hotlist": hotlist,
                    "plate": plate,
                    "state": state,
                    "kind": kind,
                    "source": cell("source"),
                    "expires_at": expires,
                    "note": cell("note"),
                }
            )
    schema = {
        "hotlist": pl.String,
        "plate": pl.String,
        "state": pl.String,
        "kind": pl.String,
        "source": pl.String,
        "expires_at": pl.Datetime("us", "UTC"),
        "note": pl.String,
    }
    return HotlistFile(pl.DataFrame(rows, schema=schema), rejected)


def add_entries(conn: Connection, entries: pl.DataFrame) -> int:
    """Add hotlist entries (columns ``hotlist``, ``plate``, ``state``, ``kind``; optionally ``note``,
    ``source``, ``expires_at``). Hotlists named in ``hotlist`` are created when missing."""
    now = dt.datetime.now(dt.UTC)
    ids: dict[str, int] = dict(conn.execute(sa.select(s.Hotlist.name, s.Hotlist.id)).all())
    rows = []
    for e in entries.iter_rows(named=True):
        if e["kind"] not in HOTLIST_KINDS:
            raise InvalidInput(f"unknown hotlist kind {e['kind']!r}; use one of {', '.join(HOTLIST_KINDS)}")
        if e["hotlist"] not in ids:
            ids[e["hotlist"]] = conn.execute(
                sa.insert(s.Hotlist)
                .values(name=e["hotlist"], source=e.get("source") or "", updated_at=now)
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
                "source": e.get("source") or "",
                "added_at": now,
                "expires_at": e.get("expires_at"),
            }
        )
    if rows:
        conn.execute(sa.insert(s.HotlistEntry), rows)
        conn.execute(sa.update(s.Hotlist).where(s.Hotlist.id.in_(set(ids.values()))).values(updated_at=now))
    return len(rows)


def _compare(read: str, listed: str) -> tuple[str, int, str | None]:
    """How a read plate matches a listed plate of the same equivalence key: kind, substitutions, detail."""
    if read == listed:
        return "exact", 0, None
    diffs = [
        f"position {i + 1}: {b} listed, {a} read"
        for i, (a, b) in enumerate(zip(read, listed, strict=True))
        if a != b
    ]
    return "ocr", len(diffs), "; ".join(diffs)


def match_new_reads(conn: Connection, after_read_id: int, *, now: dt.datetime | None = None) -> int:
    """Create an unverified alert for every read with id above ``after_read_id`` that matches an active
    hotlist entry — exactly or with at most :data:`MAX_OCR_SUBSTITUTIONS` look-alike characters.
    Returns the alerts created (a read already alerted for an entry is not alerted twice)."""
    now = now or dt.datetime.now(dt.UTC)
    r, p, e = s.Read.__table__, s.Plate.__table__, s.HotlistEntry.__table__
    alt = s.ReadAlternative.__table__
    live = sa.or_(e.c.expires_at.is_(None), e.c.expires_at > now)
    top = conn.execute(
        sa.select(r.c.id, r.c.ts, p.c.plate, p.c.state, e.c.id, e.c.plate, e.c.state, sa.null(), sa.false())
        .select_from(r.join(p, p.c.id == r.c.plate_id).join(e, e.c.equiv_key == p.c.equiv_key))
        .where(r.c.id > after_read_id, live)
        .order_by(r.c.id, e.c.id)  # alerts numbered in the order of the reads, the same on every run
    ).all()
    # A read whose other reading is on a hotlist is alerted too, after its top reading's matches: the
    # verifier sees which reading matched and checks the crop.
    others = conn.execute(
        sa.select(
            alt.c.read_id,
            alt.c.ts,
            p.c.plate,
            p.c.state,
            e.c.id,
            e.c.plate,
            e.c.state,
            alt.c.confidence,
            sa.true(),
        )  # fmt: skip
        .select_from(alt.join(p, p.c.id == alt.c.plate_id).join(e, e.c.equiv_key == p.c.equiv_key))
        .where(alt.c.read_id > after_read_id, live)
        .order_by(alt.c.read_id, alt.c.rank, e.c.id)
    ).all()
    rows = []
    for read_id, ts, plate, state, entry_id, listed, listed_state, alt_confidence, other in [*top, *others]:
        kind, substitutions, detail = _compare(plate, listed)
        if substitutions > MAX_OCR_SUBSTITUTIONS:
            continue
        if other:
            share = "" if alt_confidence is None else f", {round(alt_confidence * 100)}% confidence"
            detail = f"its other reading {plate}{share}" + (f"; {detail}" if detail else "")
            kind = "alternative"
        rows.append(
            {
                "read_id": read_id,
                "entry_id": entry_id,
                "read_ts": ts,
                "match": kind,
                "state_agrees": None if not (state and listed_state) else state == listed_state,
                "detail": detail,
                "status": "unverified",
                "actionable": False,
                "created_at": now,
            }
        )
    return insert_ignoring_duplicates(conn, s.Alert.__table__, rows, ["read_id", "entry_id"])


def max_read_id(conn: Connection) -> int:
    """The highest read id so far (0 for an empty store): new reads get larger ids."""
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(s.Read.id), 0))).scalar_one())


ALERT_SCHEMA: dict[str, pl.DataType] = {
    "alert_id": pl.Int64(),
    "status": pl.String(),
    "actionable": pl.Boolean(),
    "match": pl.String(),
    "state_agrees": pl.Boolean(),
    "detail": pl.String(),
    "read_plate": pl.String(),
    "read_state": pl.String(),
    "listed_plate": pl.String(),
    "listed_state": pl.String(),
    "kind": pl.String(),
    "hotlist": pl.String(),
    "ts": pl.Datetime("ms", "UTC"),
    "camera": pl.String(),
    "lat": pl.Float64(),
    "lon": pl.Float64(),
    "confidence": pl.Float64(),
    "char_confidence": pl.String(),
    "read_id": pl.Int64(),
    "crop_path": pl.String(),
    "verified_by": pl.String(),
    "verified_at": pl.Datetime("us", "UTC"),
    "note": pl.String(),
    # The read's other readings, best first ("7KX128 64%, 7KX12B 40%"): what the verifier weighs.
    "alternatives": pl.String(),
}


def alerts_count(
    conn: Connection,
    *,
    status: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    alert_id: int | None = None,
) -> int:
    """How many alerts (of a status, or this one) were raised by reads in ``[since, until]``."""
    a = s.Alert.__table__.c
    query = sa.select(sa.func.count()).select_from(s.Alert.__table__)
    if alert_id is not None:
        query = query.where(a.id == alert_id)
    if status:
        query = query.where(a.status == status)
    if since_ms is not None:
        query = query.where(a.read_ts >= since_ms)
    if until_ms is not None:
        query = query.where(a.read_ts <= until_ms)
    return int(conn.execute(query).scalar_one())


def alerts_frame(
    conn: Connection,
    *,
    status: str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    alert_id: int | None = None,
    limit: int | None = None,
) -> pl.DataFrame:
    """Alerts, newest first, with their read, the hotlist entry, how they matched and their verification."""
    a, r, p, c = s.Alert.__table__, s.Read.__table__, s.Plate.__table__, s.Camera.__table__
    e, h, u = s.HotlistEntry.__table__, s.Hotlist.__table__, s.User.__table__
    query = (
        sa.select(
            a.c.id,
            a.c.status,
            a.c.actionable,
            a.c.match,
            a.c.state_agrees,
            a.c.detail,
            p.c.plate,
            p.c.state,
            e.c.plate,
            e.c.state,
            e.c.kind,
            h.c.name,
            a.c.read_ts,
            c.c.name,
            r.c.lat,
            r.c.lon,
            r.c.confidence,
            r.c.char_confidence,
            a.c.read_id,
            r.c.crop_path,
            u.c.name,
            a.c.verified_at,
            a.c.note,
        )
        .select_from(
            a.outerjoin(r, r.c.id == a.c.read_id)
            .outerjoin(p, p.c.id == r.c.plate_id)
            .outerjoin(c, c.c.id == r.c.camera_id)
            .outerjoin(e, e.c.id == a.c.entry_id)
            .outerjoin(h, h.c.id == e.c.hotlist_id)
            .outerjoin(u, u.c.id == a.c.verified_by)
        )
        .order_by(a.c.read_ts.desc(), a.c.id.desc())
    )
    if status:
        query = query.where(a.c.status == status)
    if since_ms is not None:
        query = query.where(a.c.read_ts >= since_ms)
    if until_ms is not None:
        query = query.where(a.c.read_ts <= until_ms)
    if alert_id is not None:
        query = query.where(a.c.id == alert_id)
    if limit is not None:
        query = query.limit(limit)
    rows = conn.execute(query).all()
    if not rows:
        return pl.DataFrame(schema=ALERT_SCHEMA)
    others = alternatives_of(conn, [row[18] for row in rows if row[18] is not None])
    rows = [(*row, others.get(row[18])) for row in rows]
    frame = pl.DataFrame(rows, schema=list(ALERT_SCHEMA), orient="row", infer_schema_length=None)
    return frame.with_columns(pl.from_epoch(pl.col("ts"), "ms").dt.replace_time_zone("UTC")).cast(
        ALERT_SCHEMA  # type: ignore[arg-type]
    )


def verify_alert(
    conn: Connection, alert_id: int, *, result: str, note: str, user_id: int, now: dt.datetime
) -> None:
    """Record a verification against the state system: ``confirmed`` (actionable) or ``cleared``."""
    if result not in ("confirmed", "cleared"):
        raise InvalidInput("a verification result is confirmed or cleared")
    note = " ".join((note or "").split())
    if len(note) < 4:
        raise InvalidInput("say in a note what the state system (LEDS) returned")
    row = conn.execute(sa.select(s.Alert.status).where(s.Alert.id == alert_id)).first()
    if row is None:
        raise NotFound(f"there is no alert {alert_id}")
    if row.status != "unverified":
        raise InvalidInput(
            f"alert {alert_id} was already verified ({row.status}); verifications are not changed"
        )
    conn.execute(
        sa.update(s.Alert)
        .where(s.Alert.id == alert_id)
        .values(
            status=result, actionable=result == "confirmed", verified_by=user_id, verified_at=now, note=note
        )
    )


def hotlists_frame(conn: Connection) -> pl.DataFrame:
    """Each hotlist with its active entries by kind, source and last update."""
    h, e = s.Hotlist.__table__, s.HotlistEntry.__table__
    now = dt.datetime.now(dt.UTC)
    rows = conn.execute(
        sa.select(h.c.name, e.c.kind, sa.func.count(e.c.id), h.c.source, h.c.updated_at)
        .select_from(h.outerjoin(e, e.c.hotlist_id == h.c.id))
        .where(sa.or_(e.c.expires_at.is_(None), e.c.expires_at > now))
        .group_by(h.c.name, e.c.kind, h.c.source, h.c.updated_at)
        .order_by(h.c.name, e.c.kind)
    ).all()
    return pl.DataFrame(
        rows,
        schema={
            "hotlist": pl.String,
            "kind": pl.String,
            "entries": pl.Int64,
            "source": pl.String,
            "updated_at": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )
