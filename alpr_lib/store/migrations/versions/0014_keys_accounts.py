"""Signed audit entries, and members' accounts for a whole career

Every audit entry carries the id of the department key that signed it and the Ed25519 signature of its
hash: an entry written by anyone without the key (appended straight to the table, its hash computed as the
code computes it) no longer verifies. Members carry their job title and agency (contractors marked), a
password an administrator reset must be changed at the next login, and a member may enrol a TOTP
authenticator (its secret encrypted with a key kept beside the signing key, outside the database).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_USER_COLUMNS = (
    sa.Column("title", sa.String(120), nullable=False, server_default=""),
    sa.Column("agency", sa.String(120), nullable=False, server_default=""),
    sa.Column("contractor", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("must_change_password", sa.Boolean(), nullable=False, server_default=sa.false()),
    sa.Column("mfa_secret", sa.Text(), nullable=True),
    sa.Column("mfa_pending", sa.Text(), nullable=True),
    sa.Column("mfa_last_step", sa.BigInteger(), nullable=True),
)


def upgrade() -> None:
    # Plain ADD COLUMN (no table rebuild): the audit log's append-only triggers stay as they are.
    op.add_column("audit_log", sa.Column("key_id", sa.String(16), nullable=True))
    op.add_column("audit_log", sa.Column("signature", sa.String(100), nullable=True))
    for column in _USER_COLUMNS:
        op.add_column("users", column)


def downgrade() -> None:
    with op.batch_alter_table("users") as batch:
        for column in _USER_COLUMNS:
            batch.drop_column(column.name)
    op.drop_column("audit_log", "signature")
    op.drop_column("audit_log", "key_id")
