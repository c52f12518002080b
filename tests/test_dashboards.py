"""The dashboards in a real browser (Debian's Chromium via Playwright) against a real `workbench serve`:
each main flow on a planted scenario, refusals for the untrained, nothing fetched from outside, every
action on the audit log."""

from __future__ import annotations

import base64
import datetime as dt
import json
import os
import time
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alpr_lib.access import login
from alpr_lib.store import Store
from alpr_lib.store import schema as s
from workbench.basemap import tile_of

from .conftest import DEMO_PASSWORD, DEMO_START, copy_of
from .engines import drop_database
from .servers import Server, run_server

pytestmark = pytest.mark.slow

APPS = Path(__file__).resolve().parent.parent / "voila_apps"
TZ = zoneinfo.ZoneInfo("America/Los_Angeles")


@pytest.fixture(scope="module")
def served(
    demo_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Store, dict]]:
    from workbench.basemap import DEMO_FILE, write_generated

    tmp = tmp_path_factory.mktemp("dashboards")
    url = copy_of(demo_template, tmp, "city")
    store = Store(url)
    manifest = json.loads(store.get_meta("manifest") or "{}")
    write_generated(tmp / "data" / DEMO_FILE, json.loads(store.get_meta("roads") or "{}"))  # as `demo` does
    with run_server("serve", str(store.url), APPS, tmp) as server:
        yield server, store, manifest
    store.dispose()
    drop_database(url)


