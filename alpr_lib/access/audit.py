"""The audit log: append-only and hash-chained.

Each entry carries the SHA-256 of its canonical content together with the previous
entry's hash, so an edited, deleted, inserted or reordered row breaks the chain.
Entries are written on the caller's connection: in the same transaction as the work
they record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..store import schema as s
from ..store.db import dumps_canonical

__all__ = [
    "CLIENTS",
    "GENESIS",
    "OUTCOMES",
    "ChainReport",
    "Checkpoint",
    "append",
    "entry_hash",
    "take_checkpoint",
    "verify_chain",
]

GENESIS = "0" * 64
#: Who wrote an entry. ``*-unprotected``: a server whose kernels run without the sandbox (single-user mode,
#: asked for explicitly), so that every entry it writes says so.
CLIENTS = ("cli", "lab", "dashboard", "api", "system", "lab-unprotected", "dash-unprotected")
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


_TABLE = s.AuditEntry.__table__
# Built once: the audit write is on every query's path; building a statement costs more than running it.
_LAST_HASH = sa.select(_TABLE.c.hash).order_by(_TABLE.c.id.desc()).limit(1)
_INSERT = _TABLE.insert().returning(_TABLE.c.id)


_PG_CHAIN_LOCK = sa.text("SELECT pg_advisory_xact_lock(7306870021)")  # any fixed key: "the audit chain"


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
    if conn.dialect.name == "postgresql":
        # One appender at a time until its transaction ends, or two would read the same last hash and fork the
        # chain (READ COMMITTED). SQLite gets the same from BEGIN IMMEDIATE (store.db).
        conn.execute(_PG_CHAIN_LOCK)
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
    prev_hash = conn.execute(_LAST_HASH).scalar() or GENESIS
    fields["prev_hash"] = prev_hash
    fields["hash"] = entry_hash(prev_hash, fields)
    return int(conn.execute(_INSERT, fields).scalar_one())


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the audit chain.

    ``first_bad`` is the id of the first entry whose link or content does not check
    (None when the chain is whole); ``checkpoint`` says whether the latest checkpoint
    given was found intact in the log (None when no checkpoint was given).
    """

    ok: bool
    rows: int
    first_bad: int | None
    head: str
    checkpoint: bool | None = None
    problem: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "first_bad": self.first_bad,
            "head": self.head,
            "checkpoint": self.checkpoint,
            "problem": self.problem,
        }


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment, kept outside the database: row count, last id and hash."""

    rows: int
    last_id: int
    hash: str
    at: str

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "last_id": self.last_id, "hash": self.hash, "at": self.at}


def verify_chain(conn: Connection, checkpoint: Checkpoint | None = None) -> ChainReport:
    """Walk the whole chain: every entry must hash to its stored hash and link to the previous one.

    Catches an edited field, a deleted, inserted or reordered entry. A checkpoint taken
    earlier catches the newest entries cut off, or the whole chain rewritten: the entry it
    names must still be there, with the same hash and the same number of entries up to it.
    """
    table = s.AuditEntry.__table__
    prev = GENESIS
    rows = 0
    first_bad = None
    problem = None
    seen_checkpoint: bool | None = None if checkpoint is None else False
    for row in conn.execute(sa.select(table).order_by(table.c.id)).mappings():
        rows += 1
        if first_bad is None:
            if row["prev_hash"] != prev:
                first_bad, problem = (
                    row["id"],
                    "does not link to the entry before it (missing, inserted or moved)",
                )
            elif entry_hash(row["prev_hash"], dict(row)) != row["hash"]:
                first_bad, problem = row["id"], "its content was changed after it was written"
        if checkpoint is not None and row["id"] == checkpoint.last_id:
            seen_checkpoint = row["hash"] == checkpoint.hash and rows == checkpoint.rows
        prev = row["hash"]
    if checkpoint is not None and not seen_checkpoint and first_bad is None:
        problem = "the log no longer matches the latest checkpoint (entries cut off or rewritten)"
    ok = first_bad is None and seen_checkpoint is not False
    return ChainReport(ok, rows, first_bad, prev, seen_checkpoint, problem)


def take_checkpoint(conn: Connection) -> Checkpoint:
    """The chain's head now, to be kept outside the database."""
    table = s.AuditEntry.__table__
    last = conn.execute(sa.select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1)).first()
    rows = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    now = dt.datetime.now(dt.UTC).isoformat()
    if last is None:
        return Checkpoint(0, 0, GENESIS, now)
    return Checkpoint(rows, int(last.id), str(last.hash), now)
