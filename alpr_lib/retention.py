"""Retention: reads destroyed when the retention period is over, unless a hold keeps them for a case.

:func:`purge` deletes, in bounded batches (the database stays usable), every read older than exactly ``now``
minus the retention period that no active hold keeps, their image and crop files, and the plates no read
refers to any more. Each batch deletes its reads, journals their files and adds its counts to the purge's
destruction record in one transaction — destruction is recorded or not done: a purge killed at any moment
leaves a record (``finished_at`` empty) matching exactly what is gone. The files are deleted after the
batch commits and struck from the journal, and a purge first finishes any journal an interrupted run left
— so a purge can be killed and run again, and never leaves a read whose image is gone or an image whose
read is gone. Only regular files inside the image store (:mod:`alpr_lib.media`) are ever deleted: a stored
path that leads elsewhere, or names a folder, is reported and struck, never followed, and never stops
retention. On PostgreSQL, where ``reads`` is partitioned by day, a day that has wholly expired and
holds no kept read is dropped as a whole (its files journalled, its ``hold_reads``/alerts links cleared and
its counts recorded in the same transaction) — milliseconds instead of a long DELETE; the rest (the day the
cutoff falls in, days with held reads) goes through the batches. The destruction record holds counts and
the date range only, never plate text. On SQLite, deleted content is overwritten (``secure_delete``), the
write-ahead log truncated and the file vacuumed, so destroyed plates cannot be read back from it.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from .errors import StoreError
from .media import ImageStore
from .store import Store, partitions
from .store import schema as s
from .store.retained import any_below, floor_ms, held_clause

__all__ = ["PurgeReport", "held_clause", "purge", "purge_status", "scheduled_purge"]

_R, _H, _HR, _P = s.Read.__table__, s.Hold.__table__, s.HoldRead.__table__, s.Plate.__table__
_A = s.Alert.__table__


#: A purge that finished within this long counts as today's (a nightly run a little late is not overdue).
_DUE = dt.timedelta(days=1, hours=2)


def purge_status(conn: sa.Connection, *, retention_days: int, now: dt.datetime) -> dict[str, Any]:
    """When the last purge ran (``last_purge``), whether it finished, and ``purge_overdue``: reads past
    retention wait and no purge finished in a day. By the time index and the last destruction record."""
    d = s.DestructionRecord.__table__.c
    last = conn.execute(sa.select(d.ran_at, d.finished_at).order_by(d.id.desc()).limit(1)).first()
    recent = last is not None and last.finished_at is not None and now - last.ran_at < _DUE
    return {
        "last_purge": last.ran_at.isoformat() if last else None,
        "last_purge_finished": bool(last and last.finished_at is not None),
        "purge_overdue": any_below(conn, floor_ms(now, retention_days)) and not recent,
    }


@dataclass
class PurgeReport:
    """What a purge destroyed (or, dry, would destroy): counts only."""

    cutoff: dt.datetime
    reads: int = 0
    images: int = 0
    plates: int = 0
    held: int = 0
    oldest_ms: int | None = None
    newest_ms: int | None = None
    dry_run: bool = False
    #: Journalled paths that were not regular files inside the image store: struck, never touched.
    files_skipped: int = 0

    def add(self, reads: int, images: int, oldest_ms: int | None, newest_ms: int | None) -> None:
        """Count a batch or a day destroyed."""
        self.reads += reads
        self.images += images
        if oldest_ms is not None:
            self.oldest_ms = oldest_ms if self.oldest_ms is None else min(self.oldest_ms, oldest_ms)
        if newest_ms is not None:
            self.newest_ms = newest_ms if self.newest_ms is None else max(self.newest_ms, newest_ms)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cutoff": self.cutoff.isoformat(),
            "reads_destroyed": self.reads,
            "images_destroyed": self.images,
            "plates_destroyed": self.plates,
            "held_reads_kept": self.held,
            "files_skipped": self.files_skipped,
            "dry_run": self.dry_run,
        }


def _finish_journal(store: Store, images: ImageStore) -> int:
    """Delete the files a committed batch journalled, then strike them from the journal. A path that is
    not a regular file inside the image store is struck without being touched; returns how many were."""
    with store.read() as conn:
        paths = list(conn.execute(sa.select(s.PurgeFile.path)).scalars())
    # A file already gone is no matter (the purge's aim is met); one that may not be touched is counted.
    skipped = sum(not images.destroy(path) for path in paths)
    if paths:
        with store.atomic() as conn:
            for start in range(0, len(paths), 500):
                chunk = paths[start : start + 500]
                conn.execute(sa.delete(s.PurgeFile).where(s.PurgeFile.path.in_(chunk)))
    return skipped


def _expired(cutoff_ms: int) -> sa.ColumnElement[bool]:
    return sa.and_(_R.c.ts < cutoff_ms, sa.not_(held_clause()))


def purge(
    store: Store,
    *,
    now: dt.datetime,
    retention_days: int,
    ran_by: str,
    images: ImageStore | None = None,
    dry_run: bool = False,
    batch: int = 10_000,
    progress: Callable[[int], None] | None = None,
) -> PurgeReport:
    """Destroy the reads older than ``now`` minus ``retention_days`` (exactly) that no active hold keeps,
    and their files in ``images`` (the image store; None: the workbench keeps no files, none is touched)."""
    if now.tzinfo is None:
        raise ValueError("now must carry a time zone")
    images = images or ImageStore(None)
    cutoff_ms = floor_ms(now, retention_days)
    cutoff = dt.datetime.fromtimestamp(cutoff_ms / 1000, dt.UTC)
    report = PurgeReport(cutoff=cutoff, dry_run=dry_run)
    with store.read() as conn:
        report.held = int(
            conn.execute(
                sa.select(sa.func.count()).select_from(_R).where(_R.c.ts < cutoff_ms, held_clause())
            ).scalar_one()
        )
        if dry_run:
            row = conn.execute(
                sa.select(sa.func.count(), sa.func.count(_R.c.image_path), sa.func.count(_R.c.crop_path))
                .select_from(_R)
                .where(_expired(cutoff_ms))
            ).one()
            report.reads, report.images = int(row[0]), int(row[1]) + int(row[2])
            return report
    report.files_skipped += _finish_journal(store, images)
    record = _open_record(store, ran_by, cutoff_ms)
    if store.dialect == "postgresql":
        with store.read() as conn:
            days = partitions.partition_days(conn) if partitions.partitioned(conn) else []
        for day in days:
            if partitions.day_bounds(day)[1] > cutoff_ms:
                break
            try:
                dropped = _drop_day(store, day, record)
            except _Busy:
                break
            if dropped is not None:
                report.add(*dropped)
                report.files_skipped += _finish_journal(store, images)
                if progress:
                    progress(dropped[0])
    while True:
        done = store.retrying(lambda: _destroy_batch(store, cutoff_ms, batch, record), attempts=10)
        if done is None:
            break
        report.add(*done)
        report.files_skipped += _finish_journal(store, images)
        store.yield_to_waiters()
        if progress:
            progress(done[0])
    report.plates = _drop_orphan_plates(store, record)
    if report.reads and store.sqlite_path() is not None:
        _scrub_sqlite(store)
    elif report.reads and store.dialect == "postgresql":
        _vacuum_postgres(store)
    return report


def _destroy_batch(
    store: Store, cutoff_ms: int, batch: int, record: int
) -> tuple[int, int, int | None, int | None] | None:
    """One batch of expired reads destroyed, their files journalled and the destruction counted on the
    purge's record, in one transaction; returns reads, files, oldest and newest — None when none is left."""
    with store.atomic() as conn:
        rows = conn.execute(
            sa.select(_R.c.id, _R.c.ts, _R.c.image_path, _R.c.crop_path)
            .where(_expired(cutoff_ms))
            .order_by(_R.c.id)
            .limit(batch)
        ).all()
        if not rows:
            return None
        files = {p for r in rows for p in (r.image_path, r.crop_path) if p}
        if files:
            known = set(
                conn.execute(sa.select(s.PurgeFile.path).where(s.PurgeFile.path.in_(files))).scalars()
            )
            conn.execute(sa.insert(s.PurgeFile), [{"path": p} for p in files - known])
        ids = [r.id for r in rows]
        _unlink_reads(conn, ids)
        conn.execute(sa.delete(s.Read).where(s.Read.id.in_(ids)))
        stamps = [r.ts for r in rows]
        done = (len(rows), len(files), min(stamps), max(stamps))
        _count(conn, record, *done)
    return done