class Dashboard:
    """One logged-in page of a dashboard, recording any request that leaves the server."""

    def __init__(self, browser: Any, server: Server, app: str | None, user: str) -> None:
        self.context = browser.new_context(viewport={"width": 1300, "height": 1300})
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        self.outside: list[str] = []
        self.tiles: list[str] = []
        self.page.on(
            "request",
            lambda r: (
                None if r.url.startswith((server.url, "data:", "blob:")) else self.outside.append(r.url)
            ),
        )
        self.page.on(
            "response",
            lambda r: self.tiles.append(r.url) if "/workbench/tiles/" in r.url and r.status == 200 else None,
        )
        # The login page first (a dashboard's address, or the front page's), then the page asked for.
        where = f"{server.url}/voila/render/{app}.ipynb" if app else f"{server.url}/"
        self.page.goto(where, wait_until="domcontentloaded")
        self.page.fill("#username", user)
        self.page.fill("#password", DEMO_PASSWORD)
        self.page.click("#login_submit")

    def purpose(self, purpose: str, case: str, reason: str) -> None:
        p = self.page
        p.get_by_role("button", name="Set purpose").wait_for()
        p.get_by_label("Purpose", exact=True).select_option(label=purpose)
        if purpose == "criminal investigation":  # one of the member's open cases, from the registry
            p.get_by_label("Case", exact=True).select_option(label=case)
        else:  # the box says what it asks for: an alert's number for a hit's verification
            label = "Alert no." if purpose == "hotlist hit verification" else "Case no."
            p.get_by_label(label, exact=True).fill(case)
        p.fill("input[placeholder='why, in a few words']", reason)
        p.get_by_role("button", name="Set purpose").click()
        p.wait_for_selector(f"text=Searching for {purpose}")

    def snap(self, name: str) -> None:
        """Keep a screenshot for the investigator's guide when DASHBOARD_SCREENSHOTS names a folder."""
        folder = os.environ.get("DASHBOARD_SCREENSHOTS")
        if folder:
            self.page.wait_for_timeout(800)  # let the map finish drawing
            self.page.screenshot(path=str(Path(folder) / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_dashboard(browser: Any, served: tuple[Server, Store, dict]) -> Iterator[Any]:
    pages: list[Dashboard] = []

    def opener(app: str, user: str) -> Dashboard:
        page = Dashboard(browser, served[0], app, user)
        pages.append(page)
        return page

    yield opener
    for page in pages:
        page.close()


def last_entries(store: Store, operation: str) -> list[Any]:
    with store.read() as conn:
        return conn.execute(
            sa.select(s.AuditEntry).where(s.AuditEntry.operation == operation).order_by(s.AuditEntry.id)
        ).all()


def local(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, TZ).strftime("%Y-%m-%dT%H:%M:%S")


def test_canvass_finds_the_suspect_at_three_burglaries(open_dashboard: Any, served: tuple) -> None:
    _server, store, manifest = served
    series = manifest["scenarios"]["burglary_series"]
    d = open_dashboard("canvass", "analyst")
    d.purpose("criminal investigation", "26-01234", "burglary series on the coast")
    p = d.page
    for i, scene in enumerate(series["scenes"], start=1):
        p.fill("input[placeholder='LAT,LON']", f"{scene['lat']},{scene['lon']}")
        p.fill("input[placeholder='2026-11-03T01:00']", local(scene["from_ms"]))
        p.fill("input[placeholder='2026-11-03T03:00']", local(scene["to_ms"]))
        p.get_by_role("button", name="Add scene").click()
        # Each scene listed before the next is typed: ipywidgets holds a box's second change back until the
        # kernel has acknowledged its first, while a click goes at once, so a busy kernel could otherwise
        # add the next scene with the last one's place or window (failed CI twice on PostgreSQL).
        p.wait_for_selector(f"text=scene {i}:")
    assert p.locator("li", has_text="scene ").count() == len(series["scenes"])
    p.locator(".widget-inline-hbox", has_text="Seen at").locator("input").fill("3")
    p.get_by_role("button", name="Common plates").click()
    p.wait_for_selector("text=Common plates:")
    p.wait_for_selector(f"td:has-text('{series['plate']}')")
    p.wait_for_selector("img.leaflet-tile-loaded")
    d.snap("canvass")
    assert p.locator("path.leaflet-interactive").count() > 3  # cameras, scenes and reads drawn
    assert d.tiles and all("/workbench/tiles/" in t for t in d.tiles)  # the basemap, from this server
    assert d.outside == []
    entry = last_entries(store, "common")[-1]
    assert (entry.user_name, entry.client, entry.case_number, entry.outcome) == (
        "analyst",
        "dashboard",
        "26-01234",
        "ok",
    )


def test_the_front_page_names_each_dashboard_by_its_purpose(open_dashboard: Any, served: tuple) -> None:
    server, store, _manifest = served
    d = open_dashboard(None, "investigator")  # logging in at the server's address
    p = d.page
    p.wait_for_selector("#member")
    body = p.inner_text("body")
    # No full name kept: the account name once, then the role (not "investigator (investigator), ...").
    assert p.inner_text("#member") == "Logged in as investigator, investigator."
    for title in ("Canvass a scene", "Identify a partial plate", "Follow a vehicle", "Verify hotlist alerts"):
        assert title in body
    assert "Review the audit log" not in body  # not for this role
    assert ".ipynb" not in body and "Select items" not in body  # no file names
    assert "26-01234" in p.inner_text("#cases")  # the member's open cases
    assert "waiting" in p.inner_text("#alerts-line")
    admin = login(store, "admin", DEMO_PASSWORD)
    admin.set_profile("investigator", full_name="Dana Whitfield")
    try:
        p.reload()
        assert p.inner_text("#member") == "Logged in as Dana Whitfield (investigator), investigator."
        assert p.locator("#logout").get_attribute("href").endswith("/logout")
        d.snap("front-page")  # as a member the administrator has given a full name sees it
    finally:
        admin.set_profile("investigator", full_name="")
    p.goto(f"{server.url}/voila/tree", wait_until="domcontentloaded")  # Voila's file listing is gone too
    assert "Canvass a scene" in p.inner_text("body") and ".ipynb" not in p.inner_text("body")
    p.get_by_text("Canvass a scene").click()
    p.get_by_role("button", name="Set purpose").wait_for()
    assert d.outside == []  # login, front page and dashboard: nothing from outside the machine
    assert last_entries(store, "home")[-1].user_name == "investigator"


def test_a_canvass_narrowed_to_a_white_pickup(open_dashboard: Any, served: tuple) -> None:
    _server, store, manifest = served
    witness = manifest["scenarios"]["partial_plate"]
    at = dt.datetime.fromisoformat(witness["at"])
    d = open_dashboard("canvass", "investigator")
    d.purpose("criminal investigation", "26-03131", "hit and run: white pickup seen at Bay St")
    p = d.page
    with store.read() as conn:
        lat, lon = conn.execute(
            sa.select(s.Camera.lat, s.Camera.lon).where(s.Camera.name == witness["camera"])
        ).one()
    p.fill("input[placeholder='LAT,LON']", f"{lat},{lon}")
    p.fill(
        "input[placeholder='2026-11-03T01:00']",
        local(int((at - dt.timedelta(minutes=30)).timestamp() * 1000)),
    )
    p.fill(
        "input[placeholder='2026-11-03T03:00']",
        local(int((at + dt.timedelta(minutes=30)).timestamp() * 1000)),
    )
    p.get_by_role("button", name="Add scene").click()
    p.get_by_label("Colour", exact=True).select_option(label="white")
    p.get_by_label("Body", exact=True).select_option(label="pickup")
    p.get_by_role("button", name="Canvass").click()
    p.wait_for_selector("text=Canvass:")
    p.get_by_role("tab", name="Reads").click()
    row = p.locator("tr", has_text="white Ford F-150 pickup").filter(has_text=witness["plate"]).first
    row.wait_for()  # the witnessed pickup, described in words
    p.wait_for_selector("img.leaflet-tile-loaded")
    d.snap("canvass-white-pickup")
    entry = last_entries(store, "canvass")[-1]
    params = json.loads(entry.params)
    assert (params["color"], params["body"], entry.case_number) == ("white", "pickup", "26-03131")
    p.get_by_role("button", name="Export KML").click()  # the reads, for the case file and GIS
    p.wait_for_selector("a:has-text('Save canvass-')")
    href = p.locator("a:has-text('Save canvass-')").get_attribute("href")
    assert href.startswith("data:application/vnd.google-earth.kml+xml;base64,")
    assert witness["plate"].encode() in base64.b64decode(href.split(",", 1)[1])
    exported = json.loads(last_entries(store, "export.reads")[-1].params)
    assert (exported["search"], exported["format"], exported["query"]["color"]) == ("canvass", "kml", "white")
    assert d.outside == []


def test_partial_plate_then_timeline(open_dashboard: Any, served: tuple) -> None:
    _server, store, manifest = served
    witness = manifest["scenarios"]["partial_plate"]
    d = open_dashboard("partial_plate", "investigator")
    d.purpose("criminal investigation", "26-03131", "hit and run, witness saw part of the plate")
    p = d.page
    p.fill("input[placeholder='7?B*']", witness["pattern"])
    p.get_by_role("button", name="Search").click()
    p.wait_for_selector("text=Partial plate search:")
    p.wait_for_selector(f"td:has-text('{witness['plate']}')")
    p.get_by_label("Timeline of", exact=True).select_option(label=f"{witness['plate']} {witness['state']}")
    p.get_by_role("button", name="Open timeline").click()
    p.wait_for_selector("text=Hours seen (local)")
    d.snap("partial-plate-and-timeline")
    assert d.outside == []
    assert last_entries(store, "search.partial")[-1].params.find(witness["pattern"]) > 0
    assert last_entries(store, "timeline")[-1].user_name == "investigator"


def test_a_member_typing_while_the_database_is_busy(open_dashboard: Any, served: tuple) -> None:
    """While another job holds the database's write lock (an import's batch, a purge), the server goes on
    answering every page; and a member who types a new pattern while the last search waits, then clicks
    Search at once, searches the pattern typed — the click does not overtake the keys."""
    server, store, manifest = served
    witness = manifest["scenarios"]["partial_plate"]
    d = open_dashboard("partial_plate", "investigator")
    d.purpose("criminal investigation", "26-03131", "hit and run, witness saw part of the plate")
    p = d.page
    box, search = p.locator("input[placeholder='7?B*']"), p.get_by_role("button", name="Search")
    before = len(last_entries(store, "search.partial"))
    members = sa.select(s.User.id).where(s.User.name == "investigator").scalar_subquery()
    with store.atomic() as conn:  # the member's last action two minutes ago: their next one is written down
        conn.execute(
            sa.update(s.Session)
            .where(s.Session.user_id == members, s.Session.ended_at.is_(None))
            .values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=2))
        )
    # Neither the member's idle clock nor the door's audit entry can be written: the click waits on the one,
    # the search on the other.
    with store.atomic() as conn:
        if store.sqlite_path() is None:
            conn.exec_driver_sql("LOCK TABLE audit_log, sessions IN SHARE MODE")
        box.fill("*7*")
        search.click()
        time.sleep(1.0)
        # The member's session is checked, and the server answers, while the lock is held (within 5 s of the
        # 15 a database wait may take: a server held up by the wait would not answer at all).
        scene = manifest["scenarios"]["burglary_series"]["scenes"][0]
        x, y = tile_of(scene["lon"], scene["lat"], 14)
        tile = p.request.get(f"{server.url}/workbench/tiles/14/{x}/{y}.png", max_redirects=0, timeout=5000)
        assert tile.status == 200  # a logged-in member's (a login page would be a redirect)
        box.fill("")
        box.press_sequentially(witness["pattern"])
        search.click()
        time.sleep(1.0)
    deadline = time.monotonic() + 60
    while len(last_entries(store, "search.partial")) < before + 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    entries = last_entries(store, "search.partial")[before:]
    assert [json.loads(e.params)["pattern"] for e in entries] == ["*7*", witness["pattern"]]
    p.wait_for_selector(f"td:has-text('{witness['plate']}')")


