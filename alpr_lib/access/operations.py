"""The door's data operations, each a function of a connection, its context and typed arguments, returning a
typed result: plate searches, canvass, common plates, timelines, convoys, clones, plate crops, releases,
alerts.

:class:`~alpr_lib.access.AccessSession` is the gate: it checks the session, role, purpose, case and training,
runs one operation from :data:`OPERATIONS` in the same transaction as its audit entry, and returns the
operation's result with that entry's id. The SQL is in :mod:`alpr_lib.store`, the computation in
:mod:`alpr_lib.analytics`; what is here puts them together. The door service exposes this same table, so
the client a notebook holds cannot drift from the door.

>>> with store.atomic() as conn:  # doctest: +SKIP
...     found = canvass(conn, Context(store, policy, user, cap=10_000), [scene])
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import inspect
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy.engine import Connection

from .. import validate
from ..analytics import (
    Scene,
    fuzzy_rank,
    haversine_m,
    impossible_travel,
    match_pattern,
    rank_companions,
)
from ..analytics import canvass as canvass_reads
from ..analytics import common_plates as find_common_plates
from ..analytics import timeline as movement_timeline
from ..analytics.canvass import cameras_near, canvass_all, scene_summary
from ..errors import InvalidInput
from ..exports import EXPORT_FORMATS, encode
from ..hotlists import alerts_count, alerts_frame
from ..hotlists import verify_alert as record_verification
from ..matching import compile_pattern
from ..media import ImageStore
from ..plates import equivalence_key, is_valid_plate, normalize
from ..store import Store, retained
from ..store import queries as q
from ..store.queries import READ_SCHEMA
from ..store.writes import FIXED_SPREAD_DEG, ensure_case, record_release
from ..vehicles import BODIES, COLORS, DIRECTIONS, body_type, color_name, direction_name
from . import audit, custody
from .auth import UserRecord
from .purpose import Policy, Why
from .release import check_agency, write_package
from .results import (
    CanvassResult,
    CommonPlatesResult,
    ConvoyResult,
    CropResult,
    ExportResult,
    PlatesResult,
    ReleaseResult,
    Result,
    TimelineResult,
    _now,
    _window,
)

__all__ = ["FIRST_PAGE", "OPERATIONS", "UNAUDITED", "Context", "Operation", "audit_params"]

#: The audit id of a result not yet recorded: the gate writes the entry and puts its id in the result.
UNAUDITED = 0


@dataclass(frozen=True)
class Context:
    """What an operation may use besides its connection: the store (its plate index), the department's
    policy, the member, the most rows it may return, and the purpose the gate accepted."""

    store: Store
    policy: Policy
    user: UserRecord
    cap: int
    why: Why | None = None
    now: dt.datetime = field(default_factory=_now)

    @functools.cached_property
    def floor(self) -> int:
        """The retention floor (epoch ms): older reads are served only when a hold keeps them."""
        return retained.floor_ms(self.now, self.policy.retention_days)


def search_plate(
    conn: Connection,
    ctx: Context,
    plate: str,
    *,
    state: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    cameras: list[str] | None = None,
    near: tuple[float, float, float] | None = None,
    min_confidence: float | None = None,
    color: str | None = None,
    body: str | None = None,
    make: str | None = None,
    model: str | None = None,
    direction: str | None = None,
) -> Result:
    """Every read of exactly this plate (after normalisation), oldest first, in ``[since, until]``, then the
    reads whose other reading was this plate (``reading`` is ``alternative``, with the reading that
    matched); the other filters are :meth:`search_partial`'s.
    """
    text = normalize(plate)
    if not text:
        raise InvalidInput("give a plate: letters and digits")
    described = _described(conn, color, body, make, model, direction)
    plates = q.plates_exactly(conn, text, (state or "").strip().upper() or None)
    filters = (cameras, near, min_confidence)
    frame, truncated, hidden = _reads_of(conn, ctx, plates, since, until, *filters, described=described)
    return Result(frame, UNAUDITED, "search.plate", truncated, hidden)


def search_partial(
    conn: Connection,
    ctx: Context,
    pattern: str,
    *,
    state: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    cameras: list[str] | None = None,
    near: tuple[float, float, float] | None = None,
    min_confidence: float | None = None,
    color: str | None = None,
    body: str | None = None,
    make: str | None = None,
    model: str | None = None,
    direction: str | None = None,
    page: int = 1,
) -> PlatesResult:
    """Reads of every plate matching a partial ``pattern`` (see :mod:`alpr_lib.matching`), plate by plate
    — the most recently seen plate first, each plate's reads oldest first — then the reads whose other
    reading matched it; a page at a time, for a vague pattern can match hundreds of plates and tens of
    thousands of reads. ``total`` says how many there are in all, ``page`` which page this is (``page=2``
    for the next; ``limit`` reads a page, by default :data:`FIRST_PAGE`), and ``plates`` lists every
    matching plate in the same order with all its reads counted.

    Filters: ``state``, time window, ``cameras`` (names), ``near`` (lat, lon, metres),
    ``min_confidence``, and the vehicle's ``color``, ``body``, ``make``, ``model`` and ``direction`` of
    travel.
    """
    validate.count(page, "the page")
    compiled = compile_pattern(pattern)
    described = _described(conn, color, body, make, model, direction)
    if len(compiled.anchor) >= 3 and ctx.store.has_trigram_index(conn):
        # Three known characters in a row: the database's trigram index finds the plates (PostgreSQL).
        matched = q.plates_matching(conn, compiled.regex, _state(state))
    else:
        plates, codes, pairs = ctx.store.plate_index.paired(conn)
        matched = match_pattern(plates, compiled, _state(state), codes, pairs)
    filters = (cameras, near, min_confidence)
    found = _page_of_reads(conn, ctx, matched, since, until, *filters, page=page, described=described)
    return PlatesResult(
        found.frame, UNAUDITED, "search.partial", found.more, found.hidden, total=found.total, page=page,
        page_size=ctx.cap,
        plates=_with_tally(matched, found.tally, newest_first=True), pattern=compiled.regex,
    )  # fmt: skip


def search_fuzzy(
    conn: Connection,
    ctx: Context,
    plate: str,
    *,
    max_edits: int = 1,
    state: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    cameras: list[str] | None = None,
    near: tuple[float, float, float] | None = None,
    min_confidence: float | None = None,
    color: str | None = None,
    body: str | None = None,
    make: str | None = None,
    model: str | None = None,
    direction: str | None = None,
) -> PlatesResult:
    """Reads of plates within ``max_edits`` of ``plate`` where look-alike characters cost nothing (then the
    reads whose other reading is such a plate).

    Each read says why its plate matched (``distance``, ``confusions``, ``why``); closest first.
    ``plates`` ranks the plates.
    """
    text = normalize(plate)
    if not is_valid_plate(text):
        raise InvalidInput("give a plate of 2-8 letters and digits")
    if not isinstance(max_edits, int) or not 0 <= max_edits <= 3:
        raise InvalidInput("max_edits is a whole number from 0 to 3")
    described = _described(conn, color, body, make, model, direction)
    candidates = q.plates_by_key(conn, ctx.store.plate_index, equivalence_key(text), max_edits)
    if state:
        candidates = candidates.filter(pl.col("state") == _state(state))
    ranked = fuzzy_rank(text, candidates, max_edits)
    filters = (cameras, near, min_confidence)
    frame, truncated, hidden = _reads_of(
        conn, ctx, ranked, since, until, *filters, rank=True, described=described
    )
    return PlatesResult(
        frame, UNAUDITED, "search.fuzzy", truncated, hidden, plates=_with_counts(ranked, frame)
    )


def search_vehicle(
    conn: Connection,
    ctx: Context,
    *,
    color: str | None = None,
    body: str | None = None,
    make: str | None = None,
    model: str | None = None,
    direction: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    cameras: list[str] | None = None,
    near: tuple[float, float, float] | None = None,
) -> Result:
    """Reads of vehicles that fit a description — ``color``, ``body``, ``make``, ``model`` (at least one)
    and ``direction`` of travel — with no plate: the witness saw a white pickup going north. Oldest first in
    ``[since, until]``, narrowed by ``cameras`` and ``near`` like a plate search.
    """
    cap = ctx.cap
    described = _described(conn, color, body, make, model, direction)
    if described is None or described.vehicle_ids is None:
        raise InvalidInput("describe the vehicle: at least a colour, body type, make or model")
    since_ms, until_ms = _window(since, until)
    camera_ids, scene = _places(conn, cameras, near)
    low = _clamped(ctx, since_ms)
    frame = q.reads_by_vehicle(
        conn, described, since_ms=low, until_ms=until_ms, camera_ids=camera_ids,
        limit=None if scene is not None else cap + 1,
    )  # fmt: skip
    if scene is not None:
        frame = frame.filter(
            haversine_m(pl.col("lat"), pl.col("lon"), scene.lat, scene.lon) <= scene.radius_m
        )
    held = _held_below(conn, ctx, since_ms, until_ms, camera_ids=camera_ids, described=described)
    hidden = _past_retention(conn, ctx, since_ms, until_ms, held, camera_ids=camera_ids, described=described)
    if held is not None and held.height:
        frame = pl.concat([held.select(frame.columns), frame])
    return Result(frame.head(cap), UNAUDITED, "search.vehicle", frame.height > cap, hidden)


def canvass(
    conn: Connection,
    ctx: Context,
    scenes: Sequence[Scene | Mapping[str, Any]],
    *,
    color: str | None = None,
    body: str | None = None,
    make: str | None = None,
    model: str | None = None,
    direction: str | None = None,
) -> CanvassResult:
    """Reads within each scene's radius and time window (nearby cameras first, then by camera and time).

    A scene is a :class:`~alpr_lib.analytics.Scene` or a mapping with ``lat``, ``lon``,
    ``radius_m``, ``since`` and ``until`` (aware datetimes); a bad one is refused and audited.
    The vehicle's ``color``, ``body``, ``make``, ``model`` and ``direction`` narrow the reads.
    The frame holds the reads with ``scene`` and ``distance_m``; ``plates`` per-plate counts,
    ``scenes`` per-scene summaries.
    """
    cap = ctx.cap
    parsed = [_as_scene(sc) for sc in scenes]
    described = _described(conn, color, body, make, model, direction)
    kept, hidden = _fetch_scenes(conn, ctx, parsed, described)
    reads, counts, summary = canvass_all(kept, parsed)
    return CanvassResult(
        reads.head(cap), UNAUDITED, "canvass", reads.height > cap, hidden, plates=counts, scenes=summary
    )


def common_plates(
    conn: Connection,
    ctx: Context,
    scenes: Sequence[Scene | Mapping[str, Any]],
    *,
    min_scenes: int = 2,
    color: str | None = None,
    body: str | None = None,
    make: str | None = None,
    model: str | None = None,
    direction: str | None = None,
) -> CommonPlatesResult:
    """Plates seen near at least ``min_scenes`` of the scenes, each in its window — most scenes first;
    with a description, only reads of vehicles that fit it count.

    ``reads`` holds those plates' reads at the scenes; ``scenes`` the summaries.
    """
    cap = ctx.cap
    parsed = [_as_scene(sc) for sc in scenes]
    if not 1 <= min_scenes <= max(len(parsed), 1):
        raise InvalidInput("min_scenes is at least 1 and at most the number of scenes")
    described = _described(conn, color, body, make, model, direction)
    kept, hidden = _fetch_scenes(conn, ctx, parsed, described)
    reads = canvass_reads(kept, parsed)
    found = find_common_plates(reads, min_scenes)
    support = reads.join(found.select("plate", "state"), on=["plate", "state"], how="semi")
    return CommonPlatesResult(
        found.head(cap), UNAUDITED, "common", found.height > cap, hidden,
        reads=support, scenes=scene_summary(reads, parsed),
    )  # fmt: skip


def timeline(
    conn: Connection,
    ctx: Context,
    plate: str,
    *,
    state: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> TimelineResult:
    """One plate's movements: sightings in time order (the frame), the ``places`` it dwells, the local
    ``hours`` it is seen, the ``path`` between sightings and a ``summary``.
    """
    cap = ctx.cap
    text = normalize(plate)
    if not is_valid_plate(text):
        raise InvalidInput("give a plate of 2-8 letters and digits")
    since_ms, until_ms = _window(since, until)
    plates = q.plates_exactly(conn, text, _state(state))
    ids = plates["plate_id"].to_list()
    reads, hidden = _fetch_kept(conn, ctx, ids, since_ms, until_ms, limit=cap + 1, plates=plates)
    result = movement_timeline(reads.head(cap), timezone=ctx.policy.timezone)
    sightings = result.pop("sightings")
    return TimelineResult(sightings, UNAUDITED, "timeline", reads.height > cap, hidden, **result)


def convoy(
    conn: Connection,
    ctx: Context,
    plate: str,
    *,
    state: str | None = None,
    window_s: float = 90,
    min_times: int = 3,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> ConvoyResult:
    """Plates seen at the same cameras as ``plate`` within ``window_s`` seconds of it, at least
    ``min_times`` separate times — ranked. ``together`` holds the shared sightings.
    """
    cap = ctx.cap
    text = normalize(plate)
    if not is_valid_plate(text):
        raise InvalidInput("give a plate of 2-8 letters and digits")
    if not 0 < window_s <= 3600:
        raise InvalidInput("the convoy window is more than 0 and at most 3600 seconds")
    if min_times < 1:
        raise InvalidInput("min_times is at least 1")
    since_ms, until_ms = _window(since, until)
    ids = q.plate_ids(conn, text, _state(state))
    itself = q.plate_ids(conn, text) if state else ids
    # Within retention only, the target's reads and its companions' alike (held reads are for searches).
    held = _held_below(conn, ctx, since_ms, until_ms, plate_ids=ids)
    hidden = _past_retention(conn, ctx, since_ms, until_ms, held, plate_ids=ids)
    low = _clamped(ctx, since_ms)
    half = int(window_s * 1000)
    counted = q.companion_counts(conn, ids, half, low, until_ms, min_times, itself=itself, floor_ms=ctx.floor)
    ranked = rank_companions(counted)
    top = ranked.head(min(cap, 50))
    with_ids = q.plate_id_pairs(conn, top.select("plate", "state"))
    together = q.reads_beside(conn, ids, with_ids, half, low, until_ms, floor_ms=ctx.floor)
    return ConvoyResult(ranked.head(cap), UNAUDITED, "convoy", ranked.height > cap, hidden, together=together)


def clones(
    conn: Connection,
    ctx: Context,
    *,
    plate: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    min_kmh: float = 200,
    min_distance_m: float = 5000,
) -> Result:
    """Pairs of reads of one plate that imply impossible travel (faster than ``min_kmh`` over at least
    ``min_distance_m``): one plate on two vehicles. Any two reads, not only consecutive ones; fastest
    first.
    """
    cap = ctx.cap
    if not (min_kmh > 0 and min_distance_m >= 0):
        raise InvalidInput("the speed must be above 0 km/h and the distance at least 0 m")
    since_ms, until_ms = _window(since, until)
    ids = None
    if plate is not None:
        text = normalize(plate)
        if not is_valid_plate(text):
            raise InvalidInput("give a plate of 2-8 letters and digits")
        ids = q.plate_ids(conn, text)
    held = _held_below(conn, ctx, since_ms, until_ms, plate_ids=ids)
    hidden = _past_retention(conn, ctx, since_ms, until_ms, held, plate_ids=ids)
    pairs = impossible_travel(
        q.read_positions(conn, _clamped(ctx, since_ms), until_ms, ids),
        min_kmh=min_kmh,
        min_distance_m=min_distance_m,
    )
    frame = q.describe_read_pairs(conn, pairs.head(cap))
    return Result(frame, UNAUDITED, "clones", pairs.height > cap, hidden)


def crop(conn: Connection, ctx: Context, read_id: int) -> CropResult:
    """The saved plate crop of one read (JPEG bytes), for the alert verifier; None when it has none."""
    found, _hidden = _kept_by_id(conn, ctx, q.reads_by_id(conn, [validate.identifier(read_id, "a read id")]))
    if found.height == 0:
        raise InvalidInput(f"there is no read {read_id} within the retention period")
    path = ImageStore(ctx.policy.image_store).locate(found["crop_path"][0])
    data = path.read_bytes() if path is not None else None
    return CropResult(found, UNAUDITED, "crop", crop=data)


def release(
    conn: Connection,
    ctx: Context,
    *,
    agency: str,
    dest: Path,
    plate: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    read_ids: Sequence[int] = (),
) -> ReleaseResult:
    """Export reads (a plate in a window, or given reads) for a case to a registered law-enforcement or
    prosecutorial agency, as a checksummed package in ``dest``; recorded and audited.
    """
    found = q.agency(conn, agency)
    if found is None:
        raise InvalidInput(f"there is no agency named {agency!r} in the registry")
    check_agency(
        found.kind,
        found.state,
        department_state=ctx.policy.department_state,
        allow_out_of_state=ctx.policy.release_out_of_state,
    )
    if plate:
        since_ms, until_ms = _window(since, until)
        ids = q.plate_ids(conn, normalize(plate))
        frame, hidden = _fetch_kept(conn, ctx, ids, since_ms, until_ms, limit=None)
    elif read_ids:
        asked = q.reads_by_id(conn, [validate.identifier(r, "a read id") for r in read_ids]).sort("ts")
        frame, hidden = _kept_by_id(conn, ctx, asked)
        if frame.height == 0:
            raise InvalidInput("none of the reads named is within the retention period")
    else:
        raise InvalidInput("say what to release: a plate (with a time window) or read ids")
    paths = q.image_paths(conn, frame["read_id"].to_list())
    frame = frame.with_columns(
        image_path=pl.Series([paths.get(i) for i in frame["read_id"].to_list()], dtype=pl.String)
    )
    case_id = ensure_case(conn, ctx.why.case if ctx.why and ctx.why.case else "(no case)")
    meta = {
        "case": ctx.why.case if ctx.why else None,
        "purpose": ctx.why.purpose if ctx.why else None,
        "agency": agency,
        "released_by": ctx.user.name,
    }
    digest = write_package(
        Path(dest),
        frame,
        meta,
        ImageStore(ctx.policy.image_store),
        sign=lambda message: audit.department_signature(conn, "manifest", message),
    )
    custody.record_copy(
        conn,
        kind="release",
        case_id=case_id,
        path=str(Path(dest).resolve()),
        sha256=digest,
        holds=f"{frame.height} reads released to {agency}"[:200],
        made_by=ctx.user.name,
        now=_now(),
    )  # fmt: skip; held while its case is open
    record_release(
        conn,
        agency_id=found.id,
        case_id=case_id,
        purpose=ctx.why.purpose if ctx.why else "",
        user_id=ctx.user.id,
        reads=frame.height,
        package=Path(dest).resolve(),
        manifest_sha256=digest,
        at=_now(),
    )
    return ReleaseResult(frame, UNAUDITED, "export", False, hidden, package=str(dest), manifest_sha256=digest)


#: The searches whose reads may leave as a file, and which of their frames holds the reads.
EXPORTABLE: dict[str, str] = {
    "search_plate": "frame",
    "search_partial": "frame",
    "search_fuzzy": "frame",
    "search_vehicle": "frame",
    "canvass": "frame",
    "common_plates": "reads",
    "timeline": "frame",
}


def export_reads(
    conn: Connection,
    ctx: Context,
    search: str,
    query: Mapping[str, Any],
    *,
    format: str = "csv",
    file: str = "",
) -> ExportResult:
    """The reads a search finds — ``search`` one of :data:`EXPORTABLE`, ``query`` its arguments by name
    (``{"pattern": "7?B*", "color": "white"}``) — as a CSV, GeoJSON or KML file for GIS and evidence tools
    (``data``). The search runs under this export's gate and audit entry, with the same retention; the file
    is recorded as a copy of the case's data (``file``, its name; its hash; what it holds), held while the
    case is open and listed for destruction after, as a release package is."""
    if search not in EXPORTABLE:
        raise InvalidInput(f"only a search's reads are exported: one of {', '.join(EXPORTABLE)}")
    if format not in EXPORT_FORMATS:
        raise InvalidInput(f"an export's format is one of {', '.join(EXPORT_FORMATS)}")
    if not isinstance(query, Mapping) or "query" in query:
        raise InvalidInput("give the search's arguments by name")
    label = validate.printable(str(file or f"reads.{format}")).strip()[:200] or f"reads.{format}"
    try:
        found = OPERATIONS[search].run(conn, ctx, **query)
    except TypeError:
        raise InvalidInput(f"those are not the arguments of {search}") from None
    frame = getattr(found, EXPORTABLE[search])
    data = encode(frame, format, title=f"ALPR reads: {label}")
    case = ctx.why.case if ctx.why and ctx.why.case else "(no case)"
    copy_id = custody.record_copy(
        conn, kind="export", case_id=ensure_case(conn, case), path=label,
        sha256=hashlib.sha256(data).hexdigest(), holds=f"{frame.height} reads ({format})",
        made_by=ctx.user.name, now=_now(),
    )  # fmt: skip
    return ExportResult(
        frame, UNAUDITED, "export.reads", found.truncated, found.past_retention,
        data=data, format=format, copy_id=copy_id,
    )  # fmt: skip


def alerts(
    conn: Connection,
    ctx: Context,
    *,
    status: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
) -> Result:
    """Hotlist alerts, newest first: the read, the entry, how it matched (``exact`` or ``ocr``, with the
    look-alike positions), whether the states agree, and its verification (``unverified`` until a
    member records what the state system returned).
    """
    cap = ctx.cap
    if status not in (None, "unverified", "confirmed", "cleared"):
        raise InvalidInput("an alert's status is unverified, confirmed or cleared")
    since_ms, until_ms = _window(since, until)
    low = _clamped(ctx, since_ms)
    frame = alerts_frame(conn, status=status, since_ms=low, until_ms=until_ms, limit=cap + 1)
    hidden = 0
    if since_ms is None or since_ms < ctx.floor:
        high = ctx.floor - 1 if until_ms is None else min(until_ms, ctx.floor - 1)
        hidden = alerts_count(conn, status=status, since_ms=since_ms, until_ms=high)
    return Result(frame.head(cap), UNAUDITED, "alerts.list", frame.height > cap, hidden)


def verify_alert(conn: Connection, ctx: Context, alert_id: int, *, result: str, note: str) -> Result:
    """Record the verification of an alert against the state system (LEDS): ``confirmed`` makes it
    actionable, ``cleared`` closes it. Who and when are recorded; a verification is never changed.
    """
    validate.identifier(alert_id, "an alert id")
    if not alerts_count(conn, alert_id=alert_id, since_ms=ctx.floor):
        raise InvalidInput(f"there is no alert {alert_id} within the retention period")
    record_verification(conn, alert_id, result=result, note=note, user_id=ctx.user.id, now=_now())
    return Result(alerts_frame(conn, alert_id=alert_id), UNAUDITED, "alerts.verify")


def _reads_of(
    conn: Connection,
    ctx: Context,
    plates: pl.DataFrame,
    since: dt.datetime | None,
    until: dt.datetime | None,
    cameras: list[str] | None,
    near: tuple[float, float, float] | None,
    min_confidence: float | None,
    *,
    rank: bool = False,
    described: q.Described | None = None,
) -> tuple[pl.DataFrame, bool, int]:
    """The reads of the given plates under the search filters within retention, then the reads whose other
    reading is one of them (``reading`` says which), at most the cap; whether capped, and how many reads
    past retention were left out."""
    cap = ctx.cap
    since_ms, until_ms = _window(since, until)
    filters, scene = _search_filters(conn, cameras, near, min_confidence, described)
    ids = plates["plate_id"].to_list()
    if scene is None:
        named = plates if {"plate", "state"} <= set(plates.columns) else None
        frame, hidden = _fetch_kept(
            conn, ctx, ids, since_ms, until_ms, limit=cap + 1, plates=named, **filters
        )
    else:
        # Every read near the place in the window, then the circle: what retention leaves out is counted
        # in the circle too.
        frame, hidden = _kept_by_id(conn, ctx, _near(conn, ids, since_ms, until_ms, filters, scene))
    if rank:
        frame = _ranked(frame, plates)
    frame = _as_top(frame)
    if frame.height <= cap and _maybe_alternatives(plates):
        others = _by_alternative(
            conn, ctx, plates, since_ms, until_ms, filters, scene, cap + 1 - frame.height
        )
        if others.height:
            frame = pl.concat([frame, others.select(frame.columns)])
    return frame.head(cap), frame.height > cap, hidden


def _search_filters(
    conn: Connection,
    cameras: list[str] | None,
    near: tuple[float, float, float] | None,
    min_confidence: float | None,
    described: q.Described | None,
) -> tuple[dict[str, Any], Scene | None]:
    """A plate search's filters as the queries take them, and its place (None: anywhere)."""
    if min_confidence is not None and not 0 <= min_confidence <= 1:
        raise InvalidInput("the minimum confidence is between 0 and 1")
    camera_ids, scene = _places(conn, cameras, near)
    return {"camera_ids": camera_ids, "min_confidence": min_confidence, "described": described}, scene


