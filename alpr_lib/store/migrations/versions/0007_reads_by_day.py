"""PostgreSQL: reads partitioned by UTC day, so that retention drops a day instead of deleting its rows

A partitioned table's keys must hold the partition column: the primary key becomes ``(id, ts)``, and the
import key becomes ``(source_id, ts)`` — on both engines, so that an import means the same everywhere: a
read is the same read when its source id and its time are. Foreign keys cannot point at ``reads.id`` alone
any more, so ``hold_reads`` and ``alerts`` lose theirs; the purge removes a destroyed read's ``hold_reads``
rows and clears its alerts' ``read_id`` itself, on both engines. Two owner's functions add and drop a day
(see :mod:`alpr_lib.store.partitions`).

On SQLite this revision only widens the import key (the table is rebuilt once).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_DAY_MS = 86_400_000
#: The advisory lock that makes two importers creating the same day queue (any fixed 64-bit number).
_ADD_DAY_LOCK = 7_300_104_117

_ADD_DAY = f"""
CREATE FUNCTION reads_add_day(day integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    part text := 'reads_d' || to_char(date '1970-01-01' + day, 'YYYYMMDD');
BEGIN
    PERFORM pg_advisory_xact_lock({_ADD_DAY_LOCK});
    IF to_regclass(part) IS NOT NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('CREATE TABLE %I (LIKE reads INCLUDING DEFAULTS)', part);
    EXECUTE format('ALTER TABLE reads ATTACH PARTITION %I FOR VALUES FROM (%s) TO (%s)',
                   part, day::bigint * {_DAY_MS}, (day::bigint + 1) * {_DAY_MS});
    RETURN true;
END $$
"""

_DROP_DAY = """
CREATE FUNCTION reads_drop_day(day integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    part text := 'reads_d' || to_char(date '1970-01-01' + day, 'YYYYMMDD');
BEGIN
    IF to_regclass(part) IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER TABLE reads DETACH PARTITION %I', part);
    EXECUTE format('DROP TABLE %I', part);
    RETURN true;
END $$
"""

_PLATE_COVER = "plate_id, ts, camera_id, lat, lon, confidence, raw, crop_path"
_CAMERA_COVER = "camera_id, ts, lat, lon, plate_id, confidence, raw, crop_path"


def _keys_and_indexes(primary: list[str], key: list[str]) -> None:
    op.execute(f"ALTER TABLE reads ADD CONSTRAINT pk_reads PRIMARY KEY ({', '.join(primary)})")
    op.execute(f"ALTER TABLE reads ADD CONSTRAINT uq_reads_{'_'.join(key)} UNIQUE ({', '.join(key)})")
    op.execute(
        "ALTER TABLE reads ADD CONSTRAINT fk_reads_plate_id_plates "
        "FOREIGN KEY (plate_id) REFERENCES plates (id)"
    )
    op.execute(
        "ALTER TABLE reads ADD CONSTRAINT fk_reads_camera_id_cameras "
        "FOREIGN KEY (camera_id) REFERENCES cameras (id)"
    )
    op.execute(f"CREATE INDEX ix_reads_plate_id_ts_cover ON reads ({_PLATE_COVER})")
    op.execute(f"CREATE INDEX ix_reads_camera_id_ts_cover ON reads ({_CAMERA_COVER})")
    op.execute("CREATE INDEX ix_reads_ts ON reads (ts)")


def _import_key(old: str, new: list[str]) -> None:
    """SQLite: swap the reads' import key (batch mode rebuilds the table)."""
    with op.batch_alter_table("reads") as batch:
        batch.drop_constraint(old, type_="unique")
        batch.create_unique_constraint(f"uq_reads_{'_'.join(new)}", new)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        _import_key("uq_reads_source_id", ["source_id", "ts"])
        return
    op.execute("ALTER TABLE hold_reads DROP CONSTRAINT fk_hold_reads_read_id_reads")
    op.execute("ALTER TABLE alerts DROP CONSTRAINT fk_alerts_read_id_reads")
    op.execute("CREATE TABLE reads_by_day (LIKE reads INCLUDING DEFAULTS) PARTITION BY RANGE (ts)")
    op.execute("ALTER TABLE reads RENAME TO reads_unpartitioned")
    op.execute("ALTER TABLE reads_by_day RENAME TO reads")
    op.execute(_ADD_DAY)
    op.execute(_DROP_DAY)
    op.execute("REVOKE EXECUTE ON FUNCTION reads_add_day(integer), reads_drop_day(integer) FROM PUBLIC")
    op.execute(
        f"SELECT reads_add_day(d) FROM (SELECT DISTINCT (ts / {_DAY_MS})::integer AS d "
        "FROM reads_unpartitioned) AS days"
    )
    op.execute("INSERT INTO reads SELECT * FROM reads_unpartitioned ORDER BY ts")
    op.execute("ALTER SEQUENCE reads_id_seq OWNED BY reads.id")
    op.execute("DROP TABLE reads_unpartitioned")
    _keys_and_indexes(["id", "ts"], ["source_id", "ts"])


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        _import_key("uq_reads_source_id_ts", ["source_id"])
        return
    op.execute("CREATE TABLE reads_flat (LIKE reads INCLUDING DEFAULTS)")
    op.execute("INSERT INTO reads_flat SELECT * FROM reads ORDER BY ts")
    op.execute("ALTER SEQUENCE reads_id_seq OWNED BY reads_flat.id")
    op.execute("DROP TABLE reads")
    op.execute("ALTER TABLE reads_flat RENAME TO reads")
    op.execute("DROP FUNCTION reads_add_day(integer), reads_drop_day(integer)")
    _keys_and_indexes(["id"], ["source_id"])
    op.execute(
        "DELETE FROM hold_reads WHERE NOT EXISTS (SELECT 1 FROM reads WHERE reads.id = hold_reads.read_id)"
    )
    op.execute(
        "UPDATE alerts SET read_id = NULL "
        "WHERE NOT EXISTS (SELECT 1 FROM reads WHERE reads.id = alerts.read_id)"
    )
    op.execute(
        "ALTER TABLE hold_reads ADD CONSTRAINT fk_hold_reads_read_id_reads "
        "FOREIGN KEY (read_id) REFERENCES reads (id) ON DELETE CASCADE"
    )
    op.execute(
        "ALTER TABLE alerts ADD CONSTRAINT fk_alerts_read_id_reads "
        "FOREIGN KEY (read_id) REFERENCES reads (id) ON DELETE SET NULL"
    )
