"""The audit log: append-only, hash-chained and signed.

Each entry carries the SHA-256 of its canonical content together with the previous
entry's hash, so an edited, deleted, inserted or reordered row breaks the chain; and the
Ed25519 signature of that hash by the department's key (:mod:`alpr_lib.keys`), which only
the door holds, so an entry appended by anyone without the key — its hash computed exactly
as here — is told apart. Entries are written on the caller's connection: in the same
transaction as the work they record.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import uuid
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from .. import keys
from ..errors import InvalidInput, KeyUnavailable, StoreError
from ..store import schema as s
from ..store.db import dumps_canonical
from ..store.queries import cached_rows, rows_then_commit
from ..store.records import meta_value, set_meta_value

__all__ = [
    "CLIENTS",
    "GENESIS",
    "OUTCOMES",
    "ChainReport",
    "Checkpoint",
    "append",
    "create_key",
    "department_signature",
    "entry_hash",
    "lock_chain",
    "rotate_key",
    "take_checkpoint",
    "trusted_keys",
    "verify_chain",
    "verify_entries",
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
# The last hash and the key the database signs with, in one round trip.
_LAST_HASH = sa.select(
    sa.select(_TABLE.c.hash).order_by(_TABLE.c.id.desc()).limit(1).scalar_subquery(),
    sa.select(s.Meta.value).where(s.Meta.key == "signing_key").scalar_subquery(),
)
_INSERT = _TABLE.insert().returning(_TABLE.c.id)


def _pg_insert(_dialect: str) -> Any:
    """PostgreSQL: the entry's INSERT with every column a parameter, run straight through the driver (one
    statement, prepared once; SQLAlchemy's own execution was a tenth of the door's time for a search)."""
    values = {c: sa.bindparam(c.name, type_=c.type) for c in _TABLE.c if c.name != "id"}
    return _TABLE.insert().values(values).returning(_TABLE.c.id)


_PG_COLUMNS = frozenset(c.name for c in _TABLE.c if c.name != "id")


_PG_CHAIN_LOCK = sa.text("SELECT pg_advisory_xact_lock(7306870021)")  # any fixed key: "the audit chain"
_PG_LAST_HASH = (
    "SELECT (SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1), "
    "(SELECT value FROM meta WHERE key = 'signing_key')"
)


def lock_chain(conn: Connection) -> None:
    """One appender at a time until its transaction ends, or two would read the same last hash and fork the
    chain (READ COMMITTED on PostgreSQL). SQLite gets the same from BEGIN IMMEDIATE (store.db)."""
    if conn.dialect.name == "postgresql":
        conn.execute(_PG_CHAIN_LOCK)
        _hold(conn)


_HOLDS = "alpr_workbench_chain_held"


def _hold(conn: Connection) -> None:
    """Note that ``conn``'s transaction holds the chain's lock (PostgreSQL: until it ends)."""
    conn.info[_HOLDS] = weakref.ref(conn)


def _holds(conn: Connection) -> bool:
    held = conn.info.get(_HOLDS)
    return held is not None and held() is conn


def _locked_head(conn: Connection) -> tuple[str | None, str | None]:
    """Lock the chain (:func:`lock_chain`), then its last hash and the signing key's id.

    On PostgreSQL both statements go in one round trip (psycopg's pipeline): the server runs them in order,
    and the hash is read by a statement that starts once the lock is held, so it sees the entry of whoever
    held the lock before (READ COMMITTED: each statement its own snapshot)."""
    if conn.dialect.name != "postgresql":
        row = conn.execute(_LAST_HASH).one()
        return row[0], row[1]
    raw = conn.connection.driver_connection
    with raw.pipeline(), raw.cursor() as lock, raw.cursor() as head:  # type: ignore[union-attr]
        lock.execute(_PG_CHAIN_LOCK.text)
        head.execute(_PG_LAST_HASH)
        last, key_id = head.fetchone()
    _hold(conn)
    return last, key_id


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
    commit: bool = False,
) -> int:
    """Append one entry to the audit log and return its id; with ``commit``, as the transaction's last
    statement, committing it (on PostgreSQL in the same round trip: :func:`_append_and_commit`)."""
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
    if commit and conn.dialect.name == "postgresql":
        return _append_and_commit(conn, fields)
    _link(conn, fields, *_locked_head(conn))
    if conn.dialect.name == "postgresql":
        return int(cached_rows(conn, "audit_insert", _pg_insert, _pg_values(fields))[0][0])
    return int(conn.execute(_INSERT, fields).scalar_one())


def _link(conn: Connection, fields: dict[str, Any], last: str | None, key_id: str | None) -> None:
    """Chain ``fields`` to the entry whose hash is ``last`` and sign it with ``key_id`` (None: unsigned)."""
    prev_hash = last or GENESIS
    fields["prev_hash"] = prev_hash
    fields["hash"] = entry_hash(prev_hash, fields)
    fields["key_id"] = key_id
    fields["signature"] = (
        None if key_id is None else keys.sign(_signing_key(conn, key_id), "audit", fields["hash"].encode())
    )


class _Head:
    """The chain's last hash and signing key as this process last wrote them to one database, and the lock
    its threads take in turn to write after it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.known: tuple[str | None, str | None] | None = None


_HEADS: weakref.WeakKeyDictionary[Engine, _Head] = weakref.WeakKeyDictionary()
_HEADS_LOCK = threading.Lock()


def _append_and_commit(conn: Connection, fields: dict[str, Any]) -> int:
    """PostgreSQL: the entry and the transaction's ``COMMIT`` in one round trip (psycopg's pipeline).

    The entry follows the head this process wrote last. The database's trigger (migration 0017) takes the
    chain's lock and compares: when another process wrote since, or the key was rotated, it refuses the
    entry, which is then linked to the head read under the lock — one round trip more — and written again
    in the same transaction (the work it records is not done twice). This process's own threads write one
    after the other (a lock held until the ``COMMIT`` returns), so they never refuse each other."""
    with _HEADS_LOCK:
        head = _HEADS.setdefault(conn.engine, _Head())
    if _holds(conn):
        # This transaction holds the chain's lock already (a key rotation): the threads' lock is not waited
        # for — whoever holds it may be waiting for this transaction's chain lock.
        head.known = None
        return _committed_under_lock(conn, fields)
    with head.lock:
        known, head.known = head.known, None  # forgotten unless this entry is committed
        row = None
        if known is not None:
            _link(conn, fields, *known)
            row = rows_then_commit(conn, "audit_insert", _pg_insert, _pg_values(fields))
        entry = int(row[0][0]) if row is not None else _committed_under_lock(conn, fields)
        head.known = (fields["hash"], fields["key_id"])
        return entry


def _committed_under_lock(conn: Connection, fields: dict[str, Any]) -> int:
    """The entry linked to the head read under the chain's lock, written and committed."""
    _link(conn, fields, *_locked_head(conn))
    row = rows_then_commit(conn, "audit_insert", _pg_insert, _pg_values(fields))
    if row is None:  # the lock is held and the head just read: the trigger has nothing to refuse
        raise StoreError("the database refused the audit entry after the chain's last entry")
    return int(row[0][0])


def _pg_values(fields: dict[str, Any]) -> dict[str, Any]:
    return {c: fields.get(c) for c in _PG_COLUMNS}


def department_signature(conn: Connection, kind: str, message: bytes) -> dict[str, str] | None:
    """The department key's signature of ``message`` for ``kind`` (a release manifest): ``key_id``,
    ``algorithm`` and ``signature``; None when the database has no key."""
    key_id = meta_value(conn, "signing_key")
    if key_id is None:
        return None
    signature = keys.sign(_signing_key(conn, key_id), kind, message)
    return {"key_id": key_id, "algorithm": keys.ALGORITHM, "signature": signature}


def _signing_key(conn: Connection, key_id: str) -> Any:
    """The private key ``key_id`` of the store ``conn`` belongs to; refused when this process lacks it (an
    unsigned entry in a signed log would read as forged)."""
    ring = keys.ring_of(conn.engine)
    if ring is None:
        raise KeyUnavailable(
            "this database's audit entries are signed, and the department's key folder was not given "
            "(set key_dir)"
        )
    return ring.private(key_id)


@dataclass(frozen=True)
class ChainReport:
    """The result of walking the audit chain.

    ``first_bad`` is the id of the first entry whose link, content or signature does not check
    (None when the chain is whole), and ``problem`` says what is wrong with it; ``checkpoint`` says
    whether the latest checkpoint given was found intact in the log (None when no checkpoint was
    given); ``signed`` how many entries carry a good signature of a department key, ``unsigned`` how
    many that should do not (entries written before the database had a key are vouched for by the
    first signed entry after them, through the chain).
    """

    ok: bool
    rows: int
    first_bad: int | None
    head: str
    checkpoint: bool | None = None
    problem: str | None = None
    signed: int = 0
    unsigned: int = 0
    keys: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "rows": self.rows,
            "first_bad": self.first_bad,
            "head": self.head,
            "checkpoint": self.checkpoint,
            "problem": self.problem,
            "signed": self.signed,
            "unsigned": self.unsigned,
            "keys": list(self.keys),
        }


