"""The database schema: one set of SQLAlchemy models for SQLite and PostgreSQL.

Conventions:

* ``reads.ts`` is UTC time in **epoch milliseconds** (a BIGINT): reads are the one
  table with millions of rows, and integers are the cheapest thing to index, range
  scan and hand to polars. Every other time column is a timezone-aware UTC
  ``DateTime`` (see :class:`UTCDateTime`).
* A plate's unknown state is the empty string, not NULL, so that the
  ``(plate, state)`` uniqueness holds.
* The migrations in ``store/migrations`` create exactly this schema; a test compares
  them. One difference is PostgreSQL's own (migration 0007): there ``reads`` is partitioned by day, its
  primary key is ``(id, ts)``, and ``hold_reads.read_id`` and ``alerts.read_id`` carry no foreign key
  (a key cannot point into a partitioned table by ``id`` alone); and ``plates`` has a trigram index
  (migration 0008), and ``plate_days``, the days each plate was read on (migration 0016) —
  :data:`POSTGRES_ONLY_DIFFERENCES`.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

__all__ = [
    "POSTGRES_ONLY_DIFFERENCES",
    "ROLES",
    "TRIGRAM_INDEX",
    "Agency",
    "Alert",
    "AuditEntry",
    "Base",
    "Camera",
    "Case",
    "DestructionRecord",
    "Hold",
    "HoldRead",
    "Hotlist",
    "HotlistEntry",
    "Meta",
    "Plate",
    "Read",
    "ReadAlternative",
    "Release",
    "Role",
    "Session",
    "TrainingRecord",
    "UTCDateTime",
    "User",
    "Vehicle",
]

#: What PostgreSQL's schema has or lacks beside the models: the foreign keys into day-partitioned ``reads``
#: (the purge does their ``ON DELETE`` work itself, on both engines), the plates' trigram index (0008) and
#: the days each plate was read on, with its index (0016: :data:`~alpr_lib.store.partitions.PLATE_DAYS`).
POSTGRES_ONLY_DIFFERENCES: frozenset[str] = frozenset(
    {
        "fk_hold_reads_read_id_reads",
        "fk_alerts_read_id_reads",
        "ix_plates_plate_trgm",
        "plate_days",
        "ix_plate_days_day",
    }
)
#: The trigram index on ``plates.plate`` (PostgreSQL with ``pg_trgm``; see migration 0008).
TRIGRAM_INDEX = "ix_plates_plate_trgm"

#: The roles of the department's ALPR program, in the order they are listed.
ROLES: tuple[str, ...] = ("admin", "analyst", "investigator", "supervisor", "trainer", "custodian")

# Stable constraint names make migrations reproducible on both engines.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """A timezone-aware UTC timestamp on every engine (SQLite keeps no zone by itself)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; give a timezone")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        assert isinstance(value, dt.datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Meta(Base):
    """Facts about the database itself: ``synthetic``, the scenario manifest, creation time."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Camera(Base):
    """A fixed reader at a place, or a mobile unit whose reads carry their own position."""

    __tablename__ = "cameras"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    kind: Mapped[str] = mapped_column(String(16), default="fixed")  # fixed | mobile
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    heading: Mapped[float | None] = mapped_column(Float)  # degrees clockwise from north
    location: Mapped[str | None] = mapped_column(String(200))  # corridor or description
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    # When it came into operation: its earliest read's time, kept after the purge (migration 0011).
    first_read_ts: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class Plate(Base):
    """A distinct normalised plate string and its state; many reads point to one plate."""

    __tablename__ = "plates"
    __table_args__ = (UniqueConstraint("plate", "state"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    plate: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(2), default="")  # "" when unknown
    equiv_key: Mapped[str] = mapped_column(String(16), index=True)


class Read(Base):
    """One sighting of one plate by one camera at one time."""

    __tablename__ = "reads"
    __table_args__ = (
        # Covering: a plate search reads its rows from the index alone (see migration 0005).
        Index(
            "ix_reads_plate_id_ts_cover",
            "plate_id",
            "ts",
            "camera_id",
            "lat",
            "lon",
            "confidence",
            "raw",
            "crop_path",
            "vehicle_id",
            "direction",
        ),
        # Covering: a canvass reads its rows from the index alone (see migration 0004).
        Index(
            "ix_reads_camera_id_ts_cover",
            "camera_id",
            "ts",
            "lat",
            "lon",
            "plate_id",
            "confidence",
            "raw",
            "crop_path",
            "vehicle_id",
            "direction",
        ),
        Index("ix_reads_ts", "ts"),
        # A search by vehicle description alone: the descriptions' reads in a window (migration 0015).
        Index("ix_reads_vehicle_id_ts", "vehicle_id", "ts"),
        # The import key: re-running an import skips what it already added (see migration 0007).
        UniqueConstraint("source_id", "ts"),
    )
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    plate_id: Mapped[int] = mapped_column(ForeignKey("plates.id"))
    raw: Mapped[str] = mapped_column(String(32))  # the text as the reader gave it
    confidence: Mapped[float | None] = mapped_column(Float)  # 0..1
    # One whole percentage per character of raw, separated by spaces, where the workbench's own recognition
    # read the plate ("99 98 41 99 97 99 99"; migration 0009); empty for vendors' reads.
    char_confidence: Mapped[str | None] = mapped_column(String(40))
    ts: Mapped[int] = mapped_column(BigInteger)  # UTC epoch milliseconds
    camera_id: Mapped[int] = mapped_column(ForeignKey("cameras.id"))
    lat: Mapped[float] = mapped_column(Float)
    lon: Mapped[float] = mapped_column(Float)
    image_path: Mapped[str | None] = mapped_column(String(500))
    crop_path: Mapped[str | None] = mapped_column(String(500))
    source_id: Mapped[str] = mapped_column(String(128))  # with ts, the idempotent import key
    # Migration 0015: the vehicle as the camera described it (make, model, colour, body type), one row of
    # ``vehicles`` shared by every read alike; its direction of travel as a compass point (N, NE, ... NW).
    vehicle_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    direction: Mapped[str | None] = mapped_column(String(2), nullable=True)


class Vehicle(Base):
    """A distinct vehicle description (make, model, colour, body type; "" where the source gave none).

    Reads point to one: a search by description finds the few matching rows here, then the reads by
    ``vehicle_id``, as a plate search does through ``plates``."""

    __tablename__ = "vehicles"
    __table_args__ = (UniqueConstraint("make", "model", "color", "body"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    make: Mapped[str] = mapped_column(String(40), default="")
    model: Mapped[str] = mapped_column(String(40), default="")
    color: Mapped[str] = mapped_column(String(20), default="")
    body: Mapped[str] = mapped_column(String(20), default="")


class ReadAlternative(Base):
    """Another reading of a read's plate, with the reader's confidence in it (migration 0015).

    Readers rank several candidate texts; the top one is the read's plate, the next ones are kept here so
    a search also finds a read whose second reading was the plate. ``ts`` is the read's, so the purge and
    the retention floor find a read's alternatives by time as they find the read."""

    __tablename__ = "read_alternatives"
    __table_args__ = (Index("ix_read_alternatives_plate_id_ts", "plate_id", "ts"),)
    read_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    plate_id: Mapped[int] = mapped_column(ForeignKey("plates.id"), primary_key=True)
    ts: Mapped[int] = mapped_column(BigInteger, index=True)
    rank: Mapped[int] = mapped_column(Integer)  # 1: the second reading, 2: the third ...
    confidence: Mapped[float | None] = mapped_column(Float)