def _near(
    conn: Connection,
    ids: Sequence[int],
    since_ms: int | None,
    until_ms: int | None,
    filters: dict[str, Any],
    scene: Scene,
) -> pl.DataFrame:
    """Every read of the plates at the cameras near a place in the window, then those in its circle (what
    retention leaves out is counted in the circle too)."""
    return q.fetch_reads(conn, ids, since_ms=since_ms, until_ms=until_ms, **filters).filter(
        haversine_m(pl.col("lat"), pl.col("lon"), scene.lat, scene.lon) <= scene.radius_m
    )


def _as_top(frame: pl.DataFrame) -> pl.DataFrame:
    """Reads found by their own plate, marked so beside those found by another reading (columns made
    eagerly: a plate's few reads, where the query engine's fixed cost is a tenth of a millisecond)."""
    n = frame.height
    return frame.hstack(
        [
            pl.Series("reading", ["top"] * n, dtype=pl.String),
            pl.Series("alternative", [None] * n, dtype=pl.String),
            pl.Series("alternative_confidence", [None] * n, dtype=pl.Float64),
        ]
    )


def _maybe_alternatives(plates: pl.DataFrame) -> bool:
    """Whether any of the plates may be another read's other reading (not known: it may)."""
    return "has_alternatives" not in plates.columns or bool(plates["has_alternatives"].any())


