"""PostgreSQL: a trigram index on the distinct plates, for partial patterns with three known characters

Measured at 10M reads (281k distinct plates, ``benchmarks/bench_trigram.py``): such a pattern is answered
from the index in 0.2-0.6 ms, where matching the plates held in memory takes 4-6 ms; a pattern without a run
of three gains nothing from it (PostgreSQL takes 50-150 ms) and stays in memory. ``pg_trgm`` is a trusted
extension (the database's owner may create it); where it is not installed the index is skipped and every
pattern is matched in memory. SQLite is unchanged.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    available = bind.exec_driver_sql("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'").first()
    if available is None:
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute("CREATE INDEX ix_plates_plate_trgm ON plates USING gin (plate gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP INDEX IF EXISTS ix_plates_plate_trgm")
