"""the reads' (camera_id, ts) index holds every column a canvass returns: the reads near a scene come
from the index alone, and patrol cars' reads are checked against the area inside it

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

_COLUMNS = ["camera_id", "ts", "lat", "lon", "plate_id", "confidence", "raw", "crop_path"]


def upgrade() -> None:
    op.create_index("ix_reads_camera_id_ts_cover", "reads", _COLUMNS)
    op.drop_index("ix_reads_camera_id_ts", table_name="reads")


def downgrade() -> None:
    op.create_index("ix_reads_camera_id_ts", "reads", ["camera_id", "ts"])
    op.drop_index("ix_reads_camera_id_ts_cover", table_name="reads")
