"""Retention on the synthetic city: purge at a given now, holds kept, destruction recorded exactly,
nothing recoverable from the file, and an interrupted purge finishing cleanly."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import sqlalchemy as sa

from alpr_lib.access import Policy, login
from alpr_lib.errors import AccessDenied, InvalidCaseNumber, InvalidInput, NotFound
from alpr_lib.ingest import import_csv
from alpr_lib.retention import held_clause
from alpr_lib.store import Store, partitions
from alpr_lib.store import schema as s

from .conftest import ADMIN_PASSWORD, DEMO_PASSWORD, DEMO_START, train_admin

NOW = dt.datetime.combine(DEMO_START + dt.timedelta(days=20), dt.time(12), tzinfo=dt.UTC)
CUTOFF_MS = int((NOW - dt.timedelta(days=7)).timestamp() * 1000)

WEEK = Policy(retention_days=7)  # the department's retention in these tests


def count(store: Store, where: sa.ColumnElement[bool] | None = None) -> int:
    query = sa.select(sa.func.count()).select_from(s.Read.__table__)
    if where is not None:
        query = query.where(where)
    with store.read() as conn:
        return int(conn.execute(query).scalar_one())


def test_purge_keeps_held_reads_records_exactly_and_leaves_nothing_readable(
    city: Store, manifest: dict, tmp_path: Path
) -> None:
    r = s.Read.__table__.c
    store = tmp_path / "images"
    store.mkdir()
    admin = login(city, "admin", DEMO_PASSWORD, policy=Policy(retention_days=7, image_store=str(store)))
    target = manifest["scenarios"]["convoy"]["target"]
    hold = admin.add_hold(plate=target, case="26-05555", reason="convoy investigation evidence")
    with city.read() as conn:
        few = [
            int(i)
            for i in conn.execute(sa.select(r.id).where(r.ts < CUTOFF_MS).order_by(r.id).limit(5)).scalars()
        ]
        images = {
            int(i): store / f"{i}.jpg"
            for i in conn.execute(
                sa.select(r.id).where(r.ts < CUTOFF_MS).order_by(r.id.desc()).limit(3)
            ).scalars()
        }
    investigator = login(city, "investigator", DEMO_PASSWORD)
    asked = investigator.add_hold(read_ids=few, case="26-06666", reason="reads from a canvass to keep")
    login(city, "supervisor", DEMO_PASSWORD).approve_hold(asked)
    for read_id, path in images.items():  # three old reads with image files on disk
        path.write_bytes(b"jpeg")
        with city.atomic() as conn:
            conn.execute(sa.update(s.Read).where(s.Read.id == read_id).values(image_path=path.name))

    held_old = count(city, sa.and_(r.ts < CUTOFF_MS, held_clause()))
    expected = count(city, sa.and_(r.ts < CUTOFF_MS, sa.not_(held_clause())))
    assert held_old >= 5 and expected > 1000
    with city.read() as conn:
        doomed = set(
            conn.execute(
                sa.select(s.Plate.plate).where(
                    ~sa.exists().where(r.plate_id == s.Plate.id, sa.or_(r.ts >= CUTOFF_MS, held_clause()))
                )
            ).scalars()
        )
    dry = admin.purge(now=NOW, dry_run=True)
    assert (dry["reads_destroyed"], count(city)) == (expected, count(city))

    report = admin.purge(now=NOW)
    assert report["reads_destroyed"] == expected and report["held_reads_kept"] == held_old
    assert count(city, sa.and_(r.ts < CUTOFF_MS, sa.not_(held_clause()))) == 0
    assert count(city, sa.and_(r.ts < CUTOFF_MS)) == held_old
    assert all(not p.exists() for i, p in images.items() if i not in few)
    with city.read() as conn:
        record = conn.execute(sa.select(s.DestructionRecord).order_by(s.DestructionRecord.id.desc())).first()
        assert (record.reads_destroyed, record.plates_destroyed, record.ran_by) == (
            expected,
            report["plates_destroyed"],
            "admin",
        )
        assert record.images_destroyed == 3 and record.finished_at is not None
        assert record.cutoff_ts == CUTOFF_MS and record.newest_ts < CUTOFF_MS
        assert conn.execute(sa.select(sa.func.count()).select_from(s.PurgeFile)).scalar_one() == 0
    # Nothing readable left in the database's own files: SQLite's file (secure_delete, VACUUM). On PostgreSQL
    # the test reads the rows instead; its files keep dead tuples until VACUUM reuses them.
    path = city.sqlite_path()
    raw = b"".join(p.read_bytes() for p in path.parent.glob(path.name + "*")) if path else b""
    # A destroyed plate may still be part of live text (a longer plate, another plate's look-alike key,
    # a hotlist): only the ones that are not can be looked for in the file's bytes.
    with city.read() as conn:
        live = "\n".join(
            str(v)
            for query in (
                sa.select(s.Plate.plate),
                sa.select(s.Plate.equiv_key),
                sa.select(r.raw),
                sa.select(s.HotlistEntry.plate),
                sa.select(s.Meta.value),
                sa.select(s.AuditEntry.params),
            )
            for v in conn.execute(query).scalars()
        )
    gone = [p for p in doomed if p not in live]
    left = [p for p in gone if p.encode() in raw]
    assert len(gone) > 100 and not left  # destroyed plates gone from the file and from every table

    assert admin.purge(now=NOW)["reads_destroyed"] == 0  # safe to run again
    login(city, "supervisor", DEMO_PASSWORD).release_hold(hold)
    assert admin.purge(now=NOW)["reads_destroyed"] > 0  # released: the next purge takes them


def test_an_interrupted_purge_finishes_its_files(city: Store, tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    left = tmp_path / "images" / "left-behind.jpg"
    left.write_bytes(b"jpeg")
    with city.atomic() as conn:  # as a purge killed after its batch committed would leave it
        conn.execute(sa.insert(s.PurgeFile).values(path=left.name))
    login(city, "admin", DEMO_PASSWORD, policy=Policy(retention_days=7, image_store=str(left.parent))).purge(
        now=NOW
    )
    assert not left.exists()


def test_a_hold_on_a_plate_keeps_its_reads_under_every_state(admin_store: Store, tmp_path: Path) -> None:
    # One vehicle: two cameras named its state, one did not. The hold is on the plate; purge keeps all three.
    old = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)
    rows = ["plate,state,camera,ts,lat,lon"]
    reads = [("7ABC123", "OR"), ("7ABC123", ""), ("7ABC123", "OR"), ("LONER99", "")]
    for i, (plate, state) in enumerate(reads):
        rows.append(f"{plate},{state},CAM-{i},{(old + dt.timedelta(hours=i)).isoformat()},44.0,-124.1")
    (tmp_path / "reads.csv").write_text("\n".join(rows) + "\n")
    assert import_csv(admin_store, tmp_path / "reads.csv").imported == 4
    admin = login(admin_store, "admin", ADMIN_PASSWORD, policy=Policy(retention_days=30))
    train_admin(admin)  # a hold reveals data: only the trained make one
    until = old + dt.timedelta(hours=2)  # the time of the last read: a hold's window keeps both its ends
    admin.add_hold(plate="7ABC123", since=old, until=until, case="26-05555", reason="evidence kept")
    report = admin.purge(now=old + dt.timedelta(days=40))
    assert report["reads_destroyed"] == 1
    with admin_store.read() as conn:
        kept = conn.execute(
            sa.select(s.Plate.plate, s.Plate.state).join(s.Read, s.Read.plate_id == s.Plate.id)
        ).all()
    assert sorted(kept) == [("7ABC123", ""), ("7ABC123", "OR"), ("7ABC123", "OR")]


def test_holds_are_gated_and_checked(city: Store) -> None:
    analyst = login(city, "analyst", DEMO_PASSWORD)
    with pytest.raises(InvalidCaseNumber):
        analyst.add_hold(read_ids=[1], case="not-a-case", reason="keeping a read")
    asked = analyst.add_hold(read_ids=[1], case="26-07777", reason="keeping a read")
    with pytest.raises(AccessDenied):
        analyst.approve_hold(asked)
    with pytest.raises(AccessDenied):
        login(city, "analyst", DEMO_PASSWORD).purge(now=NOW)
    holds = login(city, "supervisor", DEMO_PASSWORD).holds()
    assert holds.filter(holds["hold_id"] == asked)["status"].to_list() == ["requested"]


def test_purge_and_holds_from_the_command_line(run, city: Store) -> None:
    import json

    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD, "WORKBENCH_RETENTION_DAYS": "7"}
    when = NOW.isoformat()
    dry = json.loads(
        run("purge", "--dry-run", "--now", when, "--user", "admin", "--db", db, "--json", env=env).stdout
    )
    hold_args = ["hold", "add", "--read", "1", "--case", "26-08888", "--reason", "keep this read"]
    added = json.loads(run(*hold_args, "--user", "investigator", "--db", db, "--json", env=env).stdout)
    run("hold", "approve", str(added["hold_id"]), "--user", "supervisor", "--db", db, env=env)
    listed = json.loads(run("hold", "list", "--user", "supervisor", "--db", db, "--json", env=env).stdout)
    assert [h["status"] for h in listed["rows"] if h["hold_id"] == added["hold_id"]] == ["active"]
    done = json.loads(run("purge", "--now", when, "--user", "admin", "--db", db, "--json", env=env).stdout)
    assert dry["reads_destroyed"] > 1000
    assert done["reads_destroyed"] == dry["reads_destroyed"] - 1  # read 1 is old and now held


def test_the_transparency_page_names_no_plate_user_or_case(
    run, city: Store, browser: object, tmp_path: Path
) -> None:
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    detective = login(city, "investigator", DEMO_PASSWORD)
    with city.read() as conn:
        plate = conn.execute(sa.select(s.Plate.plate).limit(1)).scalar_one()
    detective.search_plate(plate, purpose="investigation", case="26-05555", reason="a search to count")
    run(
        "transparency",
        "--out",
        str(tmp_path / "site"),
        "--since",
        "2026-09-01",
        "--user",
        "supervisor",
        "--db",
        db,
        env=env,
    )
    text = (tmp_path / "site" / "index.html").read_text()
    with city.read() as conn:
        plates = set(conn.execute(sa.select(s.Plate.plate)).scalars())
        officers = sa.select(s.ProgramOfficer.user_id)  # the designee and custodian: named, as officials
        users = set(conn.execute(sa.select(s.User.name).where(s.User.id.not_in(officers))).scalars())
        cases = set(
            conn.execute(
                sa.select(s.AuditEntry.case_number).where(s.AuditEntry.case_number.is_not(None))
            ).scalars()
        )
    assert "26-05555" in cases
    found = [x for x in plates | users | cases if x and x in text]
    assert found == []
    assert "criminal investigation" in text and "<script" not in text
    page = browser.new_page()  # type: ignore[attr-defined]
    page.goto((tmp_path / "site" / "index.html").as_uri())
    assert page.locator("h1").inner_text().startswith("Automated license plate readers")
    page.close()


@pytest.mark.postgresql_only
def test_postgres_drops_the_expired_days_whole(city: Store) -> None:
    r = s.Read.__table__.c
    with city.read() as conn:
        days = partitions.partition_days(conn)
        first, second = days[0], days[1]

        def a_read_on(day: int) -> int:
            lo, hi = partitions.day_bounds(day)
            return int(conn.execute(sa.select(r.id).where(r.ts >= lo, r.ts < hi).limit(1)).scalar_one())

        kept, asked_for, alerted = a_read_on(first), a_read_on(second), a_read_on(second) + 1
        alerted_ts = conn.execute(sa.select(r.ts).where(r.id == alerted)).scalar_one()
    login(city, "supervisor", DEMO_PASSWORD).add_hold(read_ids=[kept], case="26-08888", reason="kept")
    asked = login(city, "investigator", DEMO_PASSWORD).add_hold(
        read_ids=[asked_for], case="26-08889", reason="asked for, never approved"
    )
    with city.atomic() as conn:
        alert = conn.execute(
            sa.insert(s.Alert).values(read_id=alerted, read_ts=alerted_ts).returning(s.Alert.id)
        ).scalar_one()
    expired = {d for d in days if partitions.day_bounds(d)[1] <= CUTOFF_MS}
    expected = count(city, sa.and_(r.ts < CUTOFF_MS, sa.not_(held_clause())))
    assert {first, second} <= expired

    report = login(city, "admin", DEMO_PASSWORD, policy=WEEK).purge(now=NOW)

    assert report["reads_destroyed"] == expected
    with city.read() as conn:
        left = set(partitions.partition_days(conn))
        assert set(days) - left == expired - {first}  # the held read's day stays, with only that read
        assert count(city, sa.and_(r.ts < partitions.day_bounds(first)[1])) == 1
        # Read from the database itself: nothing of a destroyed read stays in the days each plate was read
        # on — on the held day only the held read's plate, and no plate's day without a read of it.
        held_plate = conn.execute(sa.select(r.plate_id).where(r.id == kept)).scalar_one()
        on_first = conn.execute(sa.text("SELECT plate_id FROM plate_days WHERE day = :d"), {"d": first})
        assert list(on_first.scalars()) == [held_plate]
        unread = conn.execute(
            sa.text(
                "SELECT count(*) FROM plate_days d WHERE NOT EXISTS (SELECT 1 FROM reads r WHERE "
                f"r.plate_id = d.plate_id AND r.ts / {partitions.DAY_MS} = d.day)"
            )
        ).scalar_one()
        assert unread == 0
        assert conn.execute(sa.select(s.HoldRead.read_id).where(s.HoldRead.hold_id == asked)).all() == []
        assert conn.execute(sa.select(s.Alert.read_id).where(s.Alert.id == alert)).scalar_one() is None
    assert login(city, "admin", DEMO_PASSWORD, policy=WEEK).purge(now=NOW)["reads_destroyed"] == 0


def test_a_hold_on_reads_the_workbench_does_not_have_is_refused(city: Store) -> None:
    with pytest.raises(NotFound, match="1 of the 2 reads"):
        login(city, "supervisor", DEMO_PASSWORD).add_hold(
            read_ids=[1, 10**12], case="26-08890", reason="one real read, one wrong number"
        )


def test_an_untrained_member_learns_nothing_from_holds(city: Store, manifest: dict) -> None:
    """The trainee (an analyst with no training on record) tries holds to learn whether the workbench keeps a
    plate's reads, and to read the list of kept plates and cases: refused before anything is looked up, and
    recorded — the same answer whether or not the plate is there."""
    trainee = login(city, "trainee", DEMO_PASSWORD)
    target = manifest["scenarios"]["convoy"]["target"]
    answers = set()
    for plate in (target, "ZZZ9999"):  # a plate the city holds, and one it does not
        with pytest.raises(AccessDenied, match="no ALPR training") as refused:
            trainee.add_hold(plate=plate, case="26-05555", reason="is this plate kept?")
        answers.add(str(refused.value))
    assert len(answers) == 1
    with pytest.raises(AccessDenied, match="no ALPR training"):
        trainee.holds()
    with city.read() as conn:
        trail = conn.execute(
            sa.select(s.AuditEntry.operation, s.AuditEntry.outcome)
            .where(s.AuditEntry.user_name == "trainee", s.AuditEntry.operation.like("hold.%"))
            .order_by(s.AuditEntry.id)
        ).all()
        assert conn.execute(sa.select(sa.func.count()).select_from(s.Hold)).scalar_one() == 0
    assert [tuple(t) for t in trail] == [("hold.add", "denied")] * 2 + [("hold.list", "denied")]


def test_info_tells_when_the_last_purge_ran_and_warns_when_one_is_overdue(city: Store, run) -> None:
    env = {
        "WORKBENCH_DB_URL": city.url.render_as_string(hide_password=False),
        "WORKBENCH_PASSWORD": DEMO_PASSWORD,
        "WORKBENCH_RETENTION_DAYS": "30",
    }
    before = run("info", "--user", "custodian", env=env)
    assert "last purge     never" in before.stdout and "no purge has finished in a day" in before.stderr
    run("purge", "--user", "admin", env=env)
    after = run("info", "--json", "--user", "custodian", env=env)
    data = __import__("json").loads(after.stdout)
    assert data["last_purge_finished"] and not data["purge_overdue"] and "Warning" not in after.stderr


def _recent_town(store: Store, folder: Path) -> tuple[dt.datetime, Path]:
    """Reads dated from the real now: a plate seen 40 and 35 days ago (with a companion, a clone's second
    car and a hotlist hit) and 2 days ago; a held plate seen 45 days ago."""
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    rows = ["plate,state,camera,ts,lat,lon"]

    def read(plate: str, camera: str, ago: dt.timedelta, lat: float = 44.0) -> None:
        rows.append(f"{plate},OR,{camera},{(now - ago).isoformat()},{lat},-124.1")

    for days in (40, 35, 2):
        read("7ABC123", "CAM-A", dt.timedelta(days=days))
        read("FRIEND1", "CAM-A", dt.timedelta(days=days, seconds=-20))
    read("7ABC123", "CAM-B", dt.timedelta(days=40, minutes=-5), lat=44.5)  # 55 km in five minutes
    read("HELD001", "CAM-A", dt.timedelta(days=45))
    hotlist = folder / "hotlist.csv"
    hotlist.write_text("plate,state,kind\n7ABC123,OR,stolen\n")
    (folder / "reads.csv").write_text("\n".join(rows) + "\n")
    return now, folder / "reads.csv"


def _reads_of(plate: str) -> sa.Select:
    return sa.select(s.Read.id).join(s.Plate, s.Plate.id == s.Read.plate_id).where(s.Plate.plate == plate)


def test_a_read_past_retention_is_served_by_no_operation_before_the_purge(
    shared_store: Store, tmp_path: Path, run
) -> None:
    admin_store = shared_store
    now, reads = _recent_town(admin_store, tmp_path)
    admin = login(admin_store, "admin", ADMIN_PASSWORD, policy=Policy(retention_days=30))
    train_admin(admin)
    admin.add_agency("Lane County DA", kind="prosecutorial", state="OR")
    admin.import_hotlist(tmp_path / "hotlist.csv", name="Stolen vehicles")
    assert import_csv(admin_store, reads).imported == 8
    with admin_store.read() as conn:
        held_id = conn.execute(_reads_of("HELD001")).scalar_one()
    admin.add_hold(read_ids=[held_id], case="26-05555", reason="evidence kept")
    admin.set_purpose("administrative", case="26-05555", reason="retention check")
    recent = now - dt.timedelta(days=30)

    found = admin.search_plate("7ABC123")
    assert found.count == 1 and found.frame["ts"][0] > recent and found.past_retention == 3
    assert admin.search_plate("HELD001").count == 1  # kept by its hold: served past retention
    partial = admin.search_partial("*1*")
    assert set(partial.frame["plate"]) == {"7ABC123", "FRIEND1", "HELD001"}
    assert partial.count == 3 and partial.past_retention == 5
    assert admin.search_fuzzy("7ABC12", max_edits=1).count == 1
    assert admin.search_plate("7ABC123", near=(44.0, -124.1, 500)).past_retention == 2
    timeline = admin.timeline("7ABC123")
    assert timeline.count == 1 and timeline.past_retention == 3
    month = {"since": now - dt.timedelta(days=46), "until": now - dt.timedelta(days=16)}
    canvass = admin.canvass([{"lat": 44.0, "lon": -124.1, "radius_m": 300, **month}])
    assert canvass.frame["plate"].to_list() == ["HELD001"] and canvass.past_retention == 4
    convoy = admin.convoy("7ABC123", min_times=1)
    assert convoy.frame["times"].to_list() == [1] and convoy.past_retention == 3
    assert admin.clones(plate="7ABC123").count == 0  # the impossible pair is 40 days old
    alerts = admin.alerts()
    assert alerts.count == 1 and alerts.past_retention == 3
    with admin_store.read() as conn:
        expired_id = conn.execute(_reads_of("7ABC123").order_by(s.Read.ts).limit(1)).scalar_one()  # 40 days
    with pytest.raises(InvalidInput, match="within the retention period"):
        admin.crop(expired_id)
    with pytest.raises(InvalidInput, match="within the retention period"):
        admin.release(agency="Lane County DA", dest=tmp_path / "old", read_ids=[expired_id])
    released = admin.release(agency="Lane County DA", dest=tmp_path / "package", plate="7ABC123")
    assert released.count == 1 and released.past_retention == 3

    env = {
        "WORKBENCH_DB_URL": admin_store.url.render_as_string(hide_password=False),
        "WORKBENCH_PASSWORD": ADMIN_PASSWORD,
        "WORKBENCH_RETENTION_DAYS": "30",
    }
    why = ["--purpose", "administrative", "--case", "26-05555", "--reason", "retention check"]
    why += ["--user", "admin"]
    said = run("search", "plate", "7ABC123", *why, env=env)
    assert "3 reads past retention not shown" in said.stderr and said.stdout.count("7ABC123") == 1
    # A notebook's or dashboard's view: the door service and the client a kernel holds.
    from alpr_lib.access.client import DoorClient
    from alpr_lib.access.service import DoorService

    service = DoorService(
        admin_store, Policy(retention_days=30), tmp_path / "run" / "door.sock", client="dashboard",
        allow_password=True,
    )  # fmt: skip
    service.start()
    try:
        kernel = DoorClient(service.path, user="admin", password=ADMIN_PASSWORD)
        kernel.set_purpose("administrative", case="26-05555", reason="retention check")
        seen = kernel.search_plate("7ABC123")
        assert seen.count == 1 and seen.past_retention == 3
        assert kernel.canvass([{"lat": 44.0, "lon": -124.1, "radius_m": 300, **month}]).past_retention == 4
        kernel.close()
    finally:
        service.stop()
    assert admin.purge(now=now)["reads_destroyed"] == 5  # what was hidden is what the purge destroys
    after = admin.search_partial("*1*")
    assert after.frame["read_id"].to_list() == partial.frame["read_id"].to_list()
    assert after.past_retention == 0
