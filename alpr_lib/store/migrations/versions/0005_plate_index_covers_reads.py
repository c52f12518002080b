"""the reads' (plate_id, ts) index holds every column a plate search returns, so the reads of the
plates a search found come from the index alone, not from pages scattered over the table

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_COLUMNS = ["plate_id", "ts", "camera_id", "lat", "lon", "confidence", "raw", "crop_path"]


def upgrade() -> None:
    op.create_index("ix_reads_plate_id_ts_cover", "reads", _COLUMNS)
    op.drop_index("ix_reads_plate_id_ts", table_name="reads")


def downgrade() -> None:
    op.create_index("ix_reads_plate_id_ts", "reads", ["plate_id", "ts"])
    op.drop_index("ix_reads_plate_id_ts_cover", table_name="reads")
