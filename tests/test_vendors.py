"""Camera systems' exports in, alternative readings and vehicle descriptions searched (issue 26).

The samples in ``tests/data`` follow the vendors' public documentation (Genetec's AutoVu XML template,
OpenALPR/Rekor agent JSON, Plate Recognizer Snapshot and Stream JSON); each holds one malformed record.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa

from alpr_lib.access import AccessSession, Policy, login
from alpr_lib.analytics import Scene
from alpr_lib.errors import AccessDenied, InvalidInput
from alpr_lib.hotlists import add_entries
from alpr_lib.ingest import import_reads
from alpr_lib.media import ImageStore
from alpr_lib.store import Store
from alpr_lib.store import schema as s
from alpr_lib.vendors import sniff

from .conftest import ADMIN_PASSWORD, DEMO_PASSWORD, train_admin

DATA = Path(__file__).parent / "data"
WHY = {"purpose": "investigation", "case": "26-01234", "reason": "vendor import check"}


def rows(store: Store, table: type[s.Base]) -> list[dict]:
    with store.read() as conn:
        return [dict(r._mapping) for r in conn.execute(sa.select(table.__table__)).all()]


def stored(store: Store) -> pl.DataFrame:
    """Every read with its plate, description and other readings."""
    r, p, v, a = s.Read.__table__, s.Plate.__table__, s.Vehicle.__table__, s.ReadAlternative.__table__
    other = p.alias("other")
    with store.read() as conn:
        reads = conn.execute(
            sa.select(
                r.c.id,
                p.c.plate,
                p.c.state,
                r.c.ts,
                r.c.confidence,
                r.c.crop_path,
                r.c.direction,
                v.c.make,
                v.c.model,
                v.c.color,
                v.c.body,
            )  # fmt: skip
            .join(p, p.c.id == r.c.plate_id)
            .outerjoin(v, v.c.id == r.c.vehicle_id)
        ).all()
        alts = conn.execute(
            sa.select(a.c.read_id, other.c.plate, a.c.confidence)
            .join(other, other.c.id == a.c.plate_id)
            .order_by(a.c.read_id, a.c.rank)
        ).all()
    by_read: dict[int, list[str]] = {}
    for read_id, plate, _conf in alts:
        by_read.setdefault(read_id, []).append(plate)
    frame = pl.DataFrame([dict(x._mapping) for x in reads], infer_schema_length=None)
    return frame.with_columns(alternatives=pl.Series([by_read.get(i, []) for i in frame["id"]]))


@pytest.fixture
def images(tmp_path: Path) -> ImageStore:
    return ImageStore(tmp_path / "images")


def test_formats_are_recognised_from_the_file() -> None:
    assert sniff(DATA / "autovu-reads.xml") == "autovu"
    assert sniff(DATA / "alprd-groups.jsonl") == "alprd"
    assert sniff(DATA / "platerecognizer-snapshot.json") == "platerecognizer"


def test_autovu_export_in_with_its_description_and_crop(
    fresh_store: Store, tmp_path: Path, images: ImageStore
) -> None:
    source = shutil.copy(DATA / "autovu-reads.xml", tmp_path)
    report = import_reads(fresh_store, Path(source), images=images)
    assert (report.rows, report.imported) == (3, 2)
    assert [(r.line, r.reason) for r in report.rejected] == [(3, "missing plate")]
    with report.rejects_file.open() as fh:  # the record kept aside whole, with its line and reason
        kept = list(csv.reader(fh))
    assert kept[0] == ["line", "reason", "record"] and "9a4f2e61" in kept[1][2]
    reads = stored(fresh_store).sort("ts")
    first = reads.row(0, named=True)
    assert (first["plate"], first["state"], first["confidence"]) == ("7KXR214", "OR", 0.91)
    assert (first["make"], first["model"], first["color"], first["body"], first["direction"]) == (
        "Ford", "F-150", "white", "pickup", "N",
    )  # fmt: skip
    assert first["ts"] == int(dt.datetime(2026, 11, 20, 17, 42, 5, 120_000, tzinfo=dt.UTC).timestamp() * 1000)
    crop = images.locate(first["crop_path"])
    assert crop is not None and crop.read_bytes()[:2] == b"\xff\xd8"  # the plate image, decoded
    second = reads.row(1, named=True)
    assert (second["color"], second["body"], second["make"]) == ("gray", "suv", "")
    cameras = {c["name"] for c in rows(fresh_store, s.Camera)}
    assert cameras == {"SharpV-US101-N Lane 1", "SharpV-US101-N Lane 2"}
    again = import_reads(fresh_store, Path(source), images=images)
    assert (again.imported, again.duplicates) == (0, 2)  # idempotent


def test_a_departments_own_autovu_tags(fresh_store: Store, tmp_path: Path) -> None:
    template = (
        "<Export><Read><PlateNo>4ABC999</PlateNo><Jurisdiction>WA</Jurisdiction>"
        "<When>2026-11-21T08:00:00Z</When><Lat>44.01</Lat><Lon>-124.10</Lon><Unit>Car 12</Unit>"
        "<Colour>Black</Colour></Read></Export>"
    )
    path = tmp_path / "dept.xml"
    path.write_text(template)
    with pytest.raises(InvalidInput, match="no read"):
        import_reads(fresh_store, path)
    mapping = {"plate": "PlateNo", "state": "Jurisdiction", "timestamp": "When", "lat": "Lat", "lon": "Lon",
               "unit": "Unit", "color": "Colour"}  # fmt: skip
    report = import_reads(fresh_store, path, format="autovu", column_map=mapping)
    assert report.imported == 1
    read = stored(fresh_store).row(0, named=True)
    assert (read["plate"], read["state"], read["color"]) == ("4ABC999", "WA", "black")
    with pytest.raises(InvalidInput, match="unknown field"):
        import_reads(fresh_store, path, format="autovu", column_map={"licence": "PlateNo"})


def test_openalpr_agent_groups_with_candidates_and_vehicle(fresh_store: Store, tmp_path: Path) -> None:
    source = Path(shutil.copy(DATA / "alprd-groups.jsonl", tmp_path))
    report = import_reads(fresh_store, source)
    # The heartbeat is no read; the cut-off line is reported by its line number.
    assert (report.imported, [(r.line, r.reason) for r in report.rejected]) == (3, [(4, "malformed JSON")])
    reads = {r["plate"]: r for r in stored(fresh_store).iter_rows(named=True)}
    group = reads["8FRT331"]
    assert (group["state"], group["color"], group["body"], group["make"], group["model"]) == (
        "OR", "red", "pickup", "Toyota", "Tacoma",
    )  # fmt: skip
    assert group["direction"] == "E" and group["confidence"] == pytest.approx(0.9025)
    assert group["alternatives"] == ["8FRT33I", "BFRT331"]
    assert reads["5TUV120"]["state"] == "CA" and reads["5TUV120"]["direction"] == "W"
    assert reads["9HWN514"]["alternatives"] == ["9HWM514"]  # a single frame's result
    assert {c["name"] for c in rows(fresh_store, s.Camera)} == {"Bay St east"}


def test_plate_recognizer_results_take_the_cameras_place(fresh_store: Store, tmp_path: Path) -> None:
    source = Path(shutil.copy(DATA / "platerecognizer-snapshot.json", tmp_path))
    # No GPS in the results and a camera the workbench does not know: refused, record by record.
    report = import_reads(fresh_store, source)
    assert report.imported == 0 and all(
        "--at" in r.reason or "timestamp" in r.reason for r in report.rejected
    )
    report = import_reads(fresh_store, source, at=(43.9671, -124.1072), rejects_path=tmp_path / "second.csv")
    assert report.imported == 2
    assert [(r.line, r.reason) for r in report.rejected] == [
        (3, "unreadable timestamp (use ISO 8601, e.g. 2026-11-03T14:00:05)")
    ]
    reads = {r["plate"]: r for r in stored(fresh_store).iter_rows(named=True)}
    assert (reads["6ABC123"]["make"], reads["6ABC123"]["body"], reads["6ABC123"]["color"]) == (
        "Chevrolet", "pickup", "white",
    )  # fmt: skip
    assert reads["6ABC123"]["alternatives"] == ["6ABC12E"]
    assert reads["2GKL905"]["direction"] == "S" and reads["2GKL905"]["state"] == "WA"  # the Stream webhook


def test_a_broken_export_is_refused_in_one_line(fresh_store: Store, tmp_path: Path) -> None:
    bad = tmp_path / "cut.xml"
    bad.write_text("<Reads><AutoVu><Plate>7KXR214</Plate>")
    with pytest.raises(InvalidInput, match="not well-formed XML"):
        import_reads(fresh_store, bad)
    odd = tmp_path / "odd.json"
    odd.write_text('{"something": "else"}')
    with pytest.raises(InvalidInput, match="--format"):
        import_reads(fresh_store, odd)
    image = tmp_path / "image.jsonl"
    image.write_text(
        '{"data_type": "alpr_group", "best_plate_number": "7KXR214", "epoch_start": 1795716000000, '
        '"gps_latitude": 44, "gps_longitude": -124, "best_plate": {"plate_crop_jpeg": "PGh0bWw+"}}\n'
    )
    report = import_reads(fresh_store, image)
    assert [r.reason for r in report.rejected] == ["an image that is not a JPEG"]


# -- alternative readings, searched -------------------------------------------------------------------

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def write_described(path: Path) -> Path:
    at = ",44.0,-124.1,CAM-A,"
    lines = [
        "source_id,plate,state,ts,lat,lon,camera,confidence,alternatives,color,body,make,model,direction",
        # The top reading is wrong; the second is the plate.
        f"a-1,8BCD120,OR,{NOW.isoformat()}{at}0.62,8BCD12O:0.58 8BCX120:0.3,white,Pickup Truck,Ford,F-150,NB",
        f"a-2,8BCD12O,OR,{(NOW + dt.timedelta(hours=1)).isoformat()}{at}0.97,,white,pickup,Ford,F-150,N",
        f"a-3,7TRK221,OR,{(NOW + dt.timedelta(minutes=5)).isoformat()}{at}0.95,,silver,sedan,Honda,Accord,S",
        f"a-4,7TRK229,OR,{(NOW + dt.timedelta(minutes=6)).isoformat()}{at}0.95,,white,sedan,,,S",
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.fixture
def described(admin_store: Store, tmp_path: Path) -> AccessSession:
    with admin_store.atomic() as conn:
        add_entries(
            conn,
            pl.DataFrame([{"hotlist": "Stolen", "plate": "8BCX120", "state": "", "kind": "stolen-vehicle"}]),
        )
    report = import_reads(admin_store, write_described(tmp_path / "described.csv"))
    assert report.imported == 4 and not report.rejected
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    train_admin(admin)
    admin.open_case("26-01234", offense="burglary", assign=["admin"])
    admin.set_purpose(**WHY)
    return admin


def test_a_read_is_found_by_its_second_reading(described: AccessSession) -> None:
    found = described.search_plate("8BCD12O")
    # The read of the plate itself first, then the read whose second reading it was — marked as such.
    assert found.frame["reading"].to_list() == ["top", "alternative"]
    assert found.frame["plate"].to_list() == ["8BCD12O", "8BCD120"]
    assert found.frame["alternative"].to_list() == [None, "8BCD12O"]
    assert found.frame["alternative_confidence"][1] == pytest.approx(0.58)
    partial = described.search_partial("8BCD1*")
    assert set(partial.frame.filter(pl.col("reading") == "top")["plate"]) == {"8BCD120", "8BCD12O"}
    third = described.search_plate("8BCX120")  # the third reading of a-1 only
    assert third.frame["reading"].to_list() == ["alternative"]
    fuzzy = described.search_fuzzy("B8CD12O", max_edits=0)  # look-alikes: every reading of the vehicle
    assert set(fuzzy.frame["plate"]) == {"8BCD120", "8BCD12O"}


def test_hotlist_matching_sees_other_readings(described: AccessSession) -> None:
    alerts = described.alerts().frame
    # The listed plate is only a-1's third reading: alerted, marked as such, with every reading shown.
    assert alerts.height == 1
    alert = alerts.row(0, named=True)
    assert (alert["read_plate"], alert["listed_plate"], alert["match"]) == (
        "8BCD120",
        "8BCX120",
        "alternative",
    )
    assert "8BCX120" in alert["detail"] and "30%" in alert["detail"]
    assert alert["alternatives"] == "8BCD12O 58%, 8BCX120 30%"  # what the verifier weighs


def test_searches_filter_by_description(described: AccessSession) -> None:
    found = described.search_partial("7TRK22?", color="white")
    assert found.frame["plate"].to_list() == ["7TRK229"]
    assert described.search_partial("7TRK22?", color="white", body="pickup").frame.height == 0
    assert described.search_plate("8BCD12O", direction="S").frame.height == 0
    assert described.search_plate("8BCD12O", make="ford").frame.height == 2  # makes without regard to case
    alone = described.search_vehicle(color="white", body="pickup")
    assert alone.frame["plate"].to_list() == ["8BCD120", "8BCD12O"]
    assert set(alone.frame["make"]) == {"Ford"} and set(alone.frame["direction"]) == {"N"}
    with pytest.raises(InvalidInput, match="color is one of"):
        described.search_vehicle(color="plaid")
    with pytest.raises(InvalidInput, match="describe the vehicle"):
        described.search_vehicle(direction="N")


def test_a_description_search_is_audited_and_gated(described: AccessSession, admin_store: Store) -> None:
    described.search_vehicle(color="white", body="pickup")
    with admin_store.read() as conn:
        last = conn.execute(
            sa.select(s.AuditEntry.__table__)
            .where(s.AuditEntry.operation == "search.vehicle")
            .order_by(s.AuditEntry.id.desc())
        ).first()
    assert last is not None and last.outcome == "ok" and last.case_number == "26-01234"
    assert json.loads(last.params)["color"] == "white" and json.loads(last.params)["body"] == "pickup"
    described.add_user("newbie", "investigator", "newbie-investigator-2026")
    newbie = login(admin_store, "newbie", "newbie-investigator-2026")
    with pytest.raises(AccessDenied):
        newbie.set_purpose(**WHY)
        newbie.search_vehicle(color="white")
    with admin_store.read() as conn:
        refused = conn.execute(
            sa.select(s.AuditEntry.__table__)
            .where(s.AuditEntry.user_name == "newbie")
            .order_by(s.AuditEntry.id.desc())
        ).first()
    assert refused.outcome == "denied"


# -- the synthetic city's described vehicles --------------------------------------------------------


def test_a_canvass_filtered_by_colour_and_body_finds_the_witnessed_pickup(
    city: Store, manifest: dict
) -> None:
    detective = login(city, "investigator", DEMO_PASSWORD)
    detective.set_purpose("investigation", case="26-01234", reason="a white pickup, three characters")
    planted = manifest["scenarios"]["partial_plate"]
    assert planted["vehicle"] == {"make": "Ford", "model": "F-150", "color": "white", "body": "pickup"}
    at = dt.datetime.fromisoformat(planted["at"])
    seen = (
        detective.search_plate(planted["plate"])
        .frame.filter(pl.col("camera") == planted["camera"])
        .row(0, named=True)
    )
    scene = Scene(seen["lat"], seen["lon"], 300, int((at - dt.timedelta(minutes=45)).timestamp() * 1000),
                  int((at + dt.timedelta(minutes=45)).timestamp() * 1000))  # fmt: skip
    everyone = detective.canvass([scene]).frame
    pickups = detective.canvass([scene], color="white", body="pickup").frame
    assert planted["plate"] in set(pickups["plate"])
    assert 0 < pickups.height < everyone.height
    assert set(pickups["color"]) == {"white"} and set(pickups["body"]) == {"pickup"}
    common = detective.common_plates([scene], min_scenes=1, color="white", body="pickup").frame
    assert planted["plate"] in set(common["plate"])


# -- the command line ------------------------------------------------------------------------------


def test_the_command_line_imports_each_format_and_searches_by_description(
    run, city: Store, tmp_path: Path, manifest: dict
) -> None:
    db = city.url.render_as_string(hide_password=False)
    env = {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    for name, fmt in (("autovu-reads.xml", None), ("alprd-groups.jsonl", "alprd")):
        source = shutil.copy(DATA / name, tmp_path)
        args = ["import-reads", str(source), "--user", "admin", "--db", db, "--json"]
        out = json.loads(run(*args, *(["--format", fmt] if fmt else []), env=env).stdout)
        assert out["imported"] >= 2 and out["rejected"] == 1
    source = shutil.copy(DATA / "platerecognizer-snapshot.json", tmp_path)
    result = run(
        "import-reads", str(source), "--user", "admin", "--db", db, "--at", "43.9671,-124.1072", env=env
    )
    assert "2 imported" in result.stdout and "line 3: unreadable timestamp" in result.stderr
    wrong = run(
        "import-reads", str(source), "--format", "autovu", "--user", "admin", "--db", db, env=env, ok=False
    )
    assert wrong.exit_code == 1 and "not well-formed XML" in wrong.stderr and "Traceback" not in wrong.stderr
    planted = manifest["scenarios"]["partial_plate"]
    why = ["--purpose", "investigation", "--case", "26-01234", "--reason", "witness: white pickup"]
    at = dt.datetime.fromisoformat(planted["at"])
    window = [
        "--from",
        (at - dt.timedelta(hours=1)).isoformat(),
        "--to",
        (at + dt.timedelta(hours=1)).isoformat(),
    ]
    found = json.loads(
        run(
            "search",
            "vehicle",
            "--color",
            "white",
            "--body",
            "pickup",
            *window,
            *why,
            "--json",
            "--user",
            "investigator",
            "--db",
            db,
            env=env,
        ).stdout  # fmt: skip
    )
    assert planted["plate"] in {r["plate"] for r in found["rows"]}
    assert {(r["color"], r["body"]) for r in found["rows"]} == {("white", "pickup")}
    partial = run("search", "partial", planted["pattern"], "--color", "white", "--body", "pickup", *why,
                  "--user", "investigator", "--db", db, env=env)  # fmt: skip
    assert "Ford F-150 pickup" in partial.stdout and planted["plate"] in partial.stdout
    refused = run("search", "vehicle", "--color", "plaid", *why, "--user", "investigator", "--db", db,
                  env=env, ok=False)  # fmt: skip
    assert refused.exit_code == 1 and "color is one of" in refused.stderr


# -- exports for GIS and evidence tools -----------------------------------------------------------------


def test_a_searchs_reads_leave_as_csv_geojson_and_kml(described: AccessSession, admin_store: Store) -> None:
    import xml.etree.ElementTree as ET

    query = {"pattern": "8BCD1*", "color": "white"}
    as_csv = described.export_reads("search_partial", query, format="csv", file="pickup.csv")
    table = list(csv.DictReader(io.StringIO(as_csv.data.decode())))
    assert {r["plate"] for r in table} == {"8BCD120", "8BCD12O"} and as_csv.count == len(table) == 2
    assert table[0]["ts"].endswith("+00:00") and table[0]["color"] == "white"  # ISO 8601, UTC
    geo = json.loads(described.export_reads("search_partial", query, format="geojson", file="p.geojson").data)
    point = geo["features"][0]
    assert point["geometry"] == {"type": "Point", "coordinates": [-124.1, 44.0]}
    assert point["properties"]["body"] == "pickup" and "lat" not in point["properties"]
    kml = ET.fromstring(described.export_reads("search_partial", query, format="kml", file="p.kml").data)
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    marks = kml.findall(".//k:Placemark", ns)
    assert len(marks) == 2 and marks[0].find("k:Point/k:coordinates", ns).text == "-124.1,44.0"
    assert marks[0].find("k:TimeStamp/k:when", ns).text.endswith("+00:00")
    # Each file is a copy of the case's data, as a release package is; each export is audited with its search.
    copies = described.copies()
    mine = copies.filter(pl.col("kind") == "export")
    assert mine.height == 3 and set(mine["case"]) == {"26-01234"} and set(mine["path"]) >= {"pickup.csv"}
    with admin_store.read() as conn:
        entry = conn.execute(
            sa.select(s.AuditEntry.__table__).where(s.AuditEntry.operation == "export.reads")
        ).first()
    params = json.loads(entry.params)
    assert (params["search"], params["query"]["pattern"], params["format"]) == (
        "search_partial",
        "8BCD1*",
        "csv",
    )
    assert entry.case_number == "26-01234" and entry.result_count == 2
    with pytest.raises(InvalidInput, match="only a search"):
        described.export_reads("verify_alert", {"alert_id": 1}, format="csv")
    with pytest.raises(InvalidInput, match="format is one of"):
        described.export_reads("search_plate", {"plate": "8BCD120"}, format="xlsx")
    with pytest.raises(InvalidInput, match="not the arguments"):
        described.export_reads("search_plate", {"licence": "8BCD120"}, format="csv")


def test_the_command_line_exports_to_a_new_private_file(
    run, city: Store, tmp_path: Path, manifest: dict
) -> None:
    db = city.url.render_as_string(hide_password=False)
    env = {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    planted = manifest["scenarios"]["partial_plate"]
    why = ["--purpose", "investigation", "--case", "26-01234", "--reason", "witness: white pickup"]
    target = tmp_path / "pickups.kml"
    args = [
        "search",
        "partial",
        planted["pattern"],
        "--color",
        "white",
        *why,
        "--user",
        "investigator",
        "--db",
        db,
    ]
    out = run(*args, "--export", str(target), env=env)
    assert "written to" in out.stdout and target.stat().st_mode & 0o777 == 0o600
    assert planted["plate"] in target.read_text()
    again = run(*args, "--export", str(target), env=env, ok=False)
    assert again.exit_code == 1 and "already exists" in again.stderr
    odd = run(*args, "--export", str(tmp_path / "pickups.xlsx"), env=env, ok=False)
    assert odd.exit_code == 1 and ".csv, .geojson or .kml" in odd.stderr
    trainee = run(
        *args[:-4], "--user", "trainee", "--db", db, "--export", str(tmp_path / "t.csv"), env=env, ok=False
    )
    assert trainee.exit_code == 1 and "training" in trainee.stderr and not (tmp_path / "t.csv").exists()


def test_an_xml_export_with_entities_is_refused(fresh_store: Store, tmp_path: Path) -> None:
    """A hostile supplier's file: an entity that would read a file of this machine, and a billion laughs."""
    leak = tmp_path / "leak.xml"
    leak.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>'
        "<Reads><AutoVu><Plate>&x;</Plate></AutoVu></Reads>"
    )
    laughs = tmp_path / "laughs.xml"
    laughs.write_text(
        '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        "<Reads><AutoVu><Plate>&b;</Plate></AutoVu></Reads>"
    )
    for path in (leak, laughs):
        with pytest.raises(InvalidInput, match="DTD or entities"):
            import_reads(fresh_store, path)
    assert rows(fresh_store, s.Read) == []


def test_an_expired_read_is_not_served_by_its_other_reading(
    described: AccessSession, admin_store: Store
) -> None:
    """Past retention, a read is gone for every way of asking: by its plate, by another of its readings, by
    its description, or as an export."""
    late = login(admin_store, "admin", ADMIN_PASSWORD, policy=Policy(retention_days=1))
    late.set_purpose(**WHY)
    assert late.search_plate("8BCX120").frame.height == 0  # only a-1's third reading, a-1 long expired
    assert late.search_partial("8BCX1*").frame.height == 0
    assert late.search_vehicle(color="white", body="pickup").frame.height == 0
    exported = late.export_reads("search_plate", {"plate": "8BCD12O"}, format="csv", file="late.csv")
    assert exported.count == 0 and exported.data.decode().count("\n") == 1  # the header alone
