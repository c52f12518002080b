"""a journal of image files to destroy, written in the same transaction as the reads' deletion, so a
purge killed mid-way finishes deleting their files on the next run

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table("purge_files", sa.Column("path", sa.String(500), primary_key=True))


def downgrade() -> None:
    op.drop_table("purge_files")
