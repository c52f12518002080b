"""Each read's confidence per character, where the workbench's own recognition gave one

The alert verifier shows which characters of a read the plate reader was unsure of: the characters to check
first against the crop and in LEDS. Vendor exports carry no such thing, so the column is empty for their
reads. Stored as whole percentages separated by spaces, one per character of ``raw`` (``"99 98 41 99 97"``).
On PostgreSQL the column is added to the partitioned table and so to every day's partition.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("reads", sa.Column("char_confidence", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reads") as batch:
        batch.drop_column("char_confidence")
