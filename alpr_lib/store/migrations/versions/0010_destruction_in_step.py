"""A destruction record written with the destruction: when the purge finished, if it did

A purge opens its destruction record first, and each batch that destroys reads adds its counts to that
record in the same transaction as the deletion: a purge killed at any moment leaves a record matching
exactly what is gone. ``finished_at`` stays empty until the purge completes — an empty one marks a purge
that was interrupted (the next run finishes the job under its own record).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("destruction_log", sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True))
    op.execute("UPDATE destruction_log SET finished_at = ran_at")


def downgrade() -> None:
    with op.batch_alter_table("destruction_log") as batch:
        batch.drop_column("finished_at")
