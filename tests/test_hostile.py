"""Hostile input and interrupted work, tried as a careless or hostile supplier of data would: vendor CSVs that
name files outside the workbench, rejects files aimed at the input, purges killed mid-way, fields too long,
bytes that are not UTF-8, times at the ends of the calendar, escape codes in a reason, a password typed into
the user-name field — on whichever engine the suite runs (ENGINE=postgresql for PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import struct
import subprocess
import sys
import textwrap
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpr_lib.access import Policy, login
from alpr_lib.access.logon import UNKNOWN_MEMBER
from alpr_lib.errors import InvalidCaseNumber, InvalidInput, NotAuthenticated, StoreError
from alpr_lib.ingest import import_csv
from alpr_lib.media import ImageStore
from alpr_lib.recognition_intake import ingest_images
from alpr_lib.retention import purge
from alpr_lib.store import Store, partitions
from alpr_lib.store import schema as s

from .conftest import ADMIN_PASSWORD, DEMO_PASSWORD, DEMO_START, train_admin
from .engines import POSTGRES

NOW = dt.datetime.combine(DEMO_START + dt.timedelta(days=20), dt.time(12), tzinfo=dt.UTC)
WHY = {"purpose": "administrative", "case": "26-01234", "reason": "hostile input check"}
HEADER = "plate,ts,lat,lon,camera,source_id,image"


def _row(i: int, image: str = "", ts: str = "2026-11-03T14:00:00Z", lat: str = "44.0") -> str:
    return f"HST{i:04d},{ts},{lat},-123.0,CAM-H,h-{i},{image}"


def _csv(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def _reads(store: Store) -> int:
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(s.Read)).scalar_one())


@pytest.fixture
def images(tmp_path: Path) -> Path:
    folder = tmp_path / "data" / "images"
    folder.mkdir(parents=True)
    return folder


# -- files the workbench acts on ----------------------------------------------------------------


def test_a_csv_naming_files_outside_the_image_store_is_refused_and_those_files_never_touched(
    admin_store: Store, tmp_path: Path, images: Path
) -> None:
    secret = tmp_path / "not-yours.txt"
    secret.write_text("another program's file")
    (images / "cam7").mkdir()
    (images / "cam7" / "0001.jpg").write_bytes(b"jpeg")
    (images / "escape.jpg").symlink_to(secret)  # a link inside the store that leads out of it
    (images / "a-folder").mkdir()
    rows = [
        _row(1, "cam7/0001.jpg"),  # inside: kept
        _row(2, str(secret)),  # an absolute path elsewhere
        _row(3, "../not-yours.txt"),  # climbing out
        _row(4, "escape.jpg"),  # a link out
        _row(5, "file:///etc/passwd"),
        _row(6, "a-folder"),  # inside, but a folder: imported, never deleted
    ]
    policy = Policy(retention_days=7, image_store=str(images))
    admin = login(admin_store, "admin", ADMIN_PASSWORD, policy=policy)
    report = admin.import_reads(_csv(tmp_path / "vendor.csv", rows))
    assert report.imported == 2
    assert {r.line for r in report.rejected} == {3, 4, 5, 6}
    assert all("image store" in r.reason for r in report.rejected)
    # A database written by an earlier version (or by hand) may still hold such paths: the purge skips
    # them, destroys the reads, records it, and leaves every file outside the store where it was.
    with admin_store.atomic() as conn:
        conn.execute(sa.update(s.Read).values(crop_path=str(secret)))
    done = admin.purge(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1), future=True)
    assert done["reads_destroyed"] == 2 and done["files_skipped"] >= 2
    assert secret.read_text() == "another program's file" and (images / "a-folder").is_dir()
    assert not (images / "cam7" / "0001.jpg").exists()  # the store's own file went with its read
    with admin_store.read() as conn:
        record = conn.execute(sa.select(s.DestructionRecord)).one()
        assert (record.reads_destroyed, record.finished_at is not None) == (2, True)
        assert conn.execute(sa.select(sa.func.count()).select_from(s.PurgeFile)).scalar_one() == 0
    assert admin.purge(now=dt.datetime.now(dt.UTC))["reads_destroyed"] == 0  # retention goes on


def test_a_release_copies_only_files_inside_the_image_store(
    admin_store: Store, tmp_path: Path, images: Path
) -> None:
    secret = tmp_path / "not-yours.jpg"
    secret.write_bytes(b"someone else's photo")
    (images / "ok.jpg").write_bytes(b"evidence photo")
    admin = login(admin_store, "admin", ADMIN_PASSWORD, policy=Policy(image_store=str(images)))
    admin.import_reads(_csv(tmp_path / "vendor.csv", [_row(1, "ok.jpg"), _row(2)]))
    with admin_store.atomic() as conn:
        conn.execute(sa.update(s.Read).where(s.Read.source_id == "h-2").values(image_path=str(secret)))
    admin.add_agency("Lane County District Attorney", kind="prosecutorial", state="OR")
    train_admin(admin)
    package = tmp_path / "package"
    with admin_store.read() as conn:
        ids = list(conn.execute(sa.select(s.Read.id)).scalars())
    result = admin.release(agency="Lane County District Attorney", dest=package, read_ids=ids, **WHY)
    assert result.count == 2
    assert sorted(p.name for p in (package / "images").iterdir()) == ["ok.jpg"]
    assert all(p.stat().st_mode & 0o077 == 0 for p in package.rglob("*"))


def test_rejects_never_overwrite_a_file_nor_the_input(admin_store: Store, tmp_path: Path) -> None:
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    source = _csv(tmp_path / "vendor.csv", [_row(1), "BAD!,x,y,z,,,"])
    original = source.read_bytes()
    precious = tmp_path / "precious.txt"
    precious.write_text("keep me")
    for target in (precious, source):
        with pytest.raises(InvalidInput, match="already exists"):
            admin.import_reads(source, rejects_path=target)
    assert precious.read_text() == "keep me" and source.read_bytes() == original
    assert _reads(admin_store) == 0  # refused before anything was imported
    (tmp_path / "vendor.csv.rejects.csv").write_text("an earlier run's rejects")
    report = admin.import_reads(source)
    assert report.rejects_file == tmp_path / "vendor.csv.rejects-2.csv"
    assert (tmp_path / "vendor.csv.rejects.csv").read_text() == "an earlier run's rejects"
    assert report.rejects_file.stat().st_mode & 0o777 == 0o600


# -- destruction recorded, or not done ---------------------------------------------------------------

_KILLED_PURGE = textwrap.dedent(
    """
    import datetime as dt, sys, time
    from alpr_lib.retention import purge
    from alpr_lib.store import Store

    def slow(n):
        print("batch", flush=True)
        time.sleep(0.2)

    purge(Store(sys.argv[1]), now=dt.datetime.fromisoformat(sys.argv[2]), retention_days=7, ran_by="admin",
          batch=300, progress=slow)
    """
)


def test_a_purge_killed_mid_way_leaves_records_that_match_what_is_gone(city: Store) -> None:
    before = _reads(city)
    url = city.url.render_as_string(hide_password=False)
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_PURGE, url, NOW.isoformat()], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    for _ in range(3):
        assert proc.stdout.readline() == "batch\n"
    os.kill(proc.pid, signal.SIGKILL)  # no cleanup, no finally: as a power cut would
    proc.wait()
    proc.stdout.close()
    gone = before - _reads(city)
    with city.read() as conn:
        records = conn.execute(sa.select(s.DestructionRecord)).all()
    assert len(records) == 1 and records[0].finished_at is None  # marked as interrupted
    assert records[0].reads_destroyed == gone and gone >= 900
    # Run again: it finishes the job under its own record, and the records add up to all that is gone.
    report = purge(city, now=NOW, retention_days=7, ran_by="admin")
    with city.read() as conn:
        recorded = conn.execute(sa.select(sa.func.sum(s.DestructionRecord.reads_destroyed))).scalar_one()
    assert report.reads > 0 and recorded == before - _reads(city)


def test_a_purge_with_a_future_now_asks_first_and_is_audited(city: Store, run: object) -> None:
    env = {
        "WORKBENCH_DB_URL": city.url.render_as_string(hide_password=False),
        "WORKBENCH_PASSWORD": DEMO_PASSWORD,
    }
    before = _reads(city)
    out = run("purge", "--now", "2062-01-01", "--user", "admin", env=env, ok=False)  # type: ignore[operator]
    assert out.exit_code == 1 and "future" in out.stderr and "--yes" in out.stderr
    assert _reads(city) == before
    with city.read() as conn:
        last = conn.execute(sa.select(s.AuditEntry).order_by(s.AuditEntry.id.desc())).first()
    assert (last.operation, last.outcome) == ("purge.start", "denied") and '"future_now":true' in last.params
    run("purge", "--now", "2062-01-01", "--yes", "--user", "admin", env=env)  # type: ignore[operator]
    assert _reads(city) < before


# -- imports: every line accounted for -----------------------------------------------------------


def test_a_huge_field_and_a_late_encoding_error_lose_no_row(admin_store: Store, tmp_path: Path) -> None:
    path = tmp_path / "vendor.csv"
    good = [_row(i).encode() for i in range(1, 9)]
    lines = [
        HEADER.encode(),
        *good[:3],
        _row(90, image="x" * 200_000).encode(),  # longer than any field may be
        *good[3:6],
        b"HST0091,2026-11-03T14:00:00Z,44.0,-123.0,CAM-\xff\xfe,h-91,",  # not UTF-8, past the first batches
        *good[6:],
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    report = import_csv(admin_store, path, batch_size=2)
    assert (report.rows, report.imported, report.duplicates) == (10, 8, 0)
    assert [(r.line, r.reason.split(" ")[0]) for r in report.rejected] == [(5, "a"), (9, "not")]
    rejects = report.rejects_file.read_bytes() if report.rejects_file else b""
    assert b"\xff\xfe" in rejects  # the bad line kept as it was, for the vendor to see


def test_an_import_that_fails_part_way_says_what_it_committed(admin_store: Store, tmp_path: Path) -> None:
    # A real failure of the database in the middle of the file (a trigger standing in for a full disk).
    with admin_store.atomic() as conn:
        if POSTGRES:
            conn.exec_driver_sql(
                "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "IF NEW.source_id = 'h-5' THEN RAISE EXCEPTION 'no space left'; END IF; RETURN NEW; END $$"
            )
            conn.exec_driver_sql(
                "CREATE TRIGGER boom BEFORE INSERT ON reads FOR EACH ROW EXECUTE FUNCTION boom()"
            )
        else:
            conn.exec_driver_sql(
                "CREATE TRIGGER boom BEFORE INSERT ON reads WHEN NEW.source_id = 'h-5' "
                "BEGIN SELECT RAISE(ABORT, 'no space left'); END"
            )
    path = _csv(tmp_path / "vendor.csv", [_row(i) for i in range(1, 9)])
    with pytest.raises(StoreError) as failed:
        import_csv(admin_store, path, batch_size=2)
    message = str(failed.value)
    # Batches of two: rows 1-2 (lines 2-3) and 3-4 (lines 4-5) are committed, the batch of row 5 is not.
    assert "rows up to line 5 are imported (4 reads)" in message and "run the same import again" in message
    assert _reads(admin_store) == 4
    with admin_store.atomic() as conn:
        conn.exec_driver_sql("DROP TRIGGER boom" + (" ON reads" if POSTGRES else ""))
    again = import_csv(admin_store, path, batch_size=2)
    assert (again.imported, again.duplicates, _reads(admin_store)) == (4, 4, 8)


# -- values at the edge --------------------------------------------------------------------------------


def test_times_and_places_out_of_range_are_rejected_and_break_nothing_later(
    admin_store: Store, tmp_path: Path, run: object
) -> None:
    rows = [
        _row(1),
        _row(2, ts="9999-12-31T23:59:59-12:00"),
        _row(3, ts="0001-01-01T00:00:00Z"),
        _row(4, ts=(dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()),
        _row(5, lat="91"),
        _row(6, lat="nan"),
    ]
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    report = admin.import_reads(_csv(tmp_path / "vendor.csv", rows))
    assert report.imported == 1
    assert [r.reason for r in report.rejected] == [
        "timestamp out of range (1990 to tomorrow)",
        "timestamp out of range (1990 to tomorrow)",
        "timestamp out of range (1990 to tomorrow)",
        "lat out of range (-90 to 90)",
        "lat is not a number",
    ]
    train_admin(admin)
    found = admin.search_plate(
        "HST0001",
        since=dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        until=dt.datetime.max.replace(tzinfo=dt.UTC),
        **WHY,
    )
    assert found.count == 1  # a window at the ends of the calendar is clamped, not a crash
    with pytest.raises(InvalidInput, match="before 1990"):
        admin.search_plate("HST0001", until=dt.datetime(1980, 1, 1, tzinfo=dt.UTC), **WHY)


def test_an_image_too_large_is_refused_from_its_header_before_decoding(
    admin_store: Store, tmp_path: Path, images: Path
) -> None:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    # A 20000 × 20000 PNG's header with almost no pixels behind it: decoding it would take gigabytes.
    ihdr = struct.pack(">IIBBBBB", 20_000, 20_000, 8, 2, 0, 0, 0)
    folder = tmp_path / "stills"
    folder.mkdir()
    (folder / "cam_2026-11-03_14-00-00.png").write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    )
    report = ingest_images(
        admin_store, folder, camera="CAM-H", at=(44.0, -123.0), engine=None,  # type: ignore[arg-type]
        images=ImageStore(images),
    )  # fmt: skip
    [(name, reason)] = report.skipped
    assert name == "cam_2026-11-03_14-00-00.png" and reason.startswith(
        "image too large (larger than 50,000,000"
    )
    with pytest.raises(InvalidInput, match="latitude"):
        ingest_images(
            admin_store, folder, camera="CAM-H", at=(91.0, 500.0), engine=None, images=ImageStore(images)
        )  # type: ignore[arg-type]


def test_case_numbers_are_ascii_and_agency_names_are_not_empty(admin_store: Store) -> None:
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    train_admin(admin)
    with pytest.raises(InvalidCaseNumber):
        admin.search_plate("HST0001", **{**WHY, "case": "٢٦-٠١٢٣٤"})  # Arabic-Indic digits
    for name in ("", "   ", "\x1b[31mDA"):
        with pytest.raises(InvalidInput, match="agency's name"):
            admin.add_agency(name, kind="prosecutorial", state="OR")
    assert admin.agencies().height == 0


# -- what the audit keeps and shows ------------------------------------------------------------------------


def test_failed_logons_answer_alike_and_keep_no_typed_secret(admin_store: Store) -> None:
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    admin.add_user("jdoe", "investigator", "investigator-pass-2026")

    def answer(name: str, password: str) -> str:
        with pytest.raises(NotAuthenticated) as refused:
            login(admin_store, name, password)
        return str(refused.value)

    made_up = [answer("nobody-here", "wrong-password-guess") for _ in range(7)]
    real = [answer("jdoe", "wrong-password-guess") for _ in range(7)]  # locked after the fifth
    assert set(made_up) == set(real) and len(set(real)) == 1  # nothing tells a member from a stranger
    # The member, with the right password, is told why; the lock is not extended by the stranger's guesses.
    assert "locked" in answer("jdoe", "investigator-pass-2026")
    answer("my-Secret-passw0rd!", "jdoe")  # the password typed into the name field
    with admin_store.read() as conn:
        names = set(conn.execute(sa.select(s.AuditEntry.user_name)).scalars())
        details = list(
            conn.execute(sa.select(s.AuditEntry.detail).where(s.AuditEntry.detail == "lockout")).scalars()
        )
    assert "my-Secret-passw0rd!" not in names and "nobody-here" not in names and UNKNOWN_MEMBER in names
    assert details == ["lockout"]  # the supervisor's review flags it


def test_escape_codes_in_a_reason_are_shown_not_obeyed(city: Store, run: object) -> None:
    env = {
        "WORKBENCH_DB_URL": city.url.render_as_string(hide_password=False),
        "WORKBENCH_PASSWORD": DEMO_PASSWORD,
    }
    hostile = "\x1b[2J\x1b]0;owned\x07 looking\rfor a car"
    run(  # type: ignore[operator]
        "search", "plate", "ABC123", "--purpose", "investigation", "--case", "26-01234", "--reason", hostile,
        "--user", "investigator", env=env,
    )  # fmt: skip
    out = run("audit", "report", "--user", "supervisor", env=env)  # type: ignore[operator]
    assert "\x1b" not in out.stdout and "\x07" not in out.stdout and "\r" not in out.stdout
    assert "\\x1b[2J\\x1b]0;owned\\x07 looking for a car" in out.stdout  # what was typed, made visible


def test_every_file_the_workbench_writes_is_its_owners_alone(tmp_path: Path, run: object) -> None:
    data = tmp_path / "data"  # WORKBENCH_DATA_DIR (conftest); the shell's umask is the usual 022
    env = {
        "WORKBENCH_PASSWORD": ADMIN_PASSWORD,
        "WORKBENCH_NEW_PASSWORD": ADMIN_PASSWORD,
        "WORKBENCH_USER": "admin",
    }
    cli = run  # type: ignore[assignment]
    cli("init", env=env)  # type: ignore[operator]
    source = _csv(tmp_path / "vendor.csv", [_row(1), "BAD!,x,y,z,,,"])
    cli("import-reads", str(source), env=env)  # type: ignore[operator]
    cli("audit", "verify", env=env)  # type: ignore[operator]
    cli("backup", str(tmp_path / "copy.db"), env=env)  # type: ignore[operator]
    made = [
        data,
        data / "workbench.db",
        *data.glob("workbench.db-*"),
        *(data / "audit-checkpoints").iterdir(),
        tmp_path / "vendor.csv.rejects.csv",
        tmp_path / "copy.db",
    ]
    assert len(made) >= 5
    loose = {str(p): oct(p.stat().st_mode & 0o777) for p in made if p.stat().st_mode & 0o077}
    assert loose == {}


def _column(*values: str) -> st.SearchStrategy[str]:
    return st.sampled_from(values) | st.text(max_size=12)


COLUMNS = st.tuples(
    _column("ABC123", "7XYZ999", "A", "TOOLONGPLATE99", "\x1b[31m", "", '"'),
    _column(
        "2026-11-03T14:00:00Z", "11/03/2026 14:00", "9999-12-31", "0001-01-01T00:00:00Z", "2026-02-30", ""
    ),
    _column("44.0", "91", "nan", "1e309", ""),
    _column("-123.0", "-181", "inf", ""),
    _column("0.93", "93", "-0.5", "", "x" * 300),
    _column("OR", "O", "", "\r"),
    _column("cam7/0001.jpg", "/etc/passwd", "../x.jpg", ""),
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(rows=st.lists(COLUMNS.map(list) | st.lists(st.text(max_size=8), max_size=9), min_size=1, max_size=12))
def test_any_vendor_rows_are_imported_or_rejected_and_break_nothing(
    fresh_store: Store, tmp_path: Path, rows: list[list[str]]
) -> None:
    """Hostile rows of any shape: every line is imported, a duplicate or rejected with a reason; what is
    imported is within range, so the commands that read it afterwards still work."""
    import csv
    import io
    import uuid

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["plate", "ts", "lat", "lon", "confidence", "state", "image"])
    for row in rows:
        writer.writerow(row)
    writer.writerow([uuid.uuid4().hex[:7].upper(), "2026-11-03T14:00:00Z", "44", "-123", "", "", ""])  # good
    path = tmp_path / f"{uuid.uuid4().hex}.csv"
    path.write_text(buffer.getvalue(), encoding="utf-8", errors="surrogateescape")
    report = import_csv(fresh_store, path, images=ImageStore(tmp_path / "images"))
    assert report.imported >= 1  # the good row among them gets in
    assert report.imported + report.duplicates + len(report.rejected) == report.rows
    assert all(r.reason for r in report.rejected)
    info = fresh_store.info()  # once broken for good by a read in the year 10000
    assert info["reads"] >= report.imported
    with fresh_store.read() as conn:
        lo, hi = conn.execute(sa.select(sa.func.min(s.Read.ts), sa.func.max(s.Read.ts))).one()
    if lo is not None:
        assert (
            lo >= 631_152_000_000
            and hi <= (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).timestamp() * 1000
        )


def test_reads_stored_out_of_range_before_the_checks_break_no_command(city: Store, run: object) -> None:
    """A database filled by an earlier version may hold reads in the year 10000 or the year 1: information and
    searches still answer."""
    late, early = 253_402_343_999_000, -62_135_596_800_000  # 10000-01-01 and 0001-01-01
    with city.atomic() as conn:
        if partitions.partitioned(conn):  # PostgreSQL: the days they fall on, as an earlier import made them
            partitions.add_days(conn, [late // partitions.DAY_MS, early // partitions.DAY_MS])
        first, second = conn.execute(sa.select(s.Read.id).order_by(s.Read.id).limit(2)).scalars()
        conn.execute(sa.update(s.Read).where(s.Read.id == first).values(ts=late))
        conn.execute(sa.update(s.Read).where(s.Read.id == second).values(ts=early))  # 0001-01-01
        plate = conn.execute(
            sa.select(s.Plate.plate).join(s.Read, s.Read.plate_id == s.Plate.id).where(s.Read.id == first)
        ).scalar_one()
    env = {
        "WORKBENCH_DB_URL": city.url.render_as_string(hide_password=False),
        "WORKBENCH_PASSWORD": DEMO_PASSWORD,
    }
    info = run("info", "--json", "--user", "admin", env=env)  # type: ignore[operator]
    assert "out of range" in info.stdout
    why = [
        "--purpose",
        "investigation",
        "--case",
        "26-01234",
        "--reason",
        "old data",
        "--user",
        "investigator",
    ]
    run("search", "plate", plate, *why, env=env)  # type: ignore[operator]


def test_a_vendors_images_are_copied_in_from_the_export_folder_and_nothing_outside_it(
    tmp_path: Path, run: object
) -> None:
    env = {"WORKBENCH_PASSWORD": ADMIN_PASSWORD, "WORKBENCH_USER": "admin", "WORKBENCH_RETENTION_DAYS": "30"}
    cli = run  # type: ignore[assignment]
    cli("init", env=env)  # type: ignore[operator]
    export = tmp_path / "export"
    (export / "images" / "cam7").mkdir(parents=True)
    (export / "images" / "cam7" / "0001.jpg").write_bytes(b"an overview photo")
    secret = tmp_path / "secret.txt"
    secret.write_text("not the vendor's")
    (export / "images" / "out.jpg").symlink_to(secret)
    rows = [_row(1, "cam7/0001.jpg"), _row(2, "../../secret.txt"), _row(3, "out.jpg"), _row(4, str(secret))]
    source = _csv(export / "reads.csv", rows)
    out = cli("import-reads", str(source), "--images", str(export / "images"), "--json", env=env)  # type: ignore[operator]
    report = __import__("json").loads(out.stdout)
    assert report["imported"] == 1 and [r["line"] for r in report["rejected_rows"]] == [3, 4, 5]
    store = Store(f"sqlite:///{tmp_path / 'data' / 'workbench.db'}")
    with store.read() as conn:
        (kept,) = conn.execute(sa.select(s.Read.image_path)).scalars()
    copy = tmp_path / "data" / "images" / kept
    assert kept.startswith("vendor/") and copy.read_bytes() == b"an overview photo"
    assert copy.stat().st_mode & 0o077 == 0
    cli("purge", "--now", (dt.datetime.now(dt.UTC) + dt.timedelta(days=1)).isoformat(), "--yes", env=env)  # type: ignore[operator]
    assert not copy.exists()  # the store's copy goes with its read
    assert (export / "images" / "cam7" / "0001.jpg").exists() and secret.exists()  # the export is untouched
    store.dispose()
