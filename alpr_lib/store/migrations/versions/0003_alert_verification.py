"""alerts say how they matched and whether the state agrees; verification makes them actionable

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("state_agrees", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("detail", sa.Text(), nullable=True))
        batch.add_column(sa.Column("actionable", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("hotlist_entries") as batch:
        batch.add_column(sa.Column("source", sa.String(120), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("hotlist_entries") as batch:
        batch.drop_column("source")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("actionable")
        batch.drop_column("detail")
        batch.drop_column("state_agrees")
