"""The audit log: append-only and hash-chained.

Each entry carries the SHA-256 of its canonical content together with the previous
entry's hash, so an edited, deleted, inserted or reordered row breaks the chain.
Entries are written on the caller's connection: in the same transaction as the work
they record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..store import schema as s
from ..store.db import dumps_canonical

__all__ = ["GENESIS", "CLIENTS", "OUTCOMES", "append", "entry_hash"]

GENESIS = "0" * 64
CLIENTS = ("cli", "lab", "dashboard", "api", "system")
OUTCOMES = ("ok", "denied", "error")

_FIELDS = (
    "ts",
    "user_name",
    "role",
    "client",
    "operation",
    "params",
    "purpose",
    "case_number",
    "reason",
    "result_count",
    "outcome",
    "detail",
)


def entry_hash(prev_hash: str, fields: dict[str, Any]) -> str:
    """The hash of one entry: SHA-256 over the previous hash and the entry's canonical JSON."""
    content = {k: fields.get(k) for k in _FIELDS}
    if isinstance(content["ts"], dt.datetime):
        content["ts"] = content["ts"].astimezone(dt.UTC).isoformat()
    return hashlib.sha256((prev_hash + dumps_canonical(content)).encode()).hexdigest()


def append(
    conn: Connection,
    *,
    operation: str,
    outcome: str,
    client: str,
    user_name: str | None = None,
    role: str | None = None,
    params: dict[str, Any] | None = None,
    purpose: str | None = None,
    case_number: str | None = None,
    reason: str | None = None,
    result_count: int | None = None,
    detail: str | None = None,
    now: dt.datetime | None = None,
) -> int:
    """Append one entry to the audit log and return its id."""
    if outcome not in OUTCOMES:
        raise ValueError(f"outcome must be one of {OUTCOMES}")
    if client not in CLIENTS:
        raise ValueError(f"client must be one of {CLIENTS}")
    ts = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    # Microseconds are kept: SQLite and PostgreSQL both store them, so the hash survives a round trip.
    fields: dict[str, Any] = {
        "ts": ts,
        "user_name": user_name,
        "role": role,
        "client": client,
        "operation": operation,
        "params": dumps_canonical(params or {}),
        "purpose": purpose,
        "case_number": case_number,
        "reason": reason,
        "result_count": result_count,
        "outcome": outcome,
        "detail": detail,
    }
    prev = conn.execute(sa.select(s.AuditEntry.hash).order_by(s.AuditEntry.id.desc()).limit(1)).scalar()
    prev_hash = prev or GENESIS
    fields["prev_hash"] = prev_hash
    fields["hash"] = entry_hash(prev_hash, fields)
    return int(conn.execute(sa.insert(s.AuditEntry).values(**fields).returning(s.AuditEntry.id)).scalar_one())
