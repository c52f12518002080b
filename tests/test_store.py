import sqlite3
from pathlib import Path

import polars as pl
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from alpr_lib.access import audit
from alpr_lib.errors import StoreError
from alpr_lib.store import Store, mask_url, partitions
from alpr_lib.store import schema as s
from alpr_lib.store.writes import ensure_cameras, ensure_plates, insert_reads

from .conftest import DEMO_READS

TABLES = {
    "agencies",
    "alerts",
    "audit_log",
    "cameras",
    "cases",
    "destruction_log",
    "hold_reads",
    "holds",
    "hotlist_entries",
    "hotlists",
    "meta",
    "plates",
    "reads",
    "releases",
    "roles",
    "sessions",
    "training_records",
    "users",
}


def test_migrations_from_empty_create_every_table(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}", create=True)
    assert store.revision() is None
    store.migrate()
    names = set(sa.inspect(store.engine).get_table_names())
    assert TABLES <= names
    heads = sorted(p.name[:4] for p in (Path(s.__file__).parent / "migrations" / "versions").glob("0*.py"))
    assert store.revision() == heads[-1]


def test_migrations_match_the_models(fresh_store: Store) -> None:
    with fresh_store.engine.connect() as conn:
        diff = compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), s.Base.metadata
        )
        partitioned = partitions.partitioned(conn)
    if fresh_store.dialect == "postgresql":
        # Day-partitioned reads: the two foreign keys into reads are the only, declared, differences ...
        assert partitioned
        # and the plates' trigram index and the days of each plate are its own.
        kinds = ("add_fk", "remove_index", "remove_table")
        named = {d[1].name for d in diff if d[0] in kinds}
        assert named == s.POSTGRES_ONLY_DIFFERENCES
        diff = [d for d in diff if d[0] not in kinds or d[1].name not in named]
    else:
        assert not partitioned
    assert diff == []


def test_reads_indexes(fresh_store: Store) -> None:
    indexes = {ix["name"]: ix["column_names"] for ix in sa.inspect(fresh_store.engine).get_indexes("reads")}
    assert indexes["ix_reads_plate_id_ts_cover"][:2] == ["plate_id", "ts"]
    assert indexes["ix_reads_camera_id_ts_cover"][:4] == ["camera_id", "ts", "lat", "lon"]
    assert indexes["ix_reads_ts"] == ["ts"]


def test_roles_are_seeded(fresh_store: Store) -> None:
    with fresh_store.read() as conn:
        roles = set(conn.execute(sa.select(s.Role.name)).scalars())
    assert roles == set(s.ROLES)


def test_sqlite_file_is_wal_with_foreign_keys(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}", create=True)
    store.migrate()
    with store.read() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    with pytest.raises(StoreError), store.atomic() as conn:
        conn.execute(sa.insert(s.Plate).values(plate="ABC123", state="OR", equiv_key="A8C123"))
        conn.execute(
            sa.insert(s.Read).values(plate_id=1, raw="X", ts=0, camera_id=999, lat=0, lon=0, source_id="x")
        )