def _unlink_reads(conn: sa.Connection, ids: Any) -> None:
    """What the foreign keys' ON DELETE would do, done by hand: PostgreSQL's day-partitioned reads cannot
    be the target of a foreign key. A destroyed read leaves its holds' lists and takes its other readings
    with it; its alerts stay, without it."""
    conn.execute(sa.delete(_HR).where(_HR.c.read_id.in_(ids)))
    conn.execute(sa.delete(s.ReadAlternative).where(s.ReadAlternative.read_id.in_(ids)))
    conn.execute(sa.update(_A).where(_A.c.read_id.in_(ids)).values(read_id=None))


#: How long the purge waits for the reads table's exclusive lock before it lets searches go first: shorter
#: than PostgreSQL's deadlock_timeout (1 s), so a search waiting behind the purge is never the one aborted.
LOCK_WAIT = "250ms"
_LOCK_TRIES = 4
_BUSY = {"55P03", "40P01"}  # lock_not_available, deadlock_detected


def _drop_day(store: Store, day: int, record: int) -> tuple[int, int, int | None, int | None] | None:
    """PostgreSQL: destroy a wholly expired day by dropping its partition; returns reads, files, oldest and
    newest. None when a hold keeps one of its reads (the batches then take the day's others); :class:`_Busy`
    when searches kept the table busy through every try."""
    for attempt in range(_LOCK_TRIES):
        try:
            return _drop_day_once(store, day, record)
        except StoreError as exc:
            if getattr(getattr(exc.__cause__, "orig", None), "sqlstate", None) not in _BUSY:
                raise
            time.sleep(0.1 * (attempt + 1))
    raise _Busy


