"""The investigators' dashboards, each a function returning one widget; the notebooks in
``voila_apps/`` only call them. Start-up work is small: the map and the data load on first use."""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import ipywidgets as W
import polars as pl

from alpr_lib import validate
from alpr_lib.analytics import Scene
from alpr_lib.errors import AlprError, InvalidInput
from alpr_lib.plates import UNSURE_BELOW, unsure_characters

from .components import (
    Door,
    ExportBar,
    MapView,
    PurposeBar,
    ResultTable,
    SearchPages,
    VehicleFilter,
    bar_chart,
    message,
    text_box,
)

__all__ = ["alerts", "audit_review", "canvass", "partial_plate", "timeline"]

_READ_COLUMNS = ("ts", "plate", "state", "camera", "confidence", "lat", "lon")
PATTERN_HELP = (
    "<b>Pattern:</b> <code>?</code> one character · <code>*</code> any run · <code>[AB8]</code> one of · "
    "plain text = contains. Example: <code>7?B*</code>. Tick <i>look-alikes</i> to also find OCR confusions "
    "(0/O/D/Q, 1/I/L, 2/Z, 5/S, 6/G, 8/B)."
)


def _header(title: str, text: str) -> W.HTML:
    return W.HTML(f"<h2 style='margin:4px 0'>{html.escape(title)}</h2><p>{text}</p>")


def _guard(door: Door, bar: PurposeBar) -> bool:
    if not bar.ready:
        door.say("First state the purpose, case number and reason above, then press “Set purpose”.", "error")
        return False
    return True