@dataclass(frozen=True)
class Checkpoint:
    """The chain's head at one moment, kept outside the database: row count, last id and hash, signed with
    the department's key (``key_id``, ``signature``) when the database has one."""

    rows: int
    last_id: int
    hash: str
    at: str
    key_id: str | None = None
    signature: str | None = None

    def message(self) -> bytes:
        return dumps_canonical(
            {"rows": self.rows, "last_id": self.last_id, "hash": self.hash, "at": self.at}
        ).encode()

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"rows": self.rows, "last_id": self.last_id, "hash": self.hash, "at": self.at}
        if self.signature:
            out |= {"key_id": self.key_id, "signature": self.signature}
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Checkpoint:
        return cls(
            int(data["rows"]), int(data["last_id"]), str(data["hash"]), str(data["at"]),
            data.get("key_id"), data.get("signature"),
        )  # fmt: skip


def _signature_problem(row: Mapping[str, Any], trusted: dict[str, keys.PublicKey]) -> str | None:
    """What is wrong with an entry's signature, or None when a department key signed it."""
    key_id, signature = row.get("key_id"), row.get("signature")
    if not signature or not key_id:
        return "it is not signed by the department's key: it was written by someone without the key"
    key = trusted.get(str(key_id))
    if key is None:
        return f"it is signed by key {key_id}, which is not one of the department's keys"
    if not key.covers(int(row["id"])):
        return f"it is signed by key {key_id} outside that key's span (the key was rotated out)"
    if not key.verify("audit", str(row["hash"]).encode(), signature):
        return "its signature does not match it: it was written or changed by someone without the key"
    return None