class _Busy(Exception):
    """Searches kept the reads table busy: this purge deletes in batches instead of dropping days."""


def _drop_day_once(store: Store, day: int, record: int) -> tuple[int, int, int | None, int | None] | None:
    lo, hi = partitions.day_bounds(day)
    in_day = sa.and_(_R.c.ts >= lo, _R.c.ts < hi)
    with store.atomic() as conn:
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_WAIT}'")
        # First, before anything else is locked: no read may arrive in the day or leave it meanwhile.
        conn.exec_driver_sql("LOCK TABLE reads IN ACCESS EXCLUSIVE MODE")
        if conn.execute(sa.select(_R.c.id).where(in_day, held_clause()).limit(1)).first() is not None:
            return None
        count, oldest, newest = conn.execute(
            sa.select(sa.func.count(), sa.func.min(_R.c.ts), sa.func.max(_R.c.ts)).where(in_day)
        ).one()
        paths = sa.union(
            sa.select(_R.c.image_path.label("path")).where(in_day, _R.c.image_path.is_not(None)),
            sa.select(_R.c.crop_path.label("path")).where(in_day, _R.c.crop_path.is_not(None)),
        ).subquery()
        files = int(conn.execute(sa.select(sa.func.count()).select_from(paths)).scalar_one())
        if files:
            conn.execute(
                pg_insert(s.PurgeFile)
                .from_select(["path"], sa.select(paths.c.path))
                .on_conflict_do_nothing(index_elements=["path"])
            )
        _unlink_reads(conn, sa.select(_R.c.id).where(in_day))
        conn.exec_driver_sql("SELECT reads_drop_day(%(day)s)", {"day": day})
        _count(conn, record, int(count), files, oldest, newest)
    return int(count), files, oldest, newest