def test_a_vague_pattern_is_read_a_page_at_a_time(open_dashboard: Any, served: tuple) -> None:
    _server, store, _manifest = served
    d = open_dashboard("partial_plate", "investigator")
    d.purpose("criminal investigation", "26-03131", "hit and run, witness saw one digit")
    p = d.page
    p.fill("input[placeholder='7?B*']", "*7*")
    p.get_by_role("button", name="Search").click()
    p.wait_for_selector("text=Partial plate search: rows 1-1,000 of")
    total = json.loads(last_entries(store, "search.partial")[-1].params)
    assert (total["page"], total["limit"]) == (1, 1000)
    p.get_by_role("button", name="page after ▶").click()
    p.wait_for_selector("text=Partial plate search: rows 1,001-2,000 of")
    entry = last_entries(store, "search.partial")[-1]
    assert (json.loads(entry.params)["page"], entry.user_name, entry.case_number) == (
        2,
        "investigator",
        "26-03131",
    )
    p.get_by_role("button", name="◀ page before").click()
    p.wait_for_selector("text=Partial plate search: rows 1-1,000 of")
    assert p.get_by_role("button", name="◀ page before").is_disabled()
    assert d.outside == []


def test_a_vehicle_found_by_its_description_alone(open_dashboard: Any, served: tuple) -> None:
    _server, store, manifest = served
    witness = manifest["scenarios"]["partial_plate"]
    at = dt.datetime.fromisoformat(witness["at"])
    d = open_dashboard("partial_plate", "investigator")
    d.purpose("criminal investigation", "26-04242", "hit and run: a white pickup, no plate seen")
    p = d.page
    p.fill("input[placeholder='2026-11-01']", local(int((at - dt.timedelta(minutes=20)).timestamp() * 1000)))
    p.fill("input[placeholder='2026-11-30']", local(int((at + dt.timedelta(minutes=20)).timestamp() * 1000)))
    p.get_by_label("Colour", exact=True).select_option(label="white")
    p.get_by_label("Body", exact=True).select_option(label="pickup")
    p.get_by_role("button", name="Search").click()
    p.wait_for_selector("text=Vehicle search:")
    p.wait_for_selector(f"td:has-text('{witness['plate']}')")
    entry = last_entries(store, "search.vehicle")[-1]
    assert (entry.user_name, entry.case_number, entry.outcome) == ("investigator", "26-04242", "ok")
    assert json.loads(entry.params)["color"] == "white"
    assert d.outside == []