#: A plate's (text, state).
_Key = tuple[str, str]


@dataclass(frozen=True)
class _Page:
    """A page of a search's reads: the reads, whether more follow, how many reads past retention were left
    out, how many reads there are in all, and each plate's count of reads and newest read (epoch ms) over
    all of them (:func:`_tally`)."""

    frame: pl.DataFrame
    more: bool
    hidden: int
    total: int
    tally: dict[_Key, tuple[int, int | None]]


#: How many reads a paged search (a partial pattern) returns at a time unless the member gives a limit.
FIRST_PAGE = 1_000


def _page_of_reads(
    conn: Connection,
    ctx: Context,
    plates: pl.DataFrame,
    since: dt.datetime | None,
    until: dt.datetime | None,
    cameras: list[str] | None,
    near: tuple[float, float, float] | None,
    min_confidence: float | None,
    *,
    page: int,
    described: q.Described | None = None,
) -> _Page:
    """Page ``page`` of the reads of ``plates`` under the search filters within retention — ``ctx.cap``
    reads after the first ``(page - 1) * cap`` — plate by plate, the most recently seen plate first
    (:func:`_newest_first`), each plate's reads oldest first (held reads past retention before the
    others); then the reads found by another reading, oldest first. With the figures of all of them.

    The plates' reads are counted, not fetched: one statement counts each plate's reads on either side of
    the retention floor (by the plate index), and only the page's plates' reads are read. A place
    (``near``) fetches every read at the cameras near it, as an unpaged search does, and counts those in
    its circle. The reads found by another reading (rare) are fetched whole, up to the department's
    result limit; beyond it ``total`` counts that many."""
    size = ctx.cap
    start = (page - 1) * size
    since_ms, until_ms = _window(since, until)
    filters, scene = _search_filters(conn, cameras, near, min_confidence, described)
    ids = plates["plate_id"].to_list()
    if scene is None:
        own, hidden, tally = _own_page(conn, ctx, plates, since_ms, until_ms, start, size, filters)
    else:
        every, hidden = _kept_by_id(conn, ctx, _near(conn, ids, since_ms, until_ms, filters, scene))
        tally = _tally(every)
        own = _by_plate_newest_first(every, tally).slice(start, size)
    own_total = sum(n for n, _ in tally.values())
    frame = _as_top(own)
    bound = ctx.policy.result_limit
    others = (
        _by_alternative(conn, ctx, plates, since_ms, until_ms, filters, scene, bound + 1)
        if _maybe_alternatives(plates)
        else frame.clear()
    )
    room, skip = size - frame.height, max(0, start - own_total)
    if room > 0 and others.height > skip:
        frame = pl.concat([frame, others.slice(skip, room).select(frame.columns)])
    total = own_total + min(others.height, bound)
    more = start + frame.height < total or others.height > bound
    return _Page(frame, more, hidden, total, tally)


