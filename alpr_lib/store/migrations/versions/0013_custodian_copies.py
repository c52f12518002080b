"""The records custodian: a role, the program's named officers, and the register of copies

Policy 807.2(e) names a designee who oversees the ALPR program and 807.2(f) a custodian of its records:
both are now named members (``program_officers``, each naming kept as history) and the custodian a role
that purges, reads the destruction records and reviews holds without an administrator's password. Every
copy made from the data (a release package, a backup) is registered with its case, what it holds and
when its hold ends, so the custodian can confirm it destroyed.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    roles = sa.table("roles", sa.column("name", sa.String), sa.column("description", sa.String))
    op.bulk_insert(roles, [{"name": "custodian", "description": "custodian of ALPR records (807.2(f))"}])
    op.create_table(
        "program_officers",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("office", sa.String(16), nullable=False),
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), nullable=False),
        sa.Column("named_by", sa.String(64), nullable=False),
        sa.Column("named_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "copies",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("case_id", sa.Integer(), sa.ForeignKey("cases.id"), nullable=True),
        sa.Column("holds", sa.String(200), nullable=False),
        sa.Column("path", sa.String(500), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, server_default=""),
        sa.Column("made_by", sa.String(64), nullable=False),
        sa.Column("made_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hold_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destroyed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("destroyed_by", sa.String(64), nullable=True),
        sa.Column("note", sa.Text(), nullable=False, server_default=""),
    )
    # Training leaves a record: each exercise completed on the synthetic city, and the approval's copy.
    op.create_table(
        "training_completions",
        sa.Column("user_id", sa.Integer(), sa.ForeignKey("users.id"), primary_key=True),
        sa.Column("exercise", sa.String(64), primary_key=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("training_records") as batch:
        batch.add_column(sa.Column("completions", sa.Text(), nullable=False, server_default="[]"))
    # Reads collected per (UTC) day, kept after the purge destroys them: the public report of a past period.
    op.create_table(
        "daily_reads",
        sa.Column("day", sa.Integer(), primary_key=True),  # days since 1970-01-01 (UTC)
        sa.Column("reads", sa.BigInteger(), nullable=False),
    )
    op.execute(
        "INSERT INTO daily_reads (day, reads) "
        "SELECT ts / 86400000, COUNT(*) FROM reads GROUP BY ts / 86400000"
    )


def downgrade() -> None:
    with op.batch_alter_table("training_records") as batch:
        batch.drop_column("completions")
    op.drop_table("training_completions")
    op.drop_table("daily_reads")
    op.drop_table("copies")
    op.drop_table("program_officers")
    op.execute("DELETE FROM roles WHERE name = 'custodian'")