def test_timeline_and_convoy_partners(open_dashboard: Any, served: tuple) -> None:
    _server, store, manifest = served
    convoy = manifest["scenarios"]["convoy"]
    d = open_dashboard("timeline", "analyst")
    d.purpose("criminal investigation", "26-05555", "associates of the suspect vehicle")
    p = d.page
    p.fill("input[placeholder='7ABC123']", convoy["target"])
    p.get_by_role("button", name="Show timeline").click()
    p.wait_for_selector("text=Hours seen (local)")
    p.get_by_role("button", name="Find convoy partners").click()
    p.wait_for_selector("text=Convoy partners:")
    p.wait_for_selector(f"td:has-text('{convoy['companion']}')")
    assert d.outside == []
    assert last_entries(store, "convoy")[-1].case_number == "26-05555"


def test_an_untrained_member_is_refused(open_dashboard: Any, served: tuple) -> None:
    server, store, _manifest = served
    d = open_dashboard("partial_plate", "trainee")
    d.purpose("criminal investigation", "26-01234", "trying the dashboard")
    p = d.page
    p.fill("input[placeholder='7?B*']", "7*")
    p.get_by_role("button", name="Search").click()
    p.wait_for_selector("text=no ALPR training is on record")
    assert p.locator("td").count() == 0
    entry = last_entries(store, "search.partial")[-1]
    assert (entry.user_name, entry.outcome) == ("trainee", "denied")


def test_alert_verification(open_dashboard: Any, served: tuple) -> None:
    _server, store, manifest = served
    stolen = manifest["scenarios"]["stolen_vehicle"]
    d = open_dashboard("alerts", "investigator")
    d.purpose("hotlist hit verification", "", "checking this shift's hits")
    p = d.page
    p.get_by_role("button", name="Load alerts").click()
    p.wait_for_selector("text=Alerts:")
    p.wait_for_selector(f"td:has-text('{stolen['misread_as']}')")
    misread = p.get_by_label("Alert", exact=True)
    # The list of alerts to choose from is a widget of its own: it may arrive just after the table.
    misread.locator("option", has_text=stolen["misread_as"]).wait_for(state="attached")
    label = next(o for o in misread.locator("option").all_inner_texts() if stolen["misread_as"] in o)
    misread.select_option(label=label)
    p.wait_for_selector("text=Caution")  # an OCR match is flagged before anyone acts
    d.snap("alerts")
    p.get_by_role("button", name="cleared", exact=True).click()
    p.fill("input[placeholder='what LEDS returned']", "LEDS: plate not stolen, misread")
    p.get_by_role("button", name="Record verification").click()
    p.wait_for_selector("text=Recorded: alert")
    entry = last_entries(store, "alerts.verify")[-1]
    assert (entry.user_name, entry.outcome, entry.purpose) == ("investigator", "ok", "hit-verification")