def _drop_orphan_plates(store: Store, record: int) -> int:
    """Delete the plates no read and no hold refers to; searches reload their plate index."""
    with store.atomic() as conn:
        orphans = (
            sa.select(_P.c.id)
            .where(~sa.exists().where(_R.c.plate_id == _P.c.id))
            .where(~sa.exists().where(_H.c.plate_id == _P.c.id))
            .where(~sa.exists().where(s.ReadAlternative.plate_id == _P.c.id))
        )
        deleted = conn.execute(sa.delete(s.Plate).where(s.Plate.id.in_(orphans))).rowcount or 0
        if deleted:
            epoch = dt.datetime.now(dt.UTC).isoformat()
            store.set_meta(conn, "plates_epoch", epoch)
        conn.execute(
            sa.update(s.DestructionRecord)
            .where(s.DestructionRecord.id == record)
            .values(plates_destroyed=int(deleted), finished_at=dt.datetime.now(dt.UTC))
        )
    return int(deleted)


def _open_record(store: Store, ran_by: str, cutoff_ms: int) -> int:
    """The purge's destruction record, opened before anything is destroyed (counts 0, not finished)."""
    with store.atomic() as conn:
        return int(
            conn.execute(
                sa.insert(s.DestructionRecord)
                .values(
                    ran_at=dt.datetime.now(dt.UTC), ran_by=ran_by[:64], cutoff_ts=cutoff_ms,
                    reads_destroyed=0, images_destroyed=0, plates_destroyed=0,
                )
                .returning(s.DestructionRecord.id)
            ).scalar_one()
        )  # fmt: skip


def _count(
    conn: sa.Connection, record: int, reads: int, files: int, oldest: int | None, newest: int | None
) -> None:
    """Add a batch's destruction to the purge's record, in the batch's own transaction."""
    d = s.DestructionRecord.__table__.c
    conn.execute(
        sa.update(s.DestructionRecord)
        .where(d.id == record)
        .values(
            reads_destroyed=d.reads_destroyed + reads,
            images_destroyed=d.images_destroyed + files,
            oldest_ts=sa.func.coalesce(sa.func.min(d.oldest_ts, oldest), oldest)
            if conn.dialect.name == "sqlite"
            else sa.func.least(d.oldest_ts, oldest),
            newest_ts=sa.func.coalesce(sa.func.max(d.newest_ts, newest), newest)
            if conn.dialect.name == "sqlite"
            else sa.func.greatest(d.newest_ts, newest),
        )
    )


def _vacuum_postgres(store: Store) -> None:
    """Let PostgreSQL reuse the destroyed rows' space now rather than whenever autovacuum comes, and refresh
    the planner's statistics (VACUUM cannot run inside a transaction: an autocommit connection)."""
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM (ANALYZE) reads, plates")


def _scrub_sqlite(store: Store) -> None:
    """Leave no destroyed content readable in the file: fold the write-ahead log back in and truncate it,
    then rebuild the file without free pages (``secure_delete`` already zeroed the deleted cells)."""
    with store.engine.connect() as conn:
        raw: Any = conn.connection.driver_connection
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        raw.execute("VACUUM")
        raw.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def scheduled_purge(
    store: Store, *, retention_days: int, images: ImageStore | None = None, now: dt.datetime | None = None
) -> PurgeReport | None:
    """The purge a running server makes on its own each day (``ran_by`` ``scheduler``), audited as the
    system's; a failure is audited and returned as None — the next day's run tries again."""
    from .access import audit

    when = now or dt.datetime.now(dt.UTC)
    params: dict[str, Any] = {"now": when.isoformat(), "retention_days": retention_days, "scheduled": True}
    try:
        report = purge(store, now=when, retention_days=retention_days, ran_by="scheduler", images=images)
    except StoreError as exc:
        with store.atomic() as conn:
            audit.append(conn, operation="purge", outcome="error", client="system", user_name="scheduler",
                         params=params, detail=type(exc).__name__)  # fmt: skip
        return None
    with store.atomic() as conn:
        audit.append(conn, operation="purge", outcome="ok", client="system", user_name="scheduler",
                     params={**params, **report.as_dict()}, result_count=report.reads)  # fmt: skip
    return report