def _newest_first(tally: Mapping[_Key, tuple[int, int | None]]) -> list[_Key]:
    """The plates with reads, the most recently seen first (then by plate and state): the order of a paged
    search's plates and of its pages."""
    return sorted((k for k, (n, _t) in tally.items() if n), key=lambda k: (-(tally[k][1] or 0), k))


def _by_plate_newest_first(frame: pl.DataFrame, tally: Mapping[_Key, tuple[int, int | None]]) -> pl.DataFrame:
    """``frame``'s rows (each with ``plate`` and ``state``) plate by plate in :func:`_newest_first`'s order,
    plates without reads last; a stable sort, so each plate's rows keep their order."""
    rank = {key: i for i, key in enumerate(_newest_first(tally))}
    keys = zip(frame["plate"].to_list(), frame["state"].to_list(), strict=True)
    ranks = [rank.get(k, len(rank)) for k in keys]
    return frame[pl.Series(sorted(range(frame.height), key=ranks.__getitem__), dtype=pl.UInt32)]


def _own_page(
    conn: Connection,
    ctx: Context,
    plates: pl.DataFrame,
    since_ms: int | None,
    until_ms: int | None,
    start: int,
    size: int,
    filters: dict[str, Any],
) -> tuple[pl.DataFrame, int, dict[_Key, tuple[int, int | None]]]:
    """The plates' reads from ``start``, at most ``size``, in :func:`_page_of_reads`'s order; how many reads
    past retention were left out; and the plates' tally.

    Each plate's reads are counted first, so the plates the page falls on are known before any read is:
    those wholly on it are fetched in one statement, the one it starts in and the one it ends in (the same
    plate when a page lies within one) each by a statement of their own with a limit and an offset — a
    page reads its own reads and few more, however many the pattern matches."""
    ids = plates["plate_id"].to_list()
    rows = q.tally_of_plates(conn, ids, since_ms, until_ms, ctx.floor, **filters)
    held = retained.NO_HELD_READS
    if any(below for *_, below in rows):
        every = retained.held_reads(conn, ctx.floor, since_ms, until_ms)
        held = _matching(every, plate_ids=ids, **filters)
    hidden = sum(below for *_, below in rows) - held.height
    key_of = dict(
        zip(ids, zip(plates["plate"].to_list(), plates["state"].to_list(), strict=True), strict=True)
    )
    kept = {key_of[pid]: (n, newest) for pid, n, newest, _below in rows}
    held_of: dict[_Key, list[int]] = {}
    held_newest: dict[_Key, int] = {}
    for i, (pid, ts) in enumerate(zip(held["plate_id"].to_list(), _epoch_ms(held).to_list(), strict=True)):
        held_of.setdefault(key_of[pid], []).append(i)
        held_newest[key_of[pid]] = max(ts, held_newest.get(key_of[pid], ts))
    tally = {
        k: (
            kept.get(k, (0, None))[0] + len(held_of.get(k, ())),
            kept.get(k, (0, None))[1] or held_newest.get(k),
        )
        for k in kept.keys() | held_of.keys()
    }
    plate_id = {key: pid for pid, key in key_of.items()}
    pieces: list[tuple[_Key, str, int, int]] = []  # (plate, "held" | "kept", skip, take), in page order
    at = 0
    for key in _newest_first(tally):
        n, h = tally[key][0], len(held_of.get(key, ()))
        low, high = max(start - at, 0), min(start + size - at, n)
        if low < high:
            if low < h:
                pieces.append((key, "held", low, min(high, h) - low))
            if high > h:
                pieces.append((key, "kept", max(low - h, 0), high - max(low, h)))
        at += n
        if at >= start + size:
            break
    clamped = _clamped(ctx, since_ms)
    whole = [
        plate_id[k] for k, kind, skip, take in pieces if kind == "kept" and skip == 0 and take == kept[k][0]
    ]
    parts = [q.fetch_reads(conn, whole, since_ms=clamped, until_ms=until_ms, plates=plates, **filters)]
    for key, kind, skip, take in pieces:
        if kind == "held":
            chosen = pl.Series(held_of[key][skip : skip + take], dtype=pl.UInt32)
            parts.append(held[chosen].select(parts[0].columns))
        elif (skip, take) != (0, kept[key][0]):
            parts.append(
                q.fetch_reads(
                    conn,
                    [plate_id[key]],
                    since_ms=clamped,
                    until_ms=until_ms,
                    limit=take,
                    offset=skip,
                    plates=plates,
                    **filters,
                )
            )
    # In page order: by plate, then by time (a plate's held reads are older than its others).
    frame = pl.concat(parts) if len(parts) > 1 else parts[0]
    rank = {key: i for i, (key, *_piece) in enumerate(pieces)}
    keys = zip(frame["plate"].to_list(), frame["state"].to_list(), strict=True)
    order = frame.select(rank=pl.Series([rank[k] for k in keys], dtype=pl.Int64), ts="ts", read_id="read_id")
    frame = frame[order.with_row_index().sort("rank", "ts", "read_id")["index"]]
    return frame, hidden, tally