def verify_entries(
    entries: Iterable[Mapping[str, Any]],
    *,
    trusted: Sequence[keys.PublicKey] | None,
    checkpoint: Checkpoint | None = None,
) -> ChainReport:
    """Walk entries in id order: every one must hash to its stored hash, link to the one before it and,
    from the first entry a key of ``trusted`` covers on, carry that key's signature.

    Catches an edited field, a deleted, inserted or reordered entry, and an entry appended by anyone
    without the key. A checkpoint taken earlier catches the newest entries cut off, or the whole chain
    rewritten: the entry it names must still be there, with the same hash and the same number of entries
    up to it (and the checkpoint itself must carry a department key's signature when it has one).
    ``trusted`` None checks the chain alone; an empty list is a log nobody can vouch for.
    """
    by_id = {k.key_id: k for k in trusted or ()}
    signed_from = min((k.first_entry for k in trusted or ()), default=None)
    prev = GENESIS
    rows = signed = unsigned = 0
    first_bad = None
    problem = None
    seen_checkpoint: bool | None = None if checkpoint is None else False
    for row in entries:
        rows += 1
        if row["prev_hash"] != prev:
            wrong: str | None = "does not link to the entry before it (missing, inserted or moved)"
        elif entry_hash(row["prev_hash"], dict(row)) != row["hash"]:
            wrong = "its content was changed after it was written"
        else:
            wrong = None
        if signed_from is not None and int(row["id"]) >= signed_from:
            bad_signature = _signature_problem(row, by_id)
            if bad_signature is None:
                signed += 1
            else:
                unsigned += 1
                wrong = wrong or bad_signature
        if wrong is not None and first_bad is None:
            first_bad, problem = int(row["id"]), wrong
        if checkpoint is not None and row["id"] == checkpoint.last_id:
            seen_checkpoint = row["hash"] == checkpoint.hash and rows == checkpoint.rows
        prev = row["hash"]
    if trusted is not None and not trusted and first_bad is None:
        problem = "no key of the department's for this database: its entries cannot be authenticated"
    elif (
        checkpoint is not None
        and trusted is not None
        and first_bad is None
        # Signed when it carries a signature, and whenever it names an entry the keys signed: a checkpoint
        # stripped of its signature (and rewritten to match a cut log) is not the department's.
        and (checkpoint.signature or (signed_from is not None and checkpoint.last_id >= signed_from))
    ):
        key = by_id.get(str(checkpoint.key_id))
        if key is None or not key.verify("checkpoint", checkpoint.message(), checkpoint.signature):
            seen_checkpoint = False
            problem = "the latest checkpoint is not signed by the department's key"
    if checkpoint is not None and not seen_checkpoint and first_bad is None and problem is None:
        problem = "the log no longer matches the latest checkpoint (entries cut off or rewritten)"
    ok = first_bad is None and seen_checkpoint is not False and problem is None
    return ChainReport(ok, rows, first_bad, prev, seen_checkpoint, problem, signed, unsigned, tuple(by_id))


