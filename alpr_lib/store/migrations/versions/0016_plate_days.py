"""PostgreSQL: the days each plate was read on, so that a plate's reads are looked for in those days only

With ``reads`` partitioned by day (0007), a search by plate descends the plate index of every day's
partition — 31 for a month's retention, 150 for five months — though most plates are read on a few of
them: a visitor on one or two, a resident on some. ``plate_days`` keeps one row per plate and day it was
read on; a plate-led search goes to those days' partitions only (``alpr_lib/store/queries.py``).

It is kept by the database, not by the importer: a statement trigger on ``reads`` adds the days of every
statement's new rows (a transition table: one statement, whatever the batch), and ``reads_drop_day`` forgets
a day with its partition. A row may outlive its reads (the purge deletes reads from a day a hold keeps):
the search then looks in one day more and finds nothing there. SQLite has no partitions and no need of it:
its one plate index is already a plate's reads in order.

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

# Whoever may read the reads (the application role of `workbench grants`) may read and note the days too:
# the trigger runs as the importer, and an upgrade must not stop imports until the grants are run again.
_SAME_GRANTS = """
DO $$
DECLARE r record;
BEGIN
    FOR r IN SELECT DISTINCT grantee FROM information_schema.role_table_grants
             WHERE table_schema = 'public' AND table_name = 'reads' AND privilege_type = 'INSERT'
               AND grantee <> current_user
    LOOP
        EXECUTE format('GRANT SELECT, INSERT ON plate_days TO %I', r.grantee);
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
    op.execute(_DROP_DAY)
    op.execute(_SAME_GRANTS)
    op.execute("ANALYZE plate_days")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER reads_note_days ON reads")
    op.execute("DROP FUNCTION reads_note_days()")
    op.execute(_drop_day(""))
    op.execute("DROP TABLE plate_days")