def _epoch_ms(reads: pl.DataFrame) -> pl.Series:
    """The reads' times in epoch ms: the time column's own values when it is in ms, as reads' are (a cast
    through polars' expressions costs more than a search's few rows)."""
    ts = reads["ts"]
    return ts.to_physical() if ts.dtype == READ_TS else ts.dt.epoch("ms")


def _tally(reads: pl.DataFrame) -> dict[_Key, tuple[int, int | None]]:
    """Each plate's (text, state) count of reads and newest read (epoch ms), counted in Python: on a
    search's few hundred rows a polars group-by costs more than the data."""
    counts: dict[_Key, int] = {}
    last: dict[_Key, int] = {}
    columns = (reads["plate"].to_list(), reads["state"].to_list(), _epoch_ms(reads).to_list())
    for plate, state, ts in zip(*columns, strict=True):
        key = (plate, state)
        counts[key] = counts.get(key, 0) + 1
        if ts > last.get(key, -(2**62)):
            last[key] = ts
    return {k: (n, last[k]) for k, n in counts.items()}


def _places(
    conn: Connection, cameras: list[str] | None, near: tuple[float, float, float] | None
) -> tuple[list[int] | None, Scene | None]:
    """The camera ids a search is limited to (None: any) and its place (None: anywhere)."""
    camera_ids = None
    all_cams = q.cameras(conn) if cameras or near is not None else None
    if cameras:
        wanted = {c.strip() for c in cameras if c.strip()}
        found = all_cams.filter(pl.col("camera").is_in(list(wanted)))
        if found.height < len(wanted):
            raise InvalidInput(
                f"{len(wanted) - found.height} of the cameras named are not known; see the camera list"
            )
        camera_ids = found["camera_id"].to_list()
    if near is None:
        return camera_ids, None
    lat, lon, radius = near
    scene = Scene(lat, lon, radius, 0, 1)  # a place only: the search's own window applies
    fixed, by_position = cameras_near(all_cams, scene, spread_deg=FIXED_SPREAD_DEG)
    near_ids = set(fixed + by_position)
    return sorted(near_ids if camera_ids is None else near_ids & set(camera_ids)), scene


