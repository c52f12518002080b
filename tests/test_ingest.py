"""CSV intake: good rows in, bad rows reported and kept aside, re-runs change nothing."""

import csv
import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest
import sqlalchemy as sa

from alpr_lib.errors import InvalidInput
from alpr_lib.hotlists import add_entries
from alpr_lib.ingest import import_csv, parse_time, resolve_columns
from alpr_lib.store import Store
from alpr_lib.store import schema as s

GOOD = [
    ["source_id", "plate", "ts", "lat", "lon", "camera", "confidence", "state"],
    ["v-1", "ABC123", "2026-11-03T14:00:05", "43.98", "-124.10", "CAM-A", "0.93", "OR"],
    ["v-2", "abc-124", "2026-11-03 14:01:05", "43.98", "-124.10", "CAM-A", "93", "or"],
    ["v-3", "7TRK221", "11/03/2026 2:05:00 PM", "43.97", "-124.11", "CAM-B", "", "CA"],
    ["v-4", "XYZ9999", "2026-11-03T22:00:00Z", "43.97", "-124.11", "CAM-B", "0.5", "WA"],
]
BAD = [  # (row, reason fragment)
    (["v-5", "", "2026-11-03T14:00:05", "43.98", "-124.10", "CAM-A", "0.9", "OR"], "missing plate"),
    (["v-6", "XYZ999", "yesterday", "43.98", "-124.10", "CAM-A", "0.9", "OR"], "timestamp"),
    (["v-7", "XYZ998", "2026-11-03T14:00:05", "95", "-124.10", "CAM-A", "0.9", "OR"], "lat out of range"),
    (["v-8", "XYZ997", "2026-11-03T14:00:05", "43.9", "-190", "CAM-A", "0.9", "OR"], "lon out of range"),
    (
        ["v-9", "HELLO WORLD!!", "2026-11-03T14:00:05", "43.98", "-124.10", "CAM-A", "0.9", "OR"],
        "not plate text",
    ),
    (["v-10", "XYZ996", "2026-11-03T14:00:05", "43.98"], "expected 8 fields"),
    (
        ["v-11", "XYZ995", "2026-11-03T14:00:05", "north", "-124.10", "CAM-A", "0.9", "OR"],
        "lat is not a number",
    ),
    (["v-12", "XYZ994", "2026-11-03T14:00:05", "43.98", "-124.10", "CAM-A", "1.7e3", "OR"], "confidence"),
    (["v-13", "XYZ993", "2026-11-03T14:00:05", "43.98", "-124.10", "CAM-A", "0.9", "Oregon"], "state"),
]


