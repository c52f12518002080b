"""Each camera's first read: when it came into operation, for reports of a period

The transparency report counts the cameras in operation during its period. A camera's row is made when its
first read is imported — often long after the read, for a vendor's history — so its ``created_at`` cannot
say; the time of its earliest read can, and is kept even after the purge destroys that read. Filled from the
reads already there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("cameras", sa.Column("first_read_ts", sa.BigInteger(), nullable=True))
    op.execute(
        "UPDATE cameras SET first_read_ts = (SELECT MIN(ts) FROM reads WHERE reads.camera_id = cameras.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("cameras") as batch:
        batch.drop_column("first_read_ts")
