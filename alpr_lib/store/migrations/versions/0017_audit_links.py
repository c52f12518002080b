"""PostgreSQL: the database itself refuses an audit entry that does not follow the chain's last entry

An entry carries its predecessor's hash (``prev_hash``) and is signed with the department's key named in
``meta.signing_key``. Until now the door read both under the chain's lock (one round trip) before it could
sign and write the entry (another), on every search. With this trigger the door may sign with the last hash
and key it already knows — it wrote the last entry itself — and send the entry with its ``COMMIT`` in one
round trip: the trigger takes the chain's lock and compares. An entry whose ``prev_hash`` is not the last
entry's hash (another process wrote since), or whose key is not the current one (the key was rotated), is
refused with ``serialization_failure``; the door rolls back to a savepoint taken just before the entry,
reads the head under the lock as before and writes the entry again, in the same transaction — the work the
entry records is not done twice.

The same check keeps the chain from forking whoever writes: an entry inserted with a stale or made-up
predecessor is refused at the door of the table, not only found later by ``workbench audit verify``.

The lock is ``pg_advisory_xact_lock(7306870021)``, the one the door takes before reading the head
(:func:`alpr_lib.access.audit.lock_chain`); each query of a PL/pgSQL function sees what was committed
before it started (READ COMMITTED), so the head is read once the previous holder has committed.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

_LINKS = """
CREATE FUNCTION audit_log_links() RETURNS trigger
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    head text;
BEGIN
    PERFORM pg_advisory_xact_lock(7306870021);
    SELECT hash INTO head FROM audit_log ORDER BY id DESC LIMIT 1;
    IF NEW.prev_hash IS DISTINCT FROM coalesce(head, repeat('0', 64)) THEN
        RAISE EXCEPTION 'an audit entry must follow the last entry of the chain'
            USING ERRCODE = 'serialization_failure';
    END IF;
    IF NEW.key_id IS DISTINCT FROM (SELECT value FROM meta WHERE key = 'signing_key') THEN
        RAISE EXCEPTION 'an audit entry must be signed with the current key'
            USING ERRCODE = 'serialization_failure';
    END IF;
    RETURN NEW;
END $$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_LINKS)
    op.execute(
        "CREATE TRIGGER audit_log_links BEFORE INSERT ON audit_log "
        "FOR EACH ROW EXECUTE FUNCTION audit_log_links()"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER audit_log_links ON audit_log")
    op.execute("DROP FUNCTION audit_log_links()")