def _by_alternative(
    conn: Connection,
    ctx: Context,
    plates: pl.DataFrame,
    since_ms: int | None,
    until_ms: int | None,
    filters: dict[str, Any],
    scene: Scene | None,
    limit: int,
) -> pl.DataFrame:
    """Reads within retention whose other reading is one of ``plates`` and whose own plate is not, under the
    search's filters, marked ``reading="alternative"`` with the reading that matched (and its
    ``distance``, ``confusions`` and ``why`` when ``plates`` ranks them)."""
    found = q.reads_by_alternative(
        conn, plates["plate_id"].to_list(), since_ms=_clamped(ctx, since_ms), until_ms=until_ms
    )
    if not found.height:
        return found
    if filters["camera_ids"] is not None:
        cams = q.cameras(conn).filter(pl.col("camera_id").is_in(filters["camera_ids"]))["camera"]
        found = found.filter(pl.col("camera").is_in(cams.to_list()))
    if filters["min_confidence"] is not None:
        found = found.filter(pl.col("confidence") >= filters["min_confidence"])
    if filters["described"] is not None:
        found = filters["described"].keep(found)
    if scene is not None:
        found = found.filter(
            haversine_m(pl.col("lat"), pl.col("lon"), scene.lat, scene.lon) <= scene.radius_m
        )
    if "distance" in plates.columns:
        ranks = plates.select(pl.col("plate").alias("alternative"), "distance", "confusions", "why")
        found = found.join(ranks.unique("alternative", keep="first"), on="alternative", how="left")
        found = found.sort("distance", "ts", "read_id")
    return found.head(limit).with_columns(reading=pl.lit("alternative", pl.String))


