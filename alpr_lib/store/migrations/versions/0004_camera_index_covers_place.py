"""the reads' (camera_id, ts) index also holds the read's place, so a canvass of patrol cars' reads
checks the area inside the index instead of fetching every read in the window

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_reads_camera_id_ts_lat_lon", "reads", ["camera_id", "ts", "lat", "lon"])
    op.drop_index("ix_reads_camera_id_ts", table_name="reads")


def downgrade() -> None:
    op.create_index("ix_reads_camera_id_ts", "reads", ["camera_id", "ts"])
    op.drop_index("ix_reads_camera_id_ts_lat_lon", table_name="reads")