class Role(Base):
    __tablename__ = "roles"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    description: Mapped[str] = mapped_column(String(200), default="")


class User(Base):
    """A member of the department who may log in."""

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    role_id: Mapped[int] = mapped_column(ForeignKey("roles.id"))
    password_hash: Mapped[str] = mapped_column(String(255))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_logons: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    password_changed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    # Migration 0014: the job title and agency 807.2(a) authorizes by, a contractor marked as such; a
    # password an administrator reset must be changed at the next login; the TOTP second factor (its secret
    # encrypted with the department's account key, and the last time step used, so no code serves twice).
    title: Mapped[str] = mapped_column(String(120), default="", server_default="")
    agency: Mapped[str] = mapped_column(String(120), default="", server_default="")
    contractor: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa.false())
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa.false())
    mfa_secret: Mapped[str | None] = mapped_column(Text)
    mfa_pending: Mapped[str | None] = mapped_column(Text)  # an enrolment not yet confirmed with a code
    mfa_last_step: Mapped[int | None] = mapped_column(BigInteger)


class TrainingRecord(Base):
    """A member's completed, department-approved ALPR training and when it expires."""

    __tablename__ = "training_records"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    course: Mapped[str] = mapped_column(String(120))
    completed_on: Mapped[dt.date] = mapped_column(Date)
    expires_on: Mapped[dt.date] = mapped_column(Date)
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    # The exercises the member had completed when approved, as JSON (migration 0013).
    completions: Mapped[str] = mapped_column(Text, default="[]", server_default="[]")


