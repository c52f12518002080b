"""Data commands: plate searches, canvass, common plates, timelines, convoys, clones, hotlists, alerts."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from alpr_lib.errors import InvalidInput

from .common import (
    COUNT,
    NUMBER,
    READ_COLUMNS,
    ROW_ID,
    WorkbenchGroup,
    data_options,
    db_option,
    door_session,
    emit,
    frame_rows,
    json_option,
    login_member,
    main,
    open_store,
    parse_floats,
    parse_when,
    print_result,
    user_option,
)


@main.group(cls=WorkbenchGroup)
def search() -> None:
    """Plate searches, each audited with its purpose, case and reason.

    \b
    Patterns: ? one character, * any run, [AB8] one of a class; a plain string means "contains".
    Example:
        workbench search partial "7?B*" --purpose investigation --case 26-01234 --reason "witness partial"
    """


def vehicle_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The vehicle description filters: colour, body type, make, model, direction of travel."""
    for name, metavar, text in reversed(
        (
            (
                "--color",
                "COLOR",
                "Only vehicles of this colour (white, black, gray, silver, red, blue, ...).",
            ),
            ("--body", "TYPE", "Only this body type (sedan, suv, pickup, van, minivan, hatchback, ...)."),
            ("--make", "MAKE", "Only this make (as the camera reported it, e.g. Ford)."),
            ("--model", "MODEL", "Only this model (e.g. F-150)."),
            ("--direction", "N|NE|...", "Only vehicles travelling this way (N, NE, E, SE, S, SW, W, NW)."),
        )
    ):
        fn = click.option(name, metavar=metavar, default=None, help=text)(fn)
    return fn


def export_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--export",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Write the reads to a new file for GIS and evidence tools, by its ending: .csv, .geojson or "
        ".kml (recorded as a copy of the case's data).",
    )(fn)


_EXPORT_ENDINGS = {".csv": "csv", ".geojson": "geojson", ".json": "geojson", ".kml": "kml"}


