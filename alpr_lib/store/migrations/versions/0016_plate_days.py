"""PostgreSQL: the days each plate was read on, so that a plate's reads are looked for in those days only

With ``reads`` partitioned by day (0007), a search by plate descends the plate index of every day's
partition — 31 for a month's retention, 150 for five months — though most plates are read on a few of
them: a visitor on one or two, a resident on some. ``plate_days`` keeps one row per plate and day it was
read on; a plate-led search goes to those days' partitions only (``alpr_lib/store/queries.py``).

It is kept by the database, not by the importer: statement triggers on ``reads`` add the days of every
statement's new rows and forget a plate's day once its last read of that day is deleted (transition
tables: one statement, whatever the batch — the purge deletes the unheld reads of a day a hold keeps), and
``reads_drop_day`` forgets a day with its partition. Nothing of a destroyed read stays in it: that a plate
was read on a day is itself data past retention. SQLite has no partitions and no need of it: its one plate
index is already a plate's reads in order. Reads are never older than 1990 (``validate.EARLIEST``), so
``ts / 86400000`` is the day :func:`~alpr_lib.store.partitions.day_of` gives.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_DAY_MS = 86_400_000

_NOTE_DAYS = f"""
CREATE FUNCTION reads_note_days() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    INSERT INTO plate_days (plate_id, day)
    SELECT DISTINCT plate_id, (ts / {_DAY_MS})::integer FROM new_reads
    ORDER BY 1, 2
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$
"""


_FORGET_DAYS = f"""
CREATE FUNCTION reads_forget_days() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    DELETE FROM plate_days d
    USING (SELECT DISTINCT plate_id, (ts / {_DAY_MS})::integer AS day FROM old_reads) gone
    WHERE d.plate_id = gone.plate_id AND d.day = gone.day
      AND NOT EXISTS (SELECT 1 FROM reads r WHERE r.plate_id = gone.plate_id
                      AND r.ts >= gone.day::bigint * {_DAY_MS} AND r.ts < (gone.day::bigint + 1) * {_DAY_MS});
    RETURN NULL;
END $$
"""


def _drop_day(forget_the_day: str) -> str:
    """``reads_drop_day`` as 0007 made it, with ``forget_the_day`` run first (this revision's; none in 0007's,
    which the downgrade puts back)."""
    return f"""
CREATE OR REPLACE FUNCTION reads_drop_day(day integer) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    part text := 'reads_d' || to_char(date '1970-01-01' + day, 'YYYYMMDD');
BEGIN
    {forget_the_day}
    IF to_regclass(part) IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE format('ALTER TABLE reads DETACH PARTITION %I', part);
    EXECUTE format('DROP TABLE %I', part);
    RETURN true;
END $$
"""


_DROP_DAY = _drop_day("DELETE FROM plate_days WHERE plate_days.day = reads_drop_day.day;")

# Whoever may write the reads (the application role of `workbench grants`) may read, note and forget the days
# too: the triggers run as the importer and the purge, and an upgrade must not stop either until the grants
# are run again.
_SAME_GRANTS = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT DISTINCT grantee FROM information_schema.role_table_grants
             WHERE table_schema = 'public' AND table_name = 'reads' AND privilege_type = 'INSERT'
               AND grantee <> current_user
    LOOP
        EXECUTE format('GRANT SELECT, INSERT, DELETE ON plate_days TO %I', r.grantee);
    END LOOP;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(
        "CREATE TABLE plate_days (plate_id bigint NOT NULL, day integer NOT NULL, "
        "CONSTRAINT pk_plate_days PRIMARY KEY (plate_id, day))"
    )
    op.execute("CREATE INDEX ix_plate_days_day ON plate_days (day)")
    op.execute(
        f"INSERT INTO plate_days SELECT DISTINCT plate_id, (ts / {_DAY_MS})::integer FROM reads ORDER BY 1, 2"
    )
    op.execute(_NOTE_DAYS)
    op.execute(
        "CREATE TRIGGER reads_note_days AFTER INSERT ON reads REFERENCING NEW TABLE AS new_reads "
        "FOR EACH STATEMENT EXECUTE FUNCTION reads_note_days()"
    )
    op.execute(_FORGET_DAYS)
    op.execute(
        "CREATE TRIGGER reads_forget_days AFTER DELETE ON reads REFERENCING OLD TABLE AS old_reads "
        "FOR EACH STATEMENT EXECUTE FUNCTION reads_forget_days()"
    )
    op.execute(_DROP_DAY)
    op.execute(_SAME_GRANTS)
    op.execute("ANALYZE plate_days")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER reads_forget_days ON reads")
    op.execute("DROP FUNCTION reads_forget_days()")
    op.execute("DROP TRIGGER reads_note_days ON reads")
    op.execute("DROP FUNCTION reads_note_days()")
    op.execute(_drop_day(""))
    op.execute("DROP TABLE plate_days")
