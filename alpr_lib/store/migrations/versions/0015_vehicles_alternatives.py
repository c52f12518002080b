"""Vehicle descriptions and alternative readings

Camera systems describe the vehicle as well as its plate — make, model, colour, body type, direction of
travel — and their readers rank several readings of a plate. A read now points to one row of ``vehicles``
(the distinct descriptions, as ``plates`` holds the distinct plates) and carries its direction of travel; its
other readings go to ``read_alternatives`` with the reader's confidence, indexed by plate and time so that a
plate search finds a read whose second reading was the plate.

The two covering indexes gain the description's two columns, so plate searches and canvasses still read
their rows from the index alone; ``(vehicle_id, ts)`` serves a search by description alone. Rebuilding the
covering indexes takes about a minute per ten million reads.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_COVER = ["lat", "lon", "confidence", "raw", "crop_path"]
_PLATE_COVER = ["plate_id", "ts", "camera_id", *_COVER]
_CAMERA_COVER = ["camera_id", "ts", "lat", "lon", "plate_id", "confidence", "raw", "crop_path"]
_DESCRIBED = ["vehicle_id", "direction"]


def upgrade() -> None:
    op.create_table(
        "vehicles",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("make", sa.String(40), nullable=False),
        sa.Column("model", sa.String(40), nullable=False),
        sa.Column("color", sa.String(20), nullable=False),
        sa.Column("body", sa.String(20), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_vehicles"),
        sa.UniqueConstraint("make", "model", "color", "body", name="uq_vehicles_make_model_color_body"),
    )
    op.create_table(
        "read_alternatives",
        sa.Column("read_id", sa.BigInteger(), nullable=False),
        sa.Column("plate_id", sa.Integer(), nullable=False),
        sa.Column("ts", sa.BigInteger(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("read_id", "plate_id", name="pk_read_alternatives"),
        sa.ForeignKeyConstraint(["plate_id"], ["plates.id"], name="fk_read_alternatives_plate_id_plates"),
    )
    op.create_index("ix_read_alternatives_plate_id_ts", "read_alternatives", ["plate_id", "ts"])
    op.create_index("ix_read_alternatives_ts", "read_alternatives", ["ts"])
    op.add_column("reads", sa.Column("vehicle_id", sa.Integer(), nullable=True))
    op.add_column("reads", sa.Column("direction", sa.String(2), nullable=True))
    op.drop_index("ix_reads_plate_id_ts_cover", table_name="reads")
    op.create_index("ix_reads_plate_id_ts_cover", "reads", [*_PLATE_COVER, *_DESCRIBED])
    op.drop_index("ix_reads_camera_id_ts_cover", table_name="reads")
    op.create_index("ix_reads_camera_id_ts_cover", "reads", [*_CAMERA_COVER, *_DESCRIBED])
    op.create_index("ix_reads_vehicle_id_ts", "reads", ["vehicle_id", "ts"])


def downgrade() -> None:
    op.drop_index("ix_reads_vehicle_id_ts", table_name="reads")
    op.drop_index("ix_reads_camera_id_ts_cover", table_name="reads")
    op.create_index("ix_reads_camera_id_ts_cover", "reads", _CAMERA_COVER)
    op.drop_index("ix_reads_plate_id_ts_cover", table_name="reads")
    op.create_index("ix_reads_plate_id_ts_cover", "reads", _PLATE_COVER)
    with op.batch_alter_table("reads") as batch:
        batch.drop_column("direction")
        batch.drop_column("vehicle_id")
    op.drop_table("read_alternatives")
    op.drop_table("vehicles")
