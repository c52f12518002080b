"""The case registry: offense, who opened and closed a case, its assigned members, supervisors' overrides

A case was a number of the right shape. Now a supervisor opens it (offense category from a fixed list,
assigned members), assigns and closes it; an investigation search must name an open case its member is
assigned to. A case made implicitly by a hold or release before (``opened_by`` empty) is not registered
until a supervisor opens it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("cases") as batch:
        batch.add_column(sa.Column("offense", sa.String(40), nullable=False, server_default=""))
        batch.add_column(sa.Column("opened_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True))
        batch.add_column(sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("closed_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=True))
    op.create_table(
        "case_members",
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), primary_key=True),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("added_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("added_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
    )
    op.create_index("ix_case_members_user_id", "case_members", ["user_id"])
    op.create_table(
        "case_overrides",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("number", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_by", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("granted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_case_overrides_number_user", "case_overrides", ["number", "user_id"])


def downgrade() -> None:
    op.drop_table("case_overrides")
    op.drop_table("case_members")
    with op.batch_alter_table("cases") as batch:
        for column in ("closed_by", "closed_at", "opened_by", "offense"):
            batch.drop_column(column)
