"""ipywidgets components every dashboard reuses: the door, the purpose bar, result tables, maps, charts.

Everything here reaches data only through the member's door client (``workbench.connect()``), which
asks the door service; no component imports a database module. Errors become plain sentences, never
tracebacks.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import logging
import math
import zoneinfo
from collections.abc import Callable, Sequence
from typing import Any

import ipyleaflet as L
import ipywidgets as W
import polars as pl

from alpr_lib import validate
from alpr_lib.access import PURPOSES, Policy, Result
from alpr_lib.access.client import DoorClient
from alpr_lib.access.results import retention_note
from alpr_lib.errors import AlprError
from alpr_lib.exports import EXPORT_FORMATS
from alpr_lib.vehicles import BODIES, COLORS, DIRECTIONS, shown_reads

from ..config import local_time, readable_time

__all__ = [
    "Door",
    "ExportBar",
    "MapView",
    "PurposeBar",
    "ResultTable",
    "SearchPages",
    "VehicleFilter",
    "bar_chart",
    "message",
]

log = logging.getLogger("workbench.ui")

_STYLE = """<style>
.wb-msg { padding: 6px 10px; border-radius: 4px; margin: 4px 0; }
.wb-error { background: #fee2e2; color: #991b1b; }
.wb-info { background: #e0f2fe; color: #075985; }
.wb-ok { background: #dcfce7; color: #166534; }
.wb-table { border-collapse: collapse; font-size: 13px; }
.wb-table th { background: #f3f4f6; text-align: left; padding: 3px 8px; border-bottom: 1px solid #ccc; }
.wb-table td { padding: 2px 8px; border-bottom: 1px solid #eee; }
.wb-bar { background: #3b82f6; height: 12px; display: inline-block; }
</style>"""


def text_box(**kwargs: Any) -> W.Text:
    """A text box that tells the kernel its value when the member leaves it (Enter, Tab, or a click on a
    button), not at each key. ipywidgets sends one change of a box at a time and holds the next back until
    the kernel has acknowledged the first, while a button's click goes at once: with every key sent, a click
    made while the kernel was busy ran before the last keys arrived (a search for part of the typed
    pattern, a scene at the previous scene's place). One change, sent as the box loses focus, goes before
    the click that took the focus."""
    return W.Text(continuous_update=False, **kwargs)


def message(text: str, kind: str = "info") -> W.HTML:
    """A plain-sentence message box (``info``, ``ok`` or ``error``)."""
    return W.HTML(f'{_STYLE}<div class="wb-msg wb-{kind}">{html.escape(validate.printable(text))}</div>')


class Door:
    """The member's session for a dashboard, and the one way its widgets run an operation."""

    def __init__(self) -> None:
        self._session: DoorClient | None = None
        self.status = W.HTML()

    @property
    def session(self) -> DoorClient:
        """The member's door client (:func:`workbench.connect`), connected on first use."""
        if self._session is None:
            import workbench

            self._session = workbench.connect()
        return self._session

    @property
    def timezone(self) -> zoneinfo.ZoneInfo:
        """The department's time zone, as the door's policy says (its default before a login)."""
        try:
            return zoneinfo.ZoneInfo(self.session.policy.timezone)
        except AlprError:
            return zoneinfo.ZoneInfo(Policy().timezone)

    @property
    def basemap_url(self) -> str:
        """The department's tile server, if it has one (the door says which)."""
        try:
            return str(self.session.display.get("basemap_url") or "")
        except AlprError:
            return ""

    def say(self, text: str, kind: str = "info") -> None:
        self.status.value = message(text, kind).value

    def run(self, what: str, operation: Callable[[Any], Any]) -> Any:
        """Run ``operation`` with the session, showing progress and a plain sentence on failure."""
        self.say(f"{what}…")
        try:
            result = operation(self.session)
        except AlprError as exc:
            self.say(f"{what}: {exc}", "error")
            return None
        except Exception as exc:  # never a traceback on a dashboard; the kind of failure goes to the log
            log.error("dashboard operation failed: %s", type(exc).__name__)
            self.say(
                f"{what} failed unexpectedly ({type(exc).__name__}). Try again, or tell an administrator.",
                "error",
            )
            return None
        if isinstance(result, Result):
            if result.total is not None:
                said = result.summary(next_hint="")
            else:
                said = f"{result.count:,} rows" + (" — capped: narrow the search" if result.truncated else "")
                if result.past_retention:
                    said += f" — {retention_note(result.past_retention)}"
            self.say(f"{what}: {said} (audit entry {result.audit_id}).", "ok")
        else:
            self.say(f"{what}: done.", "ok")
        return result

    def local(self, when: Any, *, seconds: bool = False) -> str:
        """A time as people write it, in the department's zone (``Fri 6 Nov 2026 09:36``)."""
        return readable_time(when, self.timezone, seconds=seconds)

    def parse_time(self, text: str, *, end: bool = False) -> dt.datetime | None:
        """An ISO time typed in a dashboard (the department's zone unless it has an offset), or None; a plain
        date that ends a window (``end``) is the end of that day."""
        text = (text or "").strip()
        if not text:
            return None
        try:
            when = local_time(text, str(self.timezone), end=end)
        except OverflowError:
            raise ValueError("not a time") from None
        return validate.clamp(when)


#: What the case box is called, and asks for, under each purpose that names something other than a
#: registered case.
_CASE_BOX = {
    "missing-person": ("Report no.", "missing-person report number"),
    "hit-verification": ("Alert no.", "alert id (optional to list alerts)"),
    "administrative": ("Case no.", "26-01234"),
    "training": ("Case no.", "(none needed)"),
}


class PurposeBar(W.VBox):
    """Purpose, case and reason; nothing runs until they are given and accepted by the door. An investigation
    picks one of the member's open cases from the registry (no free text); the other purposes name their
    report number, alert or department case in a box."""

    def __init__(self, door: Door, on_ready: Callable[[], None] | None = None) -> None:
        self.door = door
        self._on_ready = on_ready
        self.purpose = W.Dropdown(
            options=[("— choose a purpose —", "")] + [(k.label, name) for name, k in PURPOSES.items()],
            description="Purpose",
        )
        try:
            mine = list(door.session.open_cases())
        except AlprError:
            mine = []
        self.cases = W.Dropdown(
            options=[("— your open cases —" if mine else "— no open case assigned to you —", "")]
            + [(c, c) for c in mine],
            description="Case",
        )
        self.case = text_box(placeholder="26-01234", description="Case no.", layout=W.Layout(display="none"))
        self.reason = text_box(
            placeholder="why, in a few words", description="Reason", layout=W.Layout(width="420px")
        )
        self.apply = W.Button(description="Set purpose", button_style="primary")
        self.state = W.HTML(message("State why you are searching: purpose, case number and reason.").value)
        self.ready = False
        self.apply.on_click(lambda _b: self._set())
        self.purpose.observe(lambda _c: self._show_case(), "value")
        super().__init__(
            [W.HBox([self.purpose, self.cases, self.case]), W.HBox([self.reason, self.apply]), self.state]
        )

    def _show_case(self) -> None:
        listed = self.purpose.value in ("", "investigation")
        self.cases.layout.display = None if listed else "none"
        self.case.layout.display = "none" if listed else None
        self.case.description, self.case.placeholder = _CASE_BOX.get(
            self.purpose.value or "", ("Case no.", "")
        )

    def _chosen_case(self) -> str | None:
        if self.purpose.value in ("", "investigation"):
            return self.cases.value or None
        return self.case.value.strip() or None

    def _set(self) -> None:
        try:
            why = self.door.session.set_purpose(
                self.purpose.value or "", case=self._chosen_case(), reason=self.reason.value
            )
        except AlprError as exc:
            self.ready = False
            self.state.value = message(str(exc), "error").value
            return
        self.ready = True
        case = f", case {why.case}" if why.case else ""
        self.state.value = message(
            f"Searching for {PURPOSES[why.purpose or ''].label}{case}: {why.reason}", "ok"
        ).value
        if self._on_ready:
            self._on_ready()


class SearchPages(W.HBox):
    """Where a paged search's reads lie among all it found (``rows 1-1,000 of 4,733``), with buttons for
    the page before and after it: each turn is a search of its own, audited like the first. Hidden while
    everything found fits on one page."""

    def __init__(self, turn: Callable[[int], None]) -> None:
        self.page = 1
        self.where = W.HTML()
        self.back = W.Button(description="◀ page before", layout=W.Layout(width="140px"))
        self.after = W.Button(description="page after ▶", layout=W.Layout(width="140px"))
        self.back.on_click(lambda _b: turn(self.page - 1))
        self.after.on_click(lambda _b: turn(self.page + 1))
        super().__init__([self.back, self.where, self.after], layout=W.Layout(display="none"))

    def show(self, result: Result | None) -> None:
        """Follow ``result`` (None: nothing found yet)."""
        paged = result is not None and result.total is not None
        if not paged or (result.page == 1 and not result.truncated):  # type: ignore[union-attr]
            self.layout.display = "none"
            return
        assert result is not None
        self.page = result.page or 1
        self.where.value = f"<b>{html.escape(result.summary(next_hint=''))}</b>"
        self.back.disabled = self.page <= 1
        self.after.disabled = not result.truncated
        self.layout.display = "flex"


#: How many items of a list a table cell shows before saying how many there are.
_LIST_SHOWN = 6


class ResultTable(W.VBox):
    """A sortable, paged table of a polars frame (times shown in the department's zone)."""

    def __init__(self, door: Door, columns: Sequence[str] | None = None, page_size: int = 25) -> None:
        self.door = door
        self.columns = list(columns) if columns else None
        self.page_size = page_size
        self.frame = pl.DataFrame()
        self.page = 0
        self.sort_by = W.Dropdown(description="Sort by", options=[], layout=W.Layout(width="260px"))
        self.descending = W.Checkbox(description="descending", value=False, indent=False)
        self.prev = W.Button(description="◀ previous", layout=W.Layout(width="110px"))
        self.next = W.Button(description="next ▶", layout=W.Layout(width="110px"))
        self.where = W.Label()
        self.body = W.HTML()
        self.prev.on_click(lambda _b: self._turn(-1))
        self.next.on_click(lambda _b: self._turn(1))
        self.sort_by.observe(lambda _c: self._render(), "value")
        self.descending.observe(lambda _c: self._render(), "value")
        super().__init__(
            [W.HBox([self.sort_by, self.descending, self.prev, self.next, self.where]), self.body]
        )
        self.show(pl.DataFrame(), empty="No results yet.")

    def show(self, frame: pl.DataFrame, empty: str = "Nothing matched.") -> None:
        frame = shown_reads(frame)  # the vehicle in words, and the reading a read was found by
        cols = [c for c in (self.columns or frame.columns) if c in frame.columns]
        self.frame = frame.select(cols) if cols else frame
        self.empty = empty
        self.page = 0
        self.sort_by.options = [("(as found)", "")] + [(c, c) for c in self.frame.columns]
        self.sort_by.value = ""
        self._render()

    def _turn(self, step: int) -> None:
        pages = max(1, -(-self.frame.height // self.page_size))
        self.page = min(max(self.page + step, 0), pages - 1)
        self._render()

    def _render(self) -> None:
        frame = self.frame
        if frame.height == 0:
            self.body.value = message(self.empty).value
            self.where.value = ""
            return
        if self.sort_by.value:
            frame = frame.sort(self.sort_by.value, descending=self.descending.value, nulls_last=True)
        start = self.page * self.page_size
        rows = frame.slice(start, self.page_size).iter_rows()
        head = "".join(f"<th>{html.escape(c)}</th>" for c in frame.columns)
        body = "".join(
            "<tr>"
            + "".join(f"<td>{html.escape(validate.printable(self._cell(v)))}</td>" for v in row)
            + "</tr>"
            for row in rows
        )
        self.body.value = f'{_STYLE}<table class="wb-table"><tr>{head}</tr>{body}</table>'
        self.where.value = f"rows {start + 1}-{min(start + self.page_size, frame.height)} of {frame.height:,}"

    def _cell(self, value: Any) -> str:
        if isinstance(value, dt.datetime | dt.date):
            return self.door.local(value)
        if isinstance(value, float):
            return f"{value:.6g}"
        if isinstance(value, list):
            # A long list (a busy day's seventy audit entries) would crowd the table: its first few and
            # how many (the whole list is a filter or a tab away).
            shown = ", ".join(str(v) for v in value[:_LIST_SHOWN])
            return shown if len(value) <= _LIST_SHOWN else f"{shown} … ({len(value):,} in all)"
        return "" if value is None else str(value)


class ExportBar(W.HBox):
    """Download the last search's reads as CSV, GeoJSON or KML: each file an audited export, recorded as a
    copy of the case's data, handed to the browser as a download (nothing leaves for another host)."""

    def __init__(self, door: Door) -> None:
        self.door = door
        self.query: tuple[str, dict[str, Any]] | None = None
        self.link = W.HTML()
        buttons = []
        for fmt in EXPORT_FORMATS:
            button = W.Button(description=f"Export {fmt.upper()}", layout=W.Layout(width="140px"))
            button.on_click(lambda _b, f=fmt: self._export(f))
            buttons.append(button)
        super().__init__([*buttons, self.link])

    def remember(self, search: str, query: dict[str, Any]) -> None:
        """The search the buttons export (the one just shown)."""
        self.query = (search, dict(query))
        self.link.value = ""

    def _export(self, fmt: str) -> None:
        if self.query is None:
            self.door.say("Search first; the export holds the reads the search finds.", "error")
            return
        search, query = self.query
        name = f"{search.replace('_', '-')}-{dt.datetime.now(self.door.timezone):%Y%m%d-%H%M}.{fmt}"
        done = self.door.run("Export", lambda s: s.export_reads(search, query, format=fmt, file=name))
        if done is None:
            return
        payload = base64.b64encode(done.data).decode()
        self.link.value = (
            f'<a download="{html.escape(name)}" href="data:{EXPORT_FORMATS[fmt]};base64,{payload}">'
            f"Save {html.escape(name)}</a> ({done.count:,} reads; copy {done.copy_id} of the case's data)"
        )


class VehicleFilter(W.HBox):
    """The vehicle a search is narrowed to: colour, body type, make and direction of travel (any by
    default). :meth:`kwargs` gives the door's arguments for what is chosen."""

    def __init__(self) -> None:
        any_ = [("any", "")]
        self.color = W.Dropdown(options=any_ + [(c, c) for c in COLORS], description="Colour",
                                layout=W.Layout(width="200px"))  # fmt: skip
        self.body = W.Dropdown(options=any_ + [(b, b) for b in BODIES], description="Body",
                               layout=W.Layout(width="200px"))  # fmt: skip
        self.make = text_box(placeholder="e.g. Ford", description="Make", layout=W.Layout(width="220px"))
        self.direction = W.Dropdown(options=any_ + [(d, d) for d in DIRECTIONS], description="Heading",
                                    layout=W.Layout(width="180px"))  # fmt: skip
        super().__init__([self.color, self.body, self.make, self.direction])

    def kwargs(self) -> dict[str, str]:
        chosen = {
            "color": self.color.value,
            "body": self.body.value,
            "make": self.make.value.strip(),
            "direction": self.direction.value,
        }
        return {k: v for k, v in chosen.items() if v}


class MapView(W.VBox):
    """An offline map: the roads and cameras from the database (tiles only when a basemap URL is set),
    results drawn as vector layers — nothing is fetched from the internet."""

    def __init__(self, door: Door, height: str = "460px") -> None:
        self.door = door
        self.map = L.Map(
            center=(43.99, -124.1), zoom=12, layers=(), scroll_wheel_zoom=True, layout=W.Layout(height=height)
        )
        if door.basemap_url:
            self.map.add(L.TileLayer(url=door.basemap_url, name="basemap"))
        self.results = L.LayerGroup(name="results")
        self.marks = L.LayerGroup(name="scenes")
        self._base_drawn = False
        super().__init__([self.map])

    def draw_base(self) -> None:
        """Roads and cameras (once, on first use, so dashboards open fast)."""
        if self._base_drawn:
            return
        layers = self.door.run("Loading the map", lambda s: s.map_layers())
        if not layers:
            return
        self._base_drawn = True
        if layers["roads"] and not self.door.basemap_url:  # the basemap draws them, with their names
            self.map.add(
                L.GeoJSON(data=layers["roads"], name="roads", style={"color": "#9ca3af", "weight": 2})
            )
        cams = layers["cameras"].drop_nulls(["lat", "lon"])
        dots = [
            L.CircleMarker(
                location=(lat, lon),
                radius=5,
                color="#374151",
                fill_color="#f9fafb",
                fill_opacity=0.9,
                weight=2,
                popup=W.HTML(f"camera <b>{html.escape(str(name))}</b>"),
            )  # fmt: skip
            for name, lat, lon in cams.select("camera", "lat", "lon").iter_rows()
        ]
        self.map.add(L.LayerGroup(layers=dots, name="cameras"))
        if cams.height:
            self._fit(list(cams.select("lat", "lon").iter_rows()), margin_m=300)
        self.map.add(self.results)
        self.map.add(self.marks)

    def show_reads(self, frame: pl.DataFrame, color: str = "#dc2626", numbered: bool = False) -> None:
        """Reads as dots (numbered in time order for a timeline), with a line between them if numbered."""
        self.draw_base()
        self.results.clear_layers()
        if frame.is_empty():
            return
        points = list(frame.select("lat", "lon").iter_rows())
        layers: list[Any] = []
        if numbered and len(points) > 1:
            layers.append(L.Polyline(locations=points, color="#2563eb", weight=2, fill=False))
        for i, (lat, lon) in enumerate(points[:2000], start=1):
            marker = L.CircleMarker(location=(lat, lon), radius=6, color=color, fill_opacity=0.7, weight=1)
            if numbered:
                marker.popup = W.HTML(str(i))
            layers.append(marker)
        for layer in layers:
            self.results.add(layer)
        self._fit(points)

    def _fit(self, points: Sequence[tuple[float, float]], margin_m: float = 150.0) -> None:
        """Bring the places into view, close enough to read the street names when they are near: the centre
        and zoom computed here (ipyleaflet's own fit_bounds zooms step by step and can overshoot)."""
        if not points:
            return
        lats, lons = [p[0] for p in points], [p[1] for p in points]
        mid = (min(lats) + max(lats)) / 2
        pad_lat = margin_m / 111_320
        pad_lon = margin_m / (111_320 * max(0.2, math.cos(math.radians(mid))))
        south, north = min(lats) - pad_lat, max(lats) + pad_lat
        west, east = min(lons) - pad_lon, max(lons) + pad_lon

        def mercator(lat: float) -> float:
            return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2))

        width, height = 900, int(str(self.map.layout.height or "460px").removesuffix("px") or 460)
        zoom_x = math.log2(width * 360 / (256 * max(east - west, 1e-6)))
        zoom_y = math.log2(height * 2 * math.pi / (256 * max(mercator(north) - mercator(south), 1e-9)))
        self.map.center = ((south + north) / 2, (west + east) / 2)
        self.map.zoom = max(9, min(17, math.floor(min(zoom_x, zoom_y))))

    def show_scenes(self, scenes: Sequence[tuple[float, float, float]]) -> None:
        self.draw_base()
        self.marks.clear_layers()
        for i, (lat, lon, radius) in enumerate(scenes, start=1):
            self.marks.add(
                L.Circle(
                    location=(lat, lon), radius=int(radius), color="#f59e0b", fill_opacity=0.15, weight=2
                )
            )
            self.marks.add(L.CircleMarker(location=(lat, lon), radius=3, color="#f59e0b", title=f"scene {i}"))
        reach = [
            (
                lat + dy * radius / 111_320,
                lon + dx * radius / (111_320 * max(0.2, math.cos(math.radians(lat)))),
            )
            for lat, lon, radius in scenes
            for dy, dx in ((-1, -1), (1, 1))
        ]
        self._fit(reach, margin_m=50)

    def on_click(self, callback: Callable[[float, float], None]) -> None:
        def handle(**event: Any) -> None:
            if event.get("type") == "click":
                lat, lon = event["coordinates"]
                callback(float(lat), float(lon))

        self.map.on_interaction(handle)


def bar_chart(labels: Sequence[Any], values: Sequence[int], title: str) -> W.HTML:
    """A small horizontal bar chart in HTML (no chart library, no network)."""
    top = max(values) if values else 0
    rows = "".join(
        f"<tr><td>{html.escape(str(label))}</td><td>"
        f"<span class='wb-bar' style='width:{(v / top * 300) if top else 0:.0f}px'>"
        f"</span> {v}</td></tr>"
        for label, v in zip(labels, values, strict=True)
    )
    return W.HTML(f"{_STYLE}<b>{html.escape(title)}</b><table class='wb-table'>{rows}</table>")