def _deliver(
    session: Any,
    why: dict[str, Any],
    as_json: bool,
    search: str,
    query: dict[str, Any],
    export: Path | None,
    show: Callable[[Any], None],
) -> None:
    """Run ``search`` and print its result — or, with ``export``, write its reads to that new file (the door
    records the copy) and say so."""
    limit = query.pop("limit", None)
    if export is None:
        show(getattr(session, search)(**query, **why, **({"limit": limit} if limit else {})))
        return
    fmt = _EXPORT_ENDINGS.get(export.suffix.lower())
    if fmt is None:
        raise InvalidInput("--export names a file ending in .csv, .geojson or .kml")
    if os.path.lexists(export):
        raise InvalidInput(f"{export} already exists; --export writes a new file")
    result = session.export_reads(
        search, query, format=fmt, file=export.name, **why, **({"limit": limit} if limit else {})
    )
    try:
        fd = os.open(export, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except OSError as exc:
        raise InvalidInput(f"cannot create {export}: {exc.strerror}") from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(result.data)
    data = {"audit_id": result.audit_id, "count": result.count, "file": str(export), "format": fmt,
            "copy_id": result.copy_id, "truncated": result.truncated}  # fmt: skip
    emit(
        as_json,
        data,
        lambda: click.echo(
            f"{result.count:,} reads written to {export} ({fmt.upper()}); recorded as copy {result.copy_id} "
            f"of the case's data, audit entry {result.audit_id}."
            + (" Capped: narrow the search or raise --limit." if result.truncated else "")
        ),
    )


def filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = export_option(fn)
    fn = vehicle_options(fn)
    fn = click.option(
        "--min-confidence", type=NUMBER, default=None, help="Only reads at least this confident (0-1)."
    )(fn)
    fn = click.option(
        "--near", metavar="LAT,LON,M", default=None, help="Only reads within M metres of LAT,LON."
    )(fn)
    return click.option(
        "--camera", "cameras", multiple=True, metavar="NAME", help="Only these cameras (repeatable)."
    )(fn)


def _filters(kw: dict[str, Any]) -> None:
    kw["cameras"] = list(kw.pop("cameras")) or None
    near = kw.pop("near")
    kw["near"] = tuple(parse_floats(near, 3, "--near")) if near else None


@search.command("plate")
@click.argument("plate")
@filter_options
@data_options()
def search_plate(plate: str, **kw: Any) -> None:
    """Every read of exactly PLATE, oldest first.

    \b
    Example:
        workbench search plate 7ABC123 --from 2026-11-01 --near 43.9717,-124.1009,500 \\
            --purpose investigation --case 26-01234 --reason "seen leaving the scene" --user investigator
    """
    session, why, as_json = door_session(kw)
    _filters(kw)
    export = kw.pop("export")
    show = lambda result: print_result(result, as_json, READ_COLUMNS)  # noqa: E731
    _deliver(session, why, as_json, "search_plate", {"plate": plate, **kw}, export, show)


@search.command("partial")
@click.argument("pattern")
@click.option(
    "--page",
    type=COUNT,
    default=1,
    show_default=True,
    help="Which page of the reads, --limit to a page: a vague pattern's total is said with the first.",
)
@filter_options
@data_options()
def search_partial(pattern: str, **kw: Any) -> None:
    """Reads of every plate matching PATTERN: ? one character, * any run, [AB8] a class, or plain "contains".
    The reads come a page at a time (--limit, default 10,000, to a page), with how many there are in all.

    \b
    Example:
        workbench search partial "4?HB*" --state CA --purpose investigation --case 26-01234 \\
            --reason "witness saw part of the plate" --user investigator
    """
    session, why, as_json = door_session(kw)
    _filters(kw)
    kw["limit"] = kw["limit"] or session.policy.result_limit  # the command line's page: its usual limit
    export = kw.pop("export")
    show = lambda result: print_result(result, as_json, READ_COLUMNS, ("plates",))  # noqa: E731
    _deliver(session, why, as_json, "search_partial", {"pattern": pattern, **kw}, export, show)


@search.command("fuzzy")
@click.argument("plate")
@click.option(
    "--max-edits",
    type=click.IntRange(0, 3),
    default=1,
    show_default=True,
    help="Edits allowed beyond look-alikes.",
)
@filter_options
@data_options()
def search_fuzzy(plate: str, **kw: Any) -> None:
    """Reads of plates within --max-edits of PLATE, where look-alike characters (0/O/D/Q, 1/I/L, 2/Z,
    5/S, 6/G, 8/B) cost nothing; closest first, each saying why it matched.

    \b
    Example:
        workbench search fuzzy 7ABC123 --max-edits 1 --purpose hit-verification --reason "check a camera hit"
    """
    session, why, as_json = door_session(kw)
    _filters(kw)
    export = kw.pop("export")
    columns = ("ts", "plate", "state", "distance", "why", "camera", "confidence", "vehicle", "reading")
    show = lambda result: print_result(result, as_json, columns, ("plates",))  # noqa: E731
    _deliver(session, why, as_json, "search_fuzzy", {"plate": plate, **kw}, export, show)


@search.command("vehicle")
@click.option("--near", metavar="LAT,LON,M", default=None, help="Only reads within M metres of LAT,LON.")
@click.option("--camera", "cameras", multiple=True, metavar="NAME", help="Only these cameras (repeatable).")
@vehicle_options
@export_option
@data_options(state=False)
def search_vehicle(**kw: Any) -> None:
    """Reads of vehicles that fit a description, with no plate: at least a colour, body type, make or model.

    \b
    Example:
        workbench search vehicle --color white --body pickup --direction N --from 2026-11-03T13:00 \
            --to 2026-11-03T15:00 --near 43.9667,-124.1035,800 --purpose investigation --case 26-01234 \
            --reason "witness: white pickup heading north" --user investigator
    """
    session, why, as_json = door_session(kw)
    _filters(kw)
    export = kw.pop("export")
    show = lambda result: print_result(result, as_json, READ_COLUMNS)  # noqa: E731
    _deliver(session, why, as_json, "search_vehicle", kw, export, show)


def _scene(
    lat: float, lon: float, radius: float, since: dt.datetime | None, until: dt.datetime | None
) -> dict[str, Any]:
    """A scene for the door, which checks it (and audits a bad one)."""
    return {"lat": lat, "lon": lon, "radius_m": radius, "since": since, "until": until}


@main.command("canvass")
@click.option("--at", "places", multiple=True, required=True, metavar="LAT,LON", help="A scene (repeatable).")
@click.option("--radius", type=NUMBER, default=500, show_default=True, help="Metres around each scene.")
@vehicle_options
@export_option
@data_options(state=False)
def canvass_cmd(places: tuple[str, ...], radius: float, **kw: Any) -> None:
    """Reads near one or several scenes in a time window: the reads, per-plate counts and per-scene summaries.

    \b
    Example:
        workbench canvass --at 43.9717,-124.1009 --radius 500 --from 2026-11-03T01:00 --to 2026-11-03T03:00 \\
            --purpose investigation --case 26-01234 --reason "burglary, 1400 Rhododendron Dr" --user analyst
    """
    session, why, as_json = door_session(kw)
    since, until = kw.pop("since"), kw.pop("until")
    scenes = [_scene(*parse_floats(p, 2, "--at"), radius, since, until) for p in places]
    export = kw.pop("export")
    columns = ("scene", "ts", "plate", "state", "camera", "distance_m", "vehicle")
    show = lambda result: print_result(result, as_json, columns, ("plates", "scenes"))  # noqa: E731
    _deliver(session, why, as_json, "canvass", {"scenes": scenes, **kw}, export, show)


@main.command("common")
@click.option(
    "--scene",
    "scenes",
    multiple=True,
    required=True,
    metavar="LAT,LON,M,FROM,TO",
    help="A scene (repeatable).",
)
@click.option(
    "--min",
    "min_scenes",
    type=COUNT,
    default=2,
    show_default=True,
    help="Seen near at least K scenes.",
)
@vehicle_options
@export_option
@data_options(window=False, state=False)
def common_cmd(scenes: tuple[str, ...], min_scenes: int, **kw: Any) -> None:
    """Plates seen near at least --min of the scenes, each scene with its own place, radius and window.

    \b
    Example:
        workbench common --scene 43.97,-124.10,400,2026-11-03T01:00,2026-11-03T03:00 \\
            --scene 43.99,-124.09,400,2026-11-07T00:30,2026-11-07T02:30 --min 2 \\
            --purpose investigation --case 26-01234 --reason "burglary series" --user analyst
    """
    session, why, as_json = door_session(kw)
    parsed = []
    for text in scenes:
        parts = text.split(",")
        if len(parts) != 5:
            raise InvalidInput(
                "--scene takes LAT,LON,METRES,FROM,TO, "
                "e.g. 43.97,-124.10,400,2026-11-03T01:00,2026-11-03T03:00"
            )
        lat, lon, radius = parse_floats(",".join(parts[:3]), 3, "--scene")
        parsed.append(_scene(lat, lon, radius, parse_when(parts[3]), parse_when(parts[4], end=True)))
    export = kw.pop("export")
    columns = ("plate", "state", "n_scenes", "scenes", "reads", "first_seen", "last_seen")
    show = lambda result: print_result(result, as_json, columns, ("reads", "scenes"))  # noqa: E731
    query = {"scenes": parsed, "min_scenes": min_scenes, **kw}
    _deliver(session, why, as_json, "common_plates", query, export, show)


@main.command("timeline")
@click.argument("plate")
@data_options()
def timeline_cmd(plate: str, **kw: Any) -> None:
    """PLATE's movements: sightings in order, the places it dwells, the hours it is seen, the path.

    \b
    Example:
        workbench timeline 7ABC123 --purpose investigation --case 26-01234 \\
            --reason "suspect vehicle" --user analyst
    """
    session, why, as_json = door_session(kw)
    result = session.timeline(plate, **kw, **why)
    print_result(
        result,
        as_json,
        ("ts", "camera", "place", "lat", "lon", "step_m", "kmh"),
        ("summary", "places", "hours", "path"),
    )
    if not as_json:
        summary = result.summary
        reads, places, hours = (
            summary.get("reads", 0),
            summary.get("places", 0),
            summary.get("usual_hours", []),
        )
        line = f"{reads} sighting{'s' * (reads != 1)} at {places} place{'s' * (places != 1)}"
        if hours:
            line += f"; usually seen at {', '.join(f'{h:02d}h' for h in hours)}"
        click.echo(line + ".", err=True)


@main.command("convoy")
@click.argument("plate")
@click.option(
    "--window",
    "window_s",
    type=NUMBER,
    default=90,
    show_default=True,
    help="Seconds either side of each sighting.",
)
@click.option(
    "--min-times",
    type=COUNT,
    default=3,
    show_default=True,
    help="Seen together at least M times.",
)
@data_options()
def convoy_cmd(plate: str, **kw: Any) -> None:
    """Plates travelling with PLATE: at the same cameras within --window seconds, at least --min-times.

    \b
    Example:
        workbench convoy 7ABC123 --window 60 --min-times 3 --purpose investigation --case 26-01234 \\
            --reason "associates of the suspect vehicle" --user analyst
    """
    session, why, as_json = door_session(kw)
    result = session.convoy(plate, **kw, **why)
    print_result(
        result,
        as_json,
        ("plate", "state", "times", "cameras", "mean_lag_s", "first_together", "last_together"),
        ("together",),
    )


@main.command("clones")
@click.option("--plate", default=None, help="Only this plate.")
@click.option(
    "--min-kmh", type=NUMBER, default=200, show_default=True, help="Implied speed that no car reaches."
)
@click.option(
    "--min-distance",
    "min_distance_m",
    type=NUMBER,
    default=5000,
    show_default=True,
    help="Metres apart at least.",
)
@data_options(state=False)
def clones_cmd(**kw: Any) -> None:
    """Plates read at places too far apart for the time between: one plate on two vehicles.

    \b
    Example:
        workbench clones --from 2026-11-01 --purpose investigation --case 26-01234 \\
            --reason "cloned plate report" --user analyst
    """
    session, why, as_json = door_session(kw)
    result = session.clones(**kw, **why)
    print_result(
        result,
        as_json,
        (
            "plate",
            "state",
            "kmh",
            "distance_m",
            "seconds",
            "first_ts",
            "first_camera",
            "second_ts",
            "second_camera",
        ),
    )


# -- hotlists and alerts --------------------------------------------------------------------------


@main.group(cls=WorkbenchGroup)
def hotlist() -> None:
    """Hotlists: plates of interest that every new read is matched against.

    \b
    Example:
        workbench hotlist import stolen.csv --name "Stolen vehicles (LEDS)" --user admin
    """


@hotlist.command("import")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--name", default=None, help="The hotlist the entries go to (default: the file's name).")
@user_option
@db_option
@json_option
def hotlist_import(file: Path, name: str | None, user: str | None, db: str | None, as_json: bool) -> None:
    """Import a hotlist CSV (administrators): plate and reason required; state, source, expiry, note optional.

    Reasons: stolen vehicle, stolen plate, wanted person, missing person, warrant.

    \b
    Example:
        workbench hotlist import stolen.csv --name "Stolen vehicles (LEDS)" --user admin
    """
    name = name or file.stem
    report = login_member(open_store(db), user).import_hotlist(file, name=name)
    data = {**report, "rejected": [{"line": n, "reason": r} for n, r in report["rejected"]]}
    if not as_json:
        for line, why in report["rejected"]:
            click.echo(f"line {line}: {why}", err=True)
    emit(
        as_json,
        data,
        lambda: click.echo(
            f"{report['added']:,} entries added to {name}; {len(report['rejected'])} rejected."
        ),
    )


@hotlist.command("list")
@user_option
@db_option
@json_option
def hotlist_list(user: str | None, db: str | None, as_json: bool) -> None:
    """The hotlists and their active entries by kind.

    \b
    Example:
        workbench hotlist list --user admin
    """
    frame = login_member(open_store(db), user).hotlists()
    emit(
        as_json,
        {"count": frame.height, "rows": frame_rows(frame)},
        lambda: [
            click.echo(f"{r['hotlist']:<36}{r['kind'] or '-':<16}{r['entries']:>7}") for r in frame.to_dicts()
        ],
    )


@main.group(cls=WorkbenchGroup)
def alerts() -> None:
    """Hotlist alerts: unverified until checked against the state system (LEDS), then confirmed or cleared.

    \b
    Example:
        workbench alerts list --status unverified --purpose hit-verification \\
            --reason "shift check" --user analyst
    """


@alerts.command("list")
@click.option("--status", type=click.Choice(["unverified", "confirmed", "cleared"]), default=None)
@data_options(state=False)
def alerts_list(status: str | None, **kw: Any) -> None:
    """Alerts, newest first: how each matched (exact, or ocr with the look-alike positions) and whether
    the states agree. Verify every hit in LEDS before acting on it.

    \b
    Example:
        workbench alerts list --status unverified --purpose hit-verification \\
            --reason "shift check" --user analyst
    """
    session, why, as_json = door_session(kw)
    result = session.alerts(status=status, **kw, **why)
    print_result(
        result,
        as_json,
        (
            "alert_id",
            "status",
            "match",
            "state_agrees",
            "read_plate",
            "listed_plate",
            "kind",
            "ts",
            "camera",
            "detail",
        ),
    )


@alerts.command("verify")
@click.argument("alert_id", type=ROW_ID)
@click.option("--result", type=click.Choice(["confirmed", "cleared"]), required=True, help="What LEDS said.")
@click.option("--note", required=True, help="What the state system returned, in a few words.")
@data_options(window=False, state=False, limit=False)
def alerts_verify(alert_id: int, result: str, note: str, **kw: Any) -> None:
    """Record the verification of alert ALERT_ID against LEDS: confirmed (actionable) or cleared.

    \b
    Example:
        workbench alerts verify 12 --result confirmed --note "LEDS: stolen, entered by Lane SO" \\
            --purpose hit-verification --reason "hit on US-101" --user investigator
    """
    session, why, as_json = door_session(kw)
    outcome = session.verify_alert(alert_id, result=result, note=note, **why)
    print_result(outcome, as_json, ("alert_id", "status", "actionable", "verified_by", "verified_at", "note"))