class TrainingCompletion(Base):
    """An exercise of the training notebooks a member completed on the synthetic city."""

    __tablename__ = "training_completions"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    exercise: Mapped[str] = mapped_column(String(64), primary_key=True)
    completed_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Session(Base):
    """A logged-in session; only the SHA-256 of its token is stored."""

    __tablename__ = "sessions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    client: Mapped[str] = mapped_column(String(16))  # lab | dashboard | cli | api
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class AuditEntry(Base):
    """One row of the append-only, hash-chained audit log."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    ts: Mapped[dt.datetime] = mapped_column(UTCDateTime, index=True)
    user_name: Mapped[str | None] = mapped_column(String(64), index=True)  # kept if the user goes
    role: Mapped[str | None] = mapped_column(String(32))
    client: Mapped[str] = mapped_column(String(16))
    operation: Mapped[str] = mapped_column(String(64))
    params: Mapped[str] = mapped_column(Text, default="{}")  # canonical JSON
    purpose: Mapped[str | None] = mapped_column(String(32))
    case_number: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str | None] = mapped_column(Text)
    result_count: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))  # ok | denied | error
    detail: Mapped[str | None] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Migration 0014: the department key that signed the entry and its Ed25519 signature of ``hash``.
    key_id: Mapped[str | None] = mapped_column(String(16))
    signature: Mapped[str | None] = mapped_column(String(100))


class Case(Base):
    """An investigation or department action, by its case number."""

    __tablename__ = "cases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64), unique=True)
    title: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    opened_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    # The registry (migration 0012): a case a supervisor opened; one a hold or release made has no opener.
    offense: Mapped[str] = mapped_column(String(40), default="", server_default="")
    opened_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CaseMember(Base):
    """A member assigned to a case: only they search for it (an investigation's searches name it)."""

    __tablename__ = "case_members"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    added_by: Mapped[int] = mapped_column(ForeignKey("users.id"))


class CaseOverride(Base):
    """A supervisor's override: a member may search for a case number they are not assigned to (or one not
    open in the registry) for a day, for the reason given. Every search under it is flagged for review."""

    __tablename__ = "case_overrides"
    __table_args__ = (Index("ix_case_overrides_number_user", "number", "user_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(Text)
    granted_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Hold(Base):
    """Keeps specific reads past the retention period for a case."""

    __tablename__ = "holds"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    plate_id: Mapped[int | None] = mapped_column(ForeignKey("plates.id"))
    ts_from: Mapped[int | None] = mapped_column(BigInteger)  # epoch ms, like reads.ts
    ts_to: Mapped[int | None] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="requested")  # requested|active|released
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    approved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    review_on: Mapped[dt.date | None] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class HoldRead(Base):
    """A read kept by a hold (holds made from read ids or from a search's results)."""

    __tablename__ = "hold_reads"
    hold_id: Mapped[int] = mapped_column(ForeignKey("holds.id", ondelete="CASCADE"), primary_key=True)
    read_id: Mapped[int] = mapped_column(ForeignKey("reads.id", ondelete="CASCADE"), primary_key=True)


class Hotlist(Base):
    """A list of plates of interest (stolen vehicles, wanted persons ...)."""

    __tablename__ = "hotlists"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    source: Mapped[str] = mapped_column(String(120), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)


class HotlistEntry(Base):
    """One plate on a hotlist."""

    __tablename__ = "hotlist_entries"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hotlist_id: Mapped[int] = mapped_column(ForeignKey("hotlists.id", ondelete="CASCADE"), index=True)
    plate: Mapped[str] = mapped_column(String(16), index=True)
    state: Mapped[str] = mapped_column(String(2), default="")
    equiv_key: Mapped[str] = mapped_column(String(16), index=True)
    kind: Mapped[str] = mapped_column(
        String(32)
    )  # stolen-vehicle | stolen-plate | wanted | missing | warrant
    note: Mapped[str] = mapped_column(Text, default="")
    source: Mapped[str] = mapped_column(String(120), default="", server_default="")
    added_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    expires_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class Alert(Base):
    """A read that matched a hotlist entry, unverified until checked against LEDS/NCIC."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("read_id", "entry_id"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Alerts and their verification outlive the read (longer retention): SET NULL on purge.
    read_id: Mapped[int | None] = mapped_column(ForeignKey("reads.id", ondelete="SET NULL"))
    entry_id: Mapped[int | None] = mapped_column(ForeignKey("hotlist_entries.id", ondelete="SET NULL"))
    read_ts: Mapped[int] = mapped_column(BigInteger)
    match: Mapped[str] = mapped_column(String(16), default="exact")  # exact | ocr
    state_agrees: Mapped[bool | None] = mapped_column(Boolean)  # None: the entry or the read has no state
    detail: Mapped[str | None] = mapped_column(Text)  # which characters were look-alikes
    status: Mapped[str] = mapped_column(String(16), default="unverified")  # unverified|confirmed|cleared
    actionable: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa.false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    verified_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(Text)


class Agency(Base):
    """Another agency data may be released to."""

    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # law-enforcement | prosecutorial | other
    state: Mapped[str] = mapped_column(String(2))
    contact: Mapped[str] = mapped_column(String(200), default="")


class Release(Base):
    """A release package sent to an agency."""

    __tablename__ = "releases"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    purpose: Mapped[str] = mapped_column(String(32))
    released_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    released_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    read_count: Mapped[int] = mapped_column(Integer)
    package_path: Mapped[str] = mapped_column(String(500))
    manifest_sha256: Mapped[str] = mapped_column(String(64))


class ProgramOfficer(Base):
    """A naming of the program's designee (807.2(e)) or custodian of records (807.2(f)); the latest naming
    of an office holds it, the earlier ones are its history."""

    __tablename__ = "program_officers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office: Mapped[str] = mapped_column(String(16))  # designee | custodian
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    named_by: Mapped[str] = mapped_column(String(64))
    named_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class Copy(Base):
    """A copy made from the data — a release package, a backup — with its case, what it holds (counts, never
    plate text) and when its hold ends (None: while its case is open); the custodian confirms it destroyed."""

    __tablename__ = "copies"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # release | backup
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"))
    holds: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), default="", server_default="")
    made_by: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    hold_until: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    destroyed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    destroyed_by: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str] = mapped_column(Text, default="", server_default="")


class DailyReads(Base):
    """How many reads each (UTC) day brought, kept after the purge: what a past period collected."""

    __tablename__ = "daily_reads"
    day: Mapped[int] = mapped_column(Integer, primary_key=True)  # days since 1970-01-01 (UTC)
    reads: Mapped[int] = mapped_column(BigInteger)


class PurgeFile(Base):
    """An image or crop file whose read was destroyed, waiting for its file to be deleted."""

    __tablename__ = "purge_files"
    path: Mapped[str] = mapped_column(String(500), primary_key=True)


class DestructionRecord(Base):
    """What a purge destroyed: counts and date range only, never plate text. Opened when the purge starts
    and counted up in the same transaction as each batch it destroys (migration 0010): ``finished_at`` empty
    marks a purge that was interrupted, whose counts are exactly what it destroyed before it stopped."""

    __tablename__ = "destruction_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ran_at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=_now)
    ran_by: Mapped[str] = mapped_column(String(64))  # user name or "scheduler"
    cutoff_ts: Mapped[int] = mapped_column(BigInteger)
    oldest_ts: Mapped[int | None] = mapped_column(BigInteger)
    newest_ts: Mapped[int | None] = mapped_column(BigInteger)
    reads_destroyed: Mapped[int] = mapped_column(Integer)
    images_destroyed: Mapped[int] = mapped_column(Integer)
    plates_destroyed: Mapped[int] = mapped_column(Integer)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime, nullable=True)