def _described(
    conn: Connection,
    color: str | None,
    body: str | None,
    make: str | None,
    model: str | None,
    direction: str | None,
) -> q.Described | None:
    """A search's vehicle description resolved against the store (None when it gives none); a word that is
    no colour, body type or direction is refused."""
    words = {}
    for name, value, known, read in (
        ("color", color, COLORS, color_name),
        ("body", body, BODIES, body_type),
    ):
        if value is not None and str(value).strip():
            words[name] = read(str(value))
            if not words[name]:
                raise InvalidInput(f"{name} is one of {', '.join(known)}")
    for name, value in (("make", make), ("model", model)):
        text = validate.printable(str(value or "")).strip()
        if len(text) > 40:
            raise InvalidInput(f"a {name} is at most 40 characters")
        if text:
            words[name] = text
    heading = None
    if direction is not None and str(direction).strip():
        heading = direction_name(str(direction))
        if heading is None:
            raise InvalidInput(f"direction is one of {', '.join(DIRECTIONS)}")
    if not words and heading is None:
        return None
    ids = q.vehicles_matching(conn, **words) if words else None
    return q.Described(ids, heading, **words)


def _clamped(ctx: Context, since_ms: int | None) -> int:
    """A window's start raised to the retention floor."""
    return ctx.floor if since_ms is None else max(since_ms, ctx.floor)


def _held_below(
    conn: Connection, ctx: Context, since_ms: int | None, until_ms: int | None, **filters: Any
) -> pl.DataFrame | None:
    """The held reads below the floor in the window under ``filters``; None when the window is within
    retention or no read is older than the floor (the purge has run): nothing was left out."""
    if since_ms is not None and since_ms >= ctx.floor:
        return None
    below, holds = retained.below_and_held(conn, ctx.floor)
    if not below:
        return None
    if not holds:
        return retained.NO_HELD_READS
    return _matching(retained.held_reads(conn, ctx.floor, since_ms, until_ms, holds_known=True), **filters)


def _past_retention(
    conn: Connection,
    ctx: Context,
    since_ms: int | None,
    until_ms: int | None,
    held: pl.DataFrame | None,
    **filters: Any,
) -> int:
    """How many reads in the window under ``filters`` are past retention and not among ``held``."""
    if held is None:
        return 0
    high = ctx.floor - 1 if until_ms is None else min(until_ms, ctx.floor - 1)
    return retained.count_reads(conn, since_ms, high, **filters) - held.height


def _matching(
    held: pl.DataFrame,
    *,
    plate_ids: Sequence[int] | None = None,
    camera_ids: Sequence[int] | None = None,
    min_confidence: float | None = None,
    described: q.Described | None = None,
) -> pl.DataFrame:
    if held.is_empty():
        return held  # (each filter below is a query of its own, even on no rows)
    if plate_ids is not None:
        held = held.filter(pl.col("plate_id").is_in(list(plate_ids)))
    if camera_ids is not None:
        held = held.filter(pl.col("camera_id").is_in(list(camera_ids)))
    if min_confidence is not None:
        held = held.filter(pl.col("confidence") >= min_confidence)
    if described is not None:
        held = described.keep(held)
    return held


def _fetch_kept(
    conn: Connection,
    ctx: Context,
    ids: Sequence[int],
    since_ms: int | None,
    until_ms: int | None,
    *,
    limit: int | None,
    camera_ids: Sequence[int] | None = None,
    min_confidence: float | None = None,
    described: q.Described | None = None,
    plates: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, int]:
    """:func:`~alpr_lib.store.queries.fetch_reads` within retention — the held reads below the floor put
    first (they are the oldest) — and how many reads were left out.

    Most often one statement: the window's reads from its own start, those past retention set aside here
    (never served) and the held ones among them kept (:func:`_kept_by_id`). Past retention lies at most a
    day's reads when the daily purge runs. Only when that fetch reaches the limit — the reads past retention
    may have taken places in it — is the window raised to the floor and what it leaves out counted."""
    filters = {"camera_ids": camera_ids, "min_confidence": min_confidence, "described": described}
    if since_ms is None or since_ms < ctx.floor:
        every = q.fetch_reads(
            conn, ids, since_ms=since_ms, until_ms=until_ms, limit=limit, plates=plates, **filters
        )
        if limit is None or every.height < limit or _oldest_ms(every) >= ctx.floor:
            # Whole, or capped with nothing past retention in it (oldest first: none in the window).
            return _kept_by_id(conn, ctx, every)
    frame = q.fetch_reads(
        conn, ids, since_ms=_clamped(ctx, since_ms), until_ms=until_ms, limit=limit, plates=plates, **filters
    )
    held = _held_below(conn, ctx, since_ms, until_ms, plate_ids=ids, **filters)
    hidden = _past_retention(conn, ctx, since_ms, until_ms, held, plate_ids=ids, **filters)
    if held is not None and held.height:
        frame = pl.concat([held.select(frame.columns), frame])
        frame = frame if limit is None else frame.head(limit)
    return frame, hidden


def _oldest_ms(reads: pl.DataFrame) -> float:
    """The oldest read's time in epoch ms (infinity for none), without the query engine."""
    oldest = _epoch_ms(reads).min()
    return math.inf if oldest is None else oldest  # type: ignore[return-value]