class _UnsureReader:
    """A plate reader reading every region as 9XYZ123, sure of all its characters but the third."""

    def read(self, crops: list[Any]) -> list:
        from alpr_lib.recognition.reader import LineReading

        return [LineReading("9XYZ123", 0.95, (0.99, 0.98, 0.35, 0.97, 0.99, 0.99, 0.99), ()) for _c in crops]


def test_the_alert_verifier_marks_the_characters_the_reader_doubted(
    open_dashboard: Any, served: tuple, tmp_path: Path
) -> None:
    """A still the workbench read itself hits a hotlist: the alert shows which character the plate reader
    was unsure of, underlined and named in the caution."""
    import cv2
    import numpy as np
    import polars as pl

    from alpr_lib.hotlists import add_entries
    from alpr_lib.media import ImageStore
    from alpr_lib.recognition import FakeEngine, TextBox
    from alpr_lib.recognition_intake import ingest_images

    server, store, _manifest = served
    with store.atomic() as conn:
        add_entries(
            conn,
            pl.DataFrame(
                {"hotlist": ["Stolen"], "plate": ["9XYZ123"], "state": [""], "kind": ["stolen-vehicle"]}
            ),
        )
    plate = TextBox(((220, 140), (400, 140), (400, 190), (220, 190)), "9XYZ123", 0.9)
    engine = FakeEngine(lambda _img: [plate])
    engine.reader = _UnsureReader()  # type: ignore[attr-defined]
    folder = tmp_path / "stills"
    folder.mkdir()
    cv2.imwrite(str(folder / "cam_2026-11-30_23-00-00.jpg"), np.full((480, 640, 3), 90, np.uint8))
    with store.read() as conn:
        camera = conn.execute(sa.select(s.Camera.name).order_by(s.Camera.id).limit(1)).scalar_one()
    report = ingest_images(store, folder, camera=camera, engine=engine, images=ImageStore(server.images))
    assert (report.imported, report.alerts) == (1, 1)

    d = open_dashboard("alerts", "investigator")
    d.purpose("hotlist hit verification", "", "checking this shift's hits")
    p = d.page
    p.get_by_role("button", name="Load alerts").click()
    p.wait_for_selector("td:has-text('9XYZ123')")
    chosen = p.get_by_label("Alert", exact=True)
    chosen.locator("option", has_text="9XYZ123").wait_for(state="attached")
    chosen.select_option(label=next(o for o in chosen.locator("option").all_inner_texts() if "9XYZ123" in o))
    p.wait_for_selector("text=less than 80% sure of Y (character 3)")
    marked = p.locator("u[title=unsure]")
    assert marked.count() == 1 and marked.inner_text() == "Y"


def test_audit_review_for_supervisors_only(open_dashboard: Any, served: tuple) -> None:
    _server, store, _manifest = served
    d = open_dashboard("audit_review", "supervisor")
    p = d.page
    # The demo month, where the demo's history plants three patterns the review must raise.
    p.get_by_label("From", exact=True).fill(DEMO_START.isoformat())
    p.get_by_label("To", exact=True).fill((DEMO_START + dt.timedelta(days=30)).isoformat())
    p.get_by_role("button", name="Review").click()
    p.wait_for_selector("text=Audit review:")
    for flag in ("repeat-plate", "off-hours", "volume"):
        p.wait_for_selector(f"td:has-text('{flag}')")
    busy_day = p.locator("tr:has(td:has-text('volume'))")
    assert "(70 in all)" in busy_day.inner_text()  # the day's seventy entries named, not listed
    p.get_by_role("button", name="Verify the chain").click()
    p.wait_for_selector("text=The audit log is whole")
    d.snap("audit-review")
    other = open_dashboard("audit_review", "analyst")
    other.page.get_by_role("button", name="Review").click()
    other.page.wait_for_selector("text=may not audit.report")
    assert last_entries(store, "audit.report")[-1].outcome == "denied"