def write(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def count(store: Store, table: type[s.Base]) -> int:
    with store.read() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def test_good_rows_in_bad_rows_reported_and_kept_aside(fresh_store: Store, tmp_path: Path) -> None:
    rows = [GOOD[0], GOOD[1], BAD[0][0], GOOD[2], *[b[0] for b in BAD[1:]], GOOD[3], GOOD[4]]
    path = write(tmp_path / "mix.csv", rows)
    report = import_csv(fresh_store, path)
    assert report.imported == 4 and report.rows == len(rows) - 1
    assert len(report.rejected) == len(BAD)
    lines = {r.line: r.reason for r in report.rejected}
    for row, fragment in BAD:
        line = rows.index(row) + 1
        assert fragment in lines[line]
    with report.rejects_file.open() as fh:
        kept = list(csv.reader(fh))
    assert kept[0][:2] == ["line", "reason"] and len(kept) == len(BAD) + 1
    assert [r[2:] for r in kept[1:]] == [b[0] for b in BAD]
    assert count(fresh_store, s.Read) == 4
    # Plate text never appears in the reasons shown to people.
    assert not any("XYZ" in r.reason or "HELLO" in r.reason for r in report.rejected)


def test_values_are_normalised(fresh_store: Store, tmp_path: Path) -> None:
    import_csv(fresh_store, write(tmp_path / "g.csv", GOOD))
    with fresh_store.read() as conn:
        rows = conn.execute(
            sa.select(s.Plate.plate, s.Plate.state, s.Read.confidence, s.Read.ts, s.Camera.name)
            .join(s.Read, s.Read.plate_id == s.Plate.id)
            .join(s.Camera, s.Camera.id == s.Read.camera_id)
            .order_by(s.Read.source_id)
        ).all()
    assert [r[0] for r in rows] == ["ABC123", "ABC124", "7TRK221", "XYZ9999"]
    assert rows[1][1] == "OR" and rows[1][2] == pytest.approx(0.93)
    assert rows[2][2] is None
    # 14:00:05 local (PST) is 22:00:05 UTC; a Z time is UTC already.
    utc = dt.datetime(2026, 11, 3, 22, 0, 5, tzinfo=dt.UTC).timestamp() * 1000
    assert rows[0][3] == parse_time("2026-11-03T22:00:05Z", dt.UTC) == utc
    assert rows[3][3] == parse_time("2026-11-03T14:00:00", ZoneInfo("America/Los_Angeles"))
    assert {r[4] for r in rows} == {"CAM-A", "CAM-B"}


def test_reimport_changes_nothing(fresh_store: Store, tmp_path: Path) -> None:
    path = write(tmp_path / "g.csv", GOOD + [BAD[0][0]])
    first = import_csv(fresh_store, path)
    before = (count(fresh_store, s.Read), count(fresh_store, s.Plate), count(fresh_store, s.Camera))
    second = import_csv(fresh_store, path)
    assert first.imported == 4 and second.imported == 0 and second.duplicates == 4
    assert (count(fresh_store, s.Read), count(fresh_store, s.Plate), count(fresh_store, s.Camera)) == before


def test_rows_without_source_id_are_unique_by_plate_time_camera(fresh_store: Store, tmp_path: Path) -> None:
    rows = [
        ["plate", "ts", "lat", "lon", "camera"],
        ["ABC123", "2026-11-03T14:00", "44", "-124", "C"],
        ["ABC123", "2026-11-03T14:00", "44", "-124", "C"],
        ["ABC123", "2026-11-03T14:01", "44", "-124", "C"],
    ]
    report = import_csv(fresh_store, write(tmp_path / "n.csv", rows))
    assert report.imported == 2 and report.duplicates == 1
    with fresh_store.read() as conn:
        ids = conn.execute(sa.select(s.Read.source_id)).scalars().all()
    assert all("ABC" not in i for i in ids)


def test_killed_import_resumes_without_loss_or_duplicates(fresh_store: Store, tmp_path: Path) -> None:
    header = ["source_id", "plate", "ts", "lat", "lon", "camera"]
    rows = [header] + [
        [f"k-{i}", f"K{i:05d}", f"2026-11-03T14:{i % 60:02d}:00", "44", "-124", f"C{i % 3}"]
        for i in range(1_000)
    ]
    path = write(tmp_path / "big.csv", rows)
    calls = 0

    def die_after_three_batches(_n: int) -> None:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        import_csv(fresh_store, path, batch_size=100, progress=die_after_three_batches)
    assert count(fresh_store, s.Read) == 300
    report = import_csv(fresh_store, path, batch_size=100)
    assert report.imported == 700 and report.duplicates == 300
    assert count(fresh_store, s.Read) == 1_000


def test_vendor_headers_and_maps(fresh_store: Store, tmp_path: Path) -> None:
    vendor = [
        ["Read ID", "License Plate", "Date/Time", "Latitude", "Longitude", "Camera Name"],
        ["r1", "ABC123", "2026-11-03T14:00", "44", "-124", "North"],
    ]
    assert import_csv(fresh_store, write(tmp_path / "v.csv", vendor)).imported == 1
    odd = [["Kennzeichen", "Zeit", "Breite", "Laenge"], ["ABC124", "2026-11-03T14:00", "44", "-124"]]
    with pytest.raises(InvalidInput, match="--map"):
        import_csv(fresh_store, write(tmp_path / "o.csv", odd))
    mapped = {"plate": "Kennzeichen", "ts": "Zeit", "lat": "Breite", "lon": "Laenge"}
    assert import_csv(fresh_store, tmp_path / "o.csv", column_map=mapped).imported == 1


@pytest.mark.parametrize("mapping", [{"plates": "X"}, {"plate": "No such column"}])
def test_bad_maps_are_refused(mapping: dict[str, str]) -> None:
    with pytest.raises(InvalidInput):
        resolve_columns(["plate", "ts", "lat", "lon"], mapping)


def test_empty_and_missing_files(fresh_store: Store, tmp_path: Path) -> None:
    (tmp_path / "empty.csv").write_text("")
    with pytest.raises(InvalidInput, match="empty"):
        import_csv(fresh_store, tmp_path / "empty.csv")
    with pytest.raises(InvalidInput, match="not a readable file"):
        import_csv(fresh_store, tmp_path / "nope.csv")
    (tmp_path / "binhead.csv").write_bytes(b"pl\xffate,ts,lat,lon\nABC123,2026-11-03T14:00Z,44,-123\n")
    with pytest.raises(InvalidInput, match="UTF-8"):
        import_csv(fresh_store, tmp_path / "binhead.csv")
    # A row that is not UTF-8 is rejected with its reason; the file's other rows are still read.
    (tmp_path / "bin.csv").write_bytes(b"plate,ts,lat,lon\n\xff\xfe\x00garbage,1,2,3\n")
    report = import_csv(fresh_store, tmp_path / "bin.csv")
    assert [r.reason for r in report.rejected] == ["not UTF-8 text (re-export the file as UTF-8)"]


def test_hotlisted_plates_raise_unverified_alerts(fresh_store: Store, tmp_path: Path) -> None:
    with fresh_store.atomic() as conn:
        add_entries(
            conn,
            pl.DataFrame(
                [{"hotlist": "Stolen", "plate": "XYZ9999", "state": "", "kind": "stolen-vehicle", "note": ""}]
            ),
        )
    report = import_csv(fresh_store, write(tmp_path / "g.csv", GOOD))
    assert report.alerts == 1
    with fresh_store.read() as conn:
        status = conn.execute(sa.select(s.Alert.status)).scalars().all()
    assert status == ["unverified"]
    assert import_csv(fresh_store, tmp_path / "g.csv").alerts == 0


def test_demo_city_is_loaded_whole(demo_store: Store, manifest: dict) -> None:
    info = demo_store.info()
    assert info["reads"] == 30_000 and info["synthetic"] is True
    assert info["cameras"] == 43
    # The stolen vehicle's reads raised alerts.
    assert info["alerts"] >= 1
    assert manifest["reads"] == 30_000