def verify_chain(
    conn: Connection, checkpoint: Checkpoint | None = None, trusted: Sequence[keys.PublicKey] | None = None
) -> ChainReport:
    """Walk the whole chain in the database (:func:`verify_entries`)."""
    table = s.AuditEntry.__table__
    # Streamed in batches (a server-side cursor on PostgreSQL) by this statement alone, never the connection.
    rows = conn.execute(sa.select(table).order_by(table.c.id).execution_options(yield_per=5000)).mappings()
    return verify_entries(rows, trusted=trusted, checkpoint=checkpoint)


def take_checkpoint(conn: Connection) -> Checkpoint:
    """The chain's head now, to be kept outside the database; signed when the database has a key."""
    table = s.AuditEntry.__table__
    last = conn.execute(sa.select(table.c.id, table.c.hash).order_by(table.c.id.desc()).limit(1)).first()
    rows = int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())
    now = dt.datetime.now(dt.UTC).isoformat()
    point = (
        Checkpoint(0, 0, GENESIS, now)
        if last is None
        else Checkpoint(rows, int(last.id), str(last.hash), now)
    )
    key_id = meta_value(conn, "signing_key")
    if key_id is None:
        return point
    signature = keys.sign(_signing_key(conn, key_id), "checkpoint", point.message())
    return replace(point, key_id=key_id, signature=signature)


def trusted_keys(conn: Connection) -> list[keys.PublicKey]:
    """The department's keys for the database ``conn`` is on, from its key folder — never from the
    database, whose ``database_id`` only says which of the folder's keys are its own. Empty when there is
    none (a database from before keys, or one whose identity was changed): nothing can vouch for its log."""
    database_id = meta_value(conn, "database_id")
    ring = keys.ring_of(conn.engine)
    return ring.records(database_id) if ring is not None and database_id is not None else []


def next_entry_id(conn: Connection) -> int:
    return int(conn.execute(sa.select(sa.func.coalesce(sa.func.max(_TABLE.c.id), 0))).scalar_one()) + 1


def create_key(conn: Connection, *, exist_ok: bool = False) -> keys.PublicKey | None:
    """Give the database ``conn`` is on a signing key, in its store's key folder, that signs every entry from
    the next on (the database gets its identity, ``database_id``, if it has none). None when the store was
    opened without a key folder. Refused when the database already has a key (rotate it instead), unless
    ``exist_ok``: then that key's record."""
    ring = keys.ring_of(conn.engine)
    if ring is None:
        return None
    current = meta_value(conn, "signing_key")
    if current is not None:
        if exist_ok:
            return ring.record(current)
        raise InvalidInput("this database already has a signing key; rotate it with `workbench keys rotate`")
    database_id = meta_value(conn, "database_id")
    if database_id is None:
        database_id = uuid.uuid4().hex
        set_meta_value(conn, "database_id", database_id)
    record = ring.create(database_id, first_entry=next_entry_id(conn))
    set_meta_value(conn, "signing_key", record.key_id)
    return record


def rotate_key(conn: Connection) -> tuple[str, keys.PublicKey]:
    """A new signing key for every entry after the last one written (call after appending the entry that
    records the rotation, in its transaction); returns the old key's id and the new key. Retire the old key
    (:meth:`KeyRing.retire`) once the transaction is committed."""
    ring = keys.ring_of(conn.engine)
    old, database_id = meta_value(conn, "signing_key"), meta_value(conn, "database_id")
    if ring is None or old is None or database_id is None:
        raise InvalidInput(
            "this database has no signing key to rotate; create one with `workbench keys create`"
        )
    record = ring.create(database_id, first_entry=next_entry_id(conn))
    set_meta_value(conn, "signing_key", record.key_id)
    return old, record