def test_a_missing_sqlite_file_is_not_created(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no database"):
        Store(f"sqlite:///{tmp_path / 'typo.db'}")
    assert not (tmp_path / "typo.db").exists()


def _reads(plate_ids: pl.DataFrame, camera_id: int, ids: list[str]) -> pl.DataFrame:
    n = len(ids)
    return pl.DataFrame(
        {
            "plate_id": [plate_ids["plate_id"][i % plate_ids.height] for i in range(n)],
            "raw": ["X"] * n,
            "confidence": [0.9] * n,
            "ts": [ord(i[0]) * 1000 for i in ids],  # a source's read carries its own time
            "camera_id": [camera_id] * n,
            "lat": [44.0] * n,
            "lon": [-124.0] * n,
            "image_path": [None] * n,
            "crop_path": [None] * n,
            "source_id": ids,
        },
        schema_overrides={"image_path": pl.String, "crop_path": pl.String},
    )


def test_bulk_writes_are_idempotent(fresh_store: Store) -> None:
    with fresh_store.atomic() as conn:
        cams = ensure_cameras(conn, [{"name": "C1", "lat": 44.0, "lon": -124.0}])
        again = ensure_cameras(conn, [{"name": "C1"}, {"name": "C2"}])
        assert again["C1"] == cams["C1"] and len(again) == 2
        plates = ensure_plates(
            conn, pl.DataFrame({"plate": ["ABC123", "ABC123", "XYZ9"], "state": ["OR", "OR", ""]})
        )
        assert plates.height == 2
        same = ensure_plates(conn, pl.DataFrame({"plate": ["ABC123"], "state": ["OR"]}))
        assert same["plate_id"].to_list() == plates.filter(pl.col("plate") == "ABC123")["plate_id"].to_list()
        assert insert_reads(conn, _reads(plates, cams["C1"], ["a", "b", "c"])) == 3
        assert insert_reads(conn, _reads(plates, cams["C1"], ["b", "c", "d"])) == 1
        assert conn.execute(sa.select(sa.func.count()).select_from(s.Read)).scalar() == 4
        # The import key is the source's id *and* its time: the same id at another time is another read.
        later = _reads(plates, cams["C1"], ["a"]).with_columns(ts=pl.lit(5_000_000_000, pl.Int64))
        assert insert_reads(conn, later) == 1
        assert insert_reads(conn, later) == 0
        key = conn.execute(sa.select(s.Plate.equiv_key).where(s.Plate.plate == "ABC123")).scalar()
        assert key == "A8C123"


def test_bulk_load_rebuilds_the_indexes(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}", create=True)
    store.migrate()
    with store.bulk_load():
        assert "ix_reads_ts" not in {ix["name"] for ix in sa.inspect(store.engine).get_indexes("reads")}
    assert "ix_reads_ts" in {ix["name"] for ix in sa.inspect(store.engine).get_indexes("reads")}


@pytest.mark.sqlite_only
def test_backup_is_a_consistent_openable_copy(demo_store: Store, tmp_path: Path) -> None:
    dest = demo_store.backup(tmp_path / "copy.db")
    copy = Store(f"sqlite:///{dest}")
    assert copy.info()["reads"] == demo_store.info()["reads"]
    assert sqlite3.connect(dest).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with pytest.raises(StoreError, match="already exists"):
        demo_store.backup(dest)


def test_backup_copies_every_row_and_the_audit_chain_verifies(demo_store: Store, tmp_path: Path) -> None:
    """On PostgreSQL the copy is made table by table from one snapshot: nothing may be lost or changed."""
    left = [tmp_path / "copy.db.partial", tmp_path / "copy.db.partial-wal"]
    for path in left:
        path.write_bytes(b"what a killed backup left")
    dest = demo_store.backup(tmp_path / "copy.db")
    assert not any(path.exists() for path in left)
    copy = Store(f"sqlite:///{dest}")
    assert copy.revision() == demo_store.revision()
    copied = {}
    with demo_store.read() as src, copy.read() as out:
        for table in s.Base.metadata.sorted_tables:
            order = list(table.primary_key.columns)
            rows = src.execute(sa.select(table).order_by(*order)).all()
            assert out.execute(sa.select(table).order_by(*order)).all() == rows, table.name
            copied[table.name] = len(rows)
        report = audit.verify_chain(out)
    assert copied["reads"] == DEMO_READS and copied["plates"] and copied["alerts"]
    assert report.ok and report.rows == copied["audit_log"] > 0
    assert sqlite3.connect(dest).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    copy.dispose()


def test_a_backup_that_cannot_be_written_says_where(demo_store: Store) -> None:
    with pytest.raises(StoreError, match="cannot write the backup at /proc/"):
        demo_store.backup(Path("/proc/no-such-folder/copy.db"))


@pytest.mark.sqlite_only
def test_backup_of_an_in_memory_store_is_refused(tmp_path: Path) -> None:
    store = Store("sqlite://")
    store.migrate()
    with pytest.raises(StoreError, match="in-memory"):
        store.backup(tmp_path / "x.db")


def test_urls_are_shown_without_passwords() -> None:
    masked = mask_url("postgresql+psycopg://alpr:s3cret@db.internal/alpr")
    assert "s3cret" not in masked and "db.internal" in masked