def _kept_by_id(conn: Connection, ctx: Context, reads: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """Reads fetched whole, split: those within retention or kept by a hold, and how many were neither."""
    floor = ctx.floor
    if _oldest_ms(reads) >= floor:  # the usual case: nothing past retention
        return reads, 0
    # numpy masks and one gather: a timeline's thousand reads, where three trips through polars' query
    # engine were a millisecond.
    ts = _epoch_ms(reads).to_numpy()
    old = ts < floor
    held = retained.held_reads(conn, floor, int(ts[old].min()), floor - 1)["read_id"].to_numpy()
    keep = ~old | np.isin(reads["read_id"].to_numpy(), held)
    return reads.gather(np.flatnonzero(keep)), int(len(keep) - keep.sum())  # a third of reads[...]


def _fetch_scenes(
    conn: Connection, ctx: Context, scenes: list[Scene], described: q.Described | None = None
) -> tuple[list[pl.DataFrame], int]:
    """Each scene's candidate reads within retention — the fixed cameras near it, and the reads in its box
    of mobile units and of fixed cameras just beyond it
    (:func:`~alpr_lib.analytics.canvass.cameras_near`) — and how many reads in the scenes' circles were
    past retention."""
    if not scenes:
        raise InvalidInput("give at least one scene: a place (LAT,LON), a radius and a time window")
    if len(scenes) > 20:
        raise InvalidInput("at most 20 scenes at once")
    all_cams = q.cameras(conn)
    kept, dropped = [], []
    for scene in scenes:
        fixed, by_position = cameras_near(all_cams, scene, spread_deg=FIXED_SPREAD_DEG)
        groups = [(fixed, None), (by_position, scene.box)]
        every = q.reads_at_cameras(conn, ctx.store.plate_index, groups, scene.since_ms, scene.until_ms)
        if described is not None:
            every = described.keep(every)
        within, _hidden = _kept_by_id(conn, ctx, every)
        kept.append(within)
        gone = ~np.isin(every["read_id"].to_numpy(), within["read_id"].to_numpy())
        dropped.append(every.gather(np.flatnonzero(gone)))  # not an anti join: polars' engine, 0.1 ms
    hidden = canvass_reads(dropped, scenes).height if any(d.height for d in dropped) else 0
    return kept, hidden


def _state(state: str | None) -> str | None:
    value = (state or "").strip().upper()
    if value and not (len(value) == 2 and value.isalpha()):
        raise InvalidInput("a state is two letters, e.g. OR")
    return value or None


def _ranked(reads: pl.DataFrame, plates: pl.DataFrame) -> pl.DataFrame:
    """Reads with their plate's ``distance``, ``confusions`` and ``why``: closest first, then by time."""
    # Columns taken one by one: polars' select and drop go through its query engine, a tenth of a
    # millisecond each on a search's small frames.
    columns = (plates[c].to_list() for c in ("plate", "state", "distance", "confusions", "why"))
    info = {(p, s): (d, c, w) for p, s, d, c, w in zip(*columns, strict=True)}
    keys = [info[k] for k in zip(reads["plate"].to_list(), reads["state"].to_list(), strict=True)]
    ts, ids = _epoch_ms(reads).to_list(), reads["read_id"].to_list()
    order = pl.Series(
        sorted(range(reads.height), key=lambda i: (keys[i][0], keys[i][1], ts[i], ids[i])), dtype=pl.UInt32
    )
    extra = [
        pl.Series("distance", [k[0] for k in keys], dtype=pl.Int64),
        pl.Series("confusions", [k[1] for k in keys], dtype=pl.Int64),
        pl.Series("why", [k[2] for k in keys], dtype=pl.String),
    ]
    return reads.hstack(extra).gather(order)


def _with_counts(plates: pl.DataFrame, reads: pl.DataFrame) -> pl.DataFrame:
    """The matched plates with how many of the returned reads are theirs and when last seen."""
    return _with_tally(plates, _tally(reads))


def _with_tally(
    plates: pl.DataFrame, tally: dict[_Key, tuple[int, int | None]], *, newest_first: bool = False
) -> pl.DataFrame:
    """The matched plates with their count of reads and when last seen, from a :class:`_Page`'s tally;
    ``newest_first``: in a paged search's order (:func:`_newest_first`), the plates without reads last."""
    if newest_first:
        plates = _by_plate_newest_first(plates, tally)
    keys = zip(plates["plate"].to_list(), plates["state"].to_list(), strict=True)
    found = [tally.get(k, (0, None)) for k in keys]
    kept = [plates[c] for c in plates.columns if c not in ("plate_id", "equiv_key")]  # see _ranked
    return pl.DataFrame(
        [
            *kept,
            pl.Series("reads", [n for n, _ in found], dtype=pl.Int64),
            pl.Series("last_seen", [t for _, t in found], dtype=READ_TS),  # epoch ms, as the reads' times
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


_SCENE_KEYS = ("lat", "lon", "radius_m", "since", "until")


def _scene_params(scene: Scene | Mapping[str, Any]) -> dict[str, Any]:
    """A scene as the audit entry records it: its place and window, never a display label."""
    if isinstance(scene, Scene):
        return scene.as_dict()
    kept = {k: v for k, v in scene.items() if k in _SCENE_KEYS}
    return {k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in kept.items()}


READ_TS = READ_SCHEMA["ts"]


@dataclass(frozen=True)
class Operation:
    """One entry of the door's table: the method name, the audit entry's operation, the function."""

    name: str
    audit: str
    run: Callable[..., Result]
    #: A paged operation's page when the member gives no limit (None: the department's result limit).
    first_page: int | None = None


#: The door's data operations by method name; ``AccessSession`` and the door's client offer exactly these.
OPERATIONS: dict[str, Operation] = {
    op.name: op
    for op in (
        Operation("search_plate", "search.plate", search_plate),
        Operation("search_partial", "search.partial", search_partial, first_page=FIRST_PAGE),
        Operation("search_fuzzy", "search.fuzzy", search_fuzzy),
        Operation("search_vehicle", "search.vehicle", search_vehicle),
        Operation("canvass", "canvass", canvass),
        Operation("common_plates", "common", common_plates),
        Operation("timeline", "timeline", timeline),
        Operation("convoy", "convoy", convoy),
        Operation("clones", "clones", clones),
        Operation("crop", "crop", crop),
        Operation("release", "export", release),
        Operation("alerts", "alerts.list", alerts),
        Operation("verify_alert", "alerts.verify", verify_alert),
        Operation("export_reads", "export.reads", export_reads),
    )
}


def audit_params(run: Callable[..., Any], args: Sequence[Any], kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """An operation's arguments as its audit entry records them (times as ISO text, scenes by place and
    window, files by name). Raises ``TypeError`` for arguments the operation does not take."""
    bound = _signature(run).bind(None, None, *args, **kwargs)
    bound.apply_defaults()
    return {k: _audit_value(v) for k, v in bound.arguments.items() if k not in ("conn", "ctx")}


@functools.cache
def _signature(run: Callable[..., Any]) -> inspect.Signature:
    return inspect.signature(run)


def _audit_value(value: Any) -> Any:
    if isinstance(value, Scene) or (isinstance(value, Mapping) and "lat" in value):
        return _scene_params(value)
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, Path):
        return value.name
    if isinstance(value, list | tuple):
        return [_audit_value(v) for v in value]
    if isinstance(value, Mapping):  # an export's search arguments
        return {str(k): _audit_value(v) for k, v in value.items()}
    return value