def _default_window(door: Door, hours: int = 2) -> tuple[str, str]:
    end = dt.datetime.now(door.timezone).replace(minute=0, second=0, microsecond=0)
    return (end - dt.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M"), end.strftime("%Y-%m-%dT%H:%M")


# -- canvass ------------------------------------------------------------------------------------


def canvass() -> W.Widget:
    """Click the map (or type LAT,LON) to place scenes, each with a radius and a window; canvass them,
    then find the plates common to several scenes."""
    door = Door()
    bar = PurposeBar(door)
    mapview = MapView(door)
    start, end = _default_window(door)
    place = text_box(placeholder="LAT,LON", description="Scene at", layout=W.Layout(width="260px"))
    radius = W.BoundedIntText(
        value=500, min=10, max=50_000, description="Radius m", layout=W.Layout(width="200px")
    )
    since = text_box(
        value=start, placeholder="2026-11-03T01:00", description="From", layout=W.Layout(width="260px")
    )
    until = text_box(
        value=end, placeholder="2026-11-03T03:00", description="To", layout=W.Layout(width="260px")
    )
    add = W.Button(description="Add scene", icon="plus")
    clear = W.Button(description="Clear scenes")
    scenes: list[Scene] = []
    labels: list[str] = []  # each scene's window as the member typed it: shown, never audited
    listing = W.HTML(message("No scenes yet: click the map or type a place, then “Add scene”.").value)
    run = W.Button(description="Canvass", button_style="primary")
    min_scenes = W.BoundedIntText(
        value=2, min=1, max=20, description="Seen at ≥", layout=W.Layout(width="160px")
    )
    common = W.Button(description="Common plates", button_style="info")
    vehicle = VehicleFilter()
    exports = ExportBar(door)
    plates = ResultTable(door, ("plate", "state", "n_scenes", "scenes", "reads", "first_seen", "last_seen"))
    reads = ResultTable(
        door, ("scene", "ts", "plate", "state", "vehicle", "camera", "distance_m", "confidence")
    )

    def refresh() -> None:
        if not scenes:
            listing.value = message("No scenes yet: click the map or type a place, then “Add scene”.").value
        else:
            items = "".join(
                f"<li>scene {i}: {s.lat:.5f}, {s.lon:.5f} — {s.radius_m:g} m, {html.escape(label)}</li>"
                for i, (s, label) in enumerate(zip(scenes, labels, strict=True), start=1)
            )
            listing.value = f"<ol style='margin:2px 0'>{items}</ol>"
        mapview.show_scenes([(s.lat, s.lon, s.radius_m) for s in scenes])

    def add_scene(lat: float, lon: float) -> None:
        try:
            frm, to = door.parse_time(since.value), door.parse_time(until.value, end=True)
        except ValueError:
            door.say("Times are ISO 8601, e.g. 2026-11-03T01:00.", "error")
            return
        if frm is None or to is None:
            door.say("Give each scene a time window (From and To).", "error")
            return
        try:
            scene = Scene.from_times(lat, lon, radius.value, frm, to)
        except AlprError as exc:
            door.say(str(exc), "error")
            return
        scenes.append(scene)
        labels.append(f"{door.local(frm)} to {door.local(to)}")
        refresh()

    def typed(_b: Any) -> None:
        try:
            lat, lon = (validate.finite(x, "the place") for x in place.value.split(","))
            validate.latitude(lat), validate.longitude(lon)
        except (ValueError, InvalidInput):
            door.say("Type the place as LAT,LON, e.g. 43.9717,-124.1009.", "error")
            return
        add_scene(lat, lon)

    def do_canvass(_b: Any) -> None:
        if not _guard(door, bar) or not scenes:
            if bar.ready:
                door.say("Add at least one scene first.", "error")
            return
        result = door.run("Canvass", lambda s: s.canvass(scenes, **vehicle.kwargs()))
        exports.remember("canvass", {"scenes": list(scenes), **vehicle.kwargs()})
        if result is not None:
            reads.show(result.frame)
            plates.show(result.plates)
            mapview.show_reads(result.frame)

    def do_common(_b: Any) -> None:
        if not _guard(door, bar) or not scenes:
            if bar.ready:
                door.say("Add the scenes first.", "error")
            return
        result = door.run(
            "Common plates",
            lambda s: s.common_plates(scenes, min_scenes=min_scenes.value, **vehicle.kwargs()),
        )
        exports.remember(
            "common_plates", {"scenes": list(scenes), "min_scenes": min_scenes.value, **vehicle.kwargs()}
        )
        if result is not None:
            plates.show(result.frame, empty="No plate was seen at that many scenes.")
            reads.show(result.reads)
            mapview.show_reads(result.reads)

    add.on_click(typed)
    clear.on_click(lambda _b: (scenes.clear(), labels.clear(), refresh()))
    run.on_click(do_canvass)
    common.on_click(do_common)
    mapview.on_click(add_scene)
    tabs = W.Tab(children=[plates, reads])
    tabs.set_title(0, "Plates")
    tabs.set_title(1, "Reads")
    return W.VBox(
        [
            _header("Canvass", "Reads near crime scenes, and the plates seen at several of them."),
            bar,
            W.HBox([place, radius, add, clear]),
            W.HBox([since, until]),
            listing,
            vehicle,
            W.HBox([run, min_scenes, common]),
            door.status,
            mapview,
            tabs,
            exports,
        ]
    )


# -- partial plate ------------------------------------------------------------------------------


def partial_plate() -> W.Widget:
    """A witness's partial plate: a pattern (or look-alike matching), filters, ranked results, timeline."""
    door = Door()
    bar = PurposeBar(door)
    pattern = text_box(placeholder="7?B*", description="Plate")
    fuzzy = W.Checkbox(description="look-alikes (OCR-tolerant)", value=False, indent=False)
    edits = W.BoundedIntText(value=1, min=0, max=3, description="Max edits", layout=W.Layout(width="170px"))
    state = text_box(placeholder="OR", description="State", layout=W.Layout(width="170px"))
    since = text_box(placeholder="2026-11-01", description="From", layout=W.Layout(width="260px"))
    until = text_box(placeholder="2026-11-30", description="To", layout=W.Layout(width="260px"))
    near = text_box(placeholder="LAT,LON,METRES", description="Near", layout=W.Layout(width="300px"))
    search = W.Button(description="Search", button_style="primary")
    vehicle = VehicleFilter()
    exports = ExportBar(door)
    plates = ResultTable(door, ("plate", "state", "distance", "why", "reads", "last_seen"))
    reads = ResultTable(door, ("ts", "plate", "state", "vehicle", "camera", "confidence", "why", "reading"))
    chosen = W.Dropdown(description="Timeline of", options=[])
    open_timeline = W.Button(description="Open timeline")
    timeline_box = W.VBox()
    shown: dict[str, Any] = {}  # the partial pattern whose reads are shown, for the page before and after

    def turn(page: int) -> None:
        if "query" not in shown or not _guard(door, bar):
            return
        query = {**shown["query"], "page": page}
        result = door.run("Partial plate search", lambda s: s.search_partial(**query))
        if result is not None:
            reads.show(result.frame)
            pages.show(result)

    pages = SearchPages(turn)

    def do_search(_b: Any) -> None:
        shown.clear()
        pages.show(None)
        if not _guard(door, bar):
            return
        try:
            window = {"since": door.parse_time(since.value), "until": door.parse_time(until.value, end=True)}
        except ValueError:
            door.say("Times are ISO 8601, e.g. 2026-11-03T01:00.", "error")
            return
        st = state.value.strip() or None
        area: dict[str, Any] = vehicle.kwargs()
        if near.value.strip():
            try:
                lat, lon, metres = (validate.finite(x, "the area") for x in near.value.split(","))
                validate.latitude(lat), validate.longitude(lon)
            except (ValueError, InvalidInput):
                door.say("Give the area as LAT,LON,METRES, e.g. 43.97,-124.10,500.", "error")
                return
            area["near"] = (lat, lon, metres)
        if not pattern.value.strip() and vehicle.kwargs():  # no plate at all: the vehicle's description
            query = {**window, **area}
            result = door.run("Vehicle search", lambda s: s.search_vehicle(**query))
            exports.remember("search_vehicle", query)
            if result is not None:
                seen = result.frame.group_by("plate", "state", maintain_order=True).agg(reads=pl.len())
                plates.show(seen)
                reads.show(result.frame)
                chosen.options = [f"{p} {s}".strip() for p, s in seen.select("plate", "state").iter_rows()]
                chosen.value = chosen.options[0] if chosen.options else None
            return
        if fuzzy.value:
            query = {"plate": pattern.value, "max_edits": edits.value, "state": st, **window, **area}
            result = door.run("Look-alike search", lambda s: s.search_fuzzy(**query))
            exports.remember("search_fuzzy", query)
        else:
            query = {"pattern": pattern.value, "state": st, **window, **area}
            result = door.run("Partial plate search", lambda s: s.search_partial(**query))
            exports.remember("search_partial", query)
            shown["query"] = query
            pages.show(result)
        if result is None:
            return
        found = result.plates
        plates.show(found)
        reads.show(result.frame)
        chosen.options = [f"{p} {s}".strip() for p, s in found.select("plate", "state").iter_rows()]
        chosen.value = chosen.options[0] if chosen.options else None

    def do_timeline(_b: Any) -> None:
        if chosen.value:
            plate, _, st = chosen.value.partition(" ")
            timeline_box.children = [_timeline_panel(door, plate, st or None)]

    search.on_click(do_search)
    open_timeline.on_click(do_timeline)
    tabs = W.Tab(children=[plates, reads])
    tabs.set_title(0, "Plates, ranked")
    tabs.set_title(1, "Reads")
    return W.VBox(
        [
            _header(
                "Partial plate",
                "Find the vehicle from part of its plate, as a witness or a camera saw it — or, with the "
                "plate empty, from its description alone.",
            ),
            bar,
            W.HTML(PATTERN_HELP),
            W.HBox([pattern, fuzzy, edits]),
            W.HBox([state, since, until]),
            vehicle,
            W.HBox([near, search]),
            door.status,
            pages,
            tabs,
            exports,
            W.HBox([chosen, open_timeline]),
            timeline_box,
        ]
    )


# -- timeline -----------------------------------------------------------------------------------


def _timeline_panel(door: Door, plate: str, state: str | None) -> W.Widget:
    result = door.run("Timeline", lambda s: s.timeline(plate, state=state))
    if result is None:
        return door.status
    mapview = MapView(door, height="380px")
    mapview.show_reads(result.frame, color="#2563eb", numbered=True)
    summary = result.summary
    hours = result.hours
    by_day = (
        result.frame.with_columns(day=pl.col("ts").dt.convert_time_zone(str(door.timezone)).dt.date())
        .group_by("day")
        .agg(n=pl.len())
        .sort("day")
        if result.count
        else pl.DataFrame({"day": [], "n": []})
    )
    places = ResultTable(
        door, ("place", "reads", "days", "night_share", "cameras", "first_seen", "last_seen")
    )
    places.show(result.places, empty="No sightings.")
    sightings = ResultTable(door, ("ts", "camera", "place", "vehicle", "step_m", "kmh", "confidence"))
    sightings.show(result.frame, empty="No sightings.")
    partners = ResultTable(door, ("plate", "state", "times", "cameras", "mean_lag_s", "first_together"))
    find = W.Button(description="Find convoy partners")

    def do_convoy(_b: Any) -> None:
        found = door.run("Convoy partners", lambda s: s.convoy(plate, state=state))
        if found is not None:
            partners.show(found.frame, empty="No plate travelled with it three times or more.")

    find.on_click(do_convoy)
    facts = (
        f"{summary.get('reads', 0)} sightings at {summary.get('places', 0)} places; first "
        f"{html.escape(door.local(summary.get('first_seen')))}, "
        f"last {html.escape(door.local(summary.get('last_seen')))}; "
        f"usually seen at {', '.join(f'{h:02d}h' for h in summary.get('usual_hours', []))}."
    )
    return W.VBox(
        [
            W.HTML(f"<h3>{html.escape(plate)} {html.escape(state or '')}</h3><p>{facts}</p>"),
            mapview,
            W.HBox(
                [
                    bar_chart(
                        [f"{h:02d}h" for h in hours["hour"]], hours["reads"].to_list(), "Hours seen (local)"
                    ),
                    bar_chart(
                        [door.local(d) for d in by_day["day"]], by_day["n"].to_list(), "Sightings per day"
                    ),
                ]
            ),
            W.HTML("<b>Places it dwells</b> (night share ≥ 0.5: likely home)"),
            places,
            W.HTML("<b>Sightings</b>"),
            sightings,
            find,
            partners,
        ]
    )


def timeline() -> W.Widget:
    """One plate's movements: map with a numbered path, hours and days charts, places, convoy partners."""
    door = Door()
    bar = PurposeBar(door)
    plate = text_box(placeholder="7ABC123", description="Plate")
    state = text_box(placeholder="OR", description="State", layout=W.Layout(width="170px"))
    show = W.Button(description="Show timeline", button_style="primary")
    panel = W.VBox()

    def do_show(_b: Any) -> None:
        if _guard(door, bar):
            panel.children = [_timeline_panel(door, plate.value, state.value.strip() or None)]

    show.on_click(do_show)
    return W.VBox(
        [
            _header(
                "Movement timeline", "Where and when a plate was seen, where it dwells, who travels with it."
            ),
            bar,
            W.HBox([plate, state, show]),
            door.status,
            panel,
        ]
    )


# -- alerts -------------------------------------------------------------------------------------


def _marked(plate: str, unsure: list[int]) -> str:
    """The plate as HTML, its unsure characters underlined in red."""
    return "".join(
        f'<u style="color:#b91c1c" title="unsure">{html.escape(ch)}</u>' if i in unsure else html.escape(ch)
        for i, ch in enumerate(plate)
    )


def alerts() -> W.Widget:
    """The queue of hotlist hits, and recording their verification against LEDS."""
    door = Door()
    bar = PurposeBar(door)
    status = W.Dropdown(
        options=[
            ("unverified", "unverified"),
            ("confirmed", "confirmed"),
            ("cleared", "cleared"),
            ("all", ""),
        ],
        description="Show",
    )
    load = W.Button(description="Load alerts", button_style="primary")
    table = ResultTable(
        door,
        ("alert_id", "status", "match", "state_agrees", "read_plate", "listed_plate", "kind", "ts", "camera"),
    )
    chosen = W.Dropdown(description="Alert", options=[])
    detail = W.HTML()
    crop = W.Image(format="jpeg", layout=W.Layout(max_width="360px", display="none"))
    outcome = W.ToggleButtons(options=["confirmed", "cleared"], value=None, description="LEDS says")
    note = text_box(placeholder="what LEDS returned", description="Note", layout=W.Layout(width="420px"))
    record = W.Button(description="Record verification", button_style="warning")
    rows: dict[int, dict[str, Any]] = {}

    def do_load(_b: Any = None) -> None:
        if not _guard(door, bar):
            return
        result = door.run("Alerts", lambda s: s.alerts(status=status.value or None))
        if result is None:
            return
        table.show(result.frame, empty="No alerts in this state.")
        rows.clear()
        rows.update({r["alert_id"]: r for r in result.frame.to_dicts()})
        chosen.options = [(f"#{a} {r['read_plate']} ({r['status']})", a) for a, r in rows.items()]

    def show_detail(_c: Any = None) -> None:
        r = rows.get(chosen.value)
        if not r:
            detail.value = ""
            return
        warn = []
        if r["match"] == "alternative":
            warn.append(
                "the listed plate is not the camera's reading but one of its other readings "
                f"({html.escape(r['detail'] or '')})"
            )
        if r["match"] == "ocr":
            warn.append(
                f"the plate matched only with look-alike characters ({html.escape(r['detail'] or '')})"
            )
        if r["state_agrees"] is False:
            warn.append(f"the read's state {r['read_state']} differs from the entry's {r['listed_state']}")
        plate = str(r["read_plate"] or "")
        unsure = unsure_characters(r.get("char_confidence"), plate)
        if unsure:
            places = ", ".join(f"{plate[i]} (character {i + 1})" for i in unsure)
            warn.append(f"the reader was less than {UNSURE_BELOW}% sure of {html.escape(places)}")
        caution = (
            message("Caution: " + "; ".join(warn) + ". Verify with special care.", "error").value
            if warn
            else ""
        )
        crop.layout.display = "none"
        if r.get("crop_path"):
            image = door.run("Plate image", lambda s: s.crop(r["read_id"]).crop)
            if image:
                crop.value = image
                crop.layout.display = "block"
        detail.value = (
            f"<p><b>Read</b> {_marked(plate, unsure)} "
            f"{html.escape(str(r['read_state'] or ''))} at "
            f"{html.escape(str(r['camera']))}, {door.local(r['ts'], seconds=True)}, "
            f"confidence {r['confidence']}<br>"
            + (f"<b>Other readings</b> {html.escape(r['alternatives'])}<br>" if r.get("alternatives") else "")
            + f"<b>Hotlist</b> {html.escape(str(r['hotlist']))}: {html.escape(str(r['listed_plate']))} "
            f"{html.escape(str(r['listed_state'] or 'any state'))} — {html.escape(str(r['kind']))}<br>"
            f"<b>Status</b> {html.escape(r['status'])}"
            f"{' — actionable' if r['actionable'] else ' — not actionable'}</p>" + caution
        )

    def do_record(_b: Any) -> None:
        if not _guard(door, bar) or chosen.value is None:
            return
        if outcome.value is None:
            door.say("Choose what LEDS says: confirmed or cleared.", "error")
            return
        alert_id = chosen.value
        done = door.run(
            "Verification", lambda s: s.verify_alert(alert_id, result=outcome.value, note=note.value)
        )
        if done is not None:
            do_load()
            door.say(f"Recorded: alert #{alert_id} {outcome.value} (audit entry {done.audit_id}).", "ok")

    load.on_click(do_load)
    chosen.observe(show_detail, "value")
    record.on_click(do_record)
    return W.VBox(
        [
            _header(
                "Hotlist alerts",
                "A hit is not a fact: check every alert in LEDS and record the result before anyone acts "
                "on it.",
            ),
            bar,
            W.HBox([status, load]),
            door.status,
            table,
            chosen,
            crop,
            detail,
            outcome,
            W.HBox([note, record]),
        ]
    )


# -- audit review -------------------------------------------------------------------------------


def audit_review() -> W.Widget:
    """For supervisors and auditors: search the audit log, review misuse flags, verify the chain."""
    door = Door()
    since = text_box(placeholder="2026-11-01", description="From", layout=W.Layout(width="260px"))
    until = text_box(placeholder="2026-11-30", description="To", layout=W.Layout(width="260px"))
    member = text_box(placeholder="user name", description="Member", layout=W.Layout(width="260px"))
    show = W.Button(description="Review", button_style="primary")
    verify = W.Button(description="Verify the chain")
    flags = ResultTable(door, ("flag", "user_name", "detail", "entries", "first"))
    entries = ResultTable(
        door,
        (
            "id",
            "ts",
            "user_name",
            "role",
            "client",
            "operation",
            "outcome",
            "purpose",
            "case_number",
            "reason",
            "result_count",
            "detail",
        ),
    )
    members = ResultTable(door, ("name", "role", "full_name", "title", "agency", "contractor"))
    chain = W.HTML()
    purge = W.HTML()

    def do_show(_b: Any) -> None:
        try:
            frm, to = door.parse_time(since.value), door.parse_time(until.value, end=True)
        except ValueError:
            door.say("Times are ISO 8601, e.g. 2026-11-03T01:00.", "error")
            return
        result = door.run(
            "Audit review",
            lambda s: s.audit_report(since=frm, until=to, user=member.value.strip() or None),
        )
        if result is not None:
            flags.show(result.flags, empty="No flags of likely misuse.")
            entries.show(result.frame)
            members.show(result.members, empty="No member in these entries.")
            last = result.last_purge.get("last_purge")
            when = door.local(dt.datetime.fromisoformat(last)) if last else "never"
            if result.last_purge.get("purge_overdue"):
                purge.value = message(
                    f"Last purge: {when}. OVERDUE: reads past retention are waiting (none is ever shown); "
                    "check the server's daily purge or run `workbench purge`.",
                    "error",
                ).value
            else:
                purge.value = message(f"Last purge: {when}.", "ok").value

    def do_verify(_b: Any) -> None:
        found = door.run("Chain verification", lambda s: s.verify_audit())
        if found is not None:
            report, head = found
            kind = "ok" if report.ok else "error"
            text = (
                f"The audit log is whole: {report.rows:,} entries. "
                f"Chain head {head.hash[:16]}… (keep it with the report)."
                if report.ok
                else f"The audit log is broken at entry {report.first_bad}: {report.problem}."
            )
            chain.value = message(text, kind).value

    show.on_click(do_show)
    verify.on_click(do_verify)
    tabs = W.Tab(children=[flags, entries, members])
    tabs.set_title(0, "Misuse flags")
    tabs.set_title(1, "Entries")
    tabs.set_title(2, "Members")
    return W.VBox(
        [
            _header("Audit review", "Who reached what, when and why. For supervisors and auditors."),
            W.HBox([since, until, member]),
            W.HBox([show, verify]),
            door.status,
            purge,
            chain,
            tabs,
        ]
    )
