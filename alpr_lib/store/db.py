"""The engine: opening the database, migrations, transactions and facts about the store.

SQLite (WAL, foreign keys on) is the zero-setup default; PostgreSQL is the department
server. The URL comes from the caller (the CLI takes ``--db`` or ``WORKBENCH_DB_URL``),
so nothing here needs to know which engine is in use beyond a few dialect switches.

>>> store = Store("sqlite://")
>>> store.migrate()
>>> store.info()["reads"]
0
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import StaticPool

from ..errors import StoreBusy, StoreError
from ..keys import KeyRing
from ..keys import attach as attach_keys
from . import schema as s
from .plate_index import PlateIndex
from .records import set_meta_value

__all__ = ["MIGRATIONS_DIR", "Store", "mask_url"]

MIGRATIONS_DIR = Path(__file__).with_name("migrations")

# Indexes dropped while a fresh database is bulk-loaded and built once afterwards:
# appending millions of rows to three B-trees costs far more than building them.
_BULK_LOAD_INDEXES = ("ix_reads_plate_id_ts_cover", "ix_reads_camera_id_ts_cover", "ix_reads_ts")

# Rows a PostgreSQL backup fetches and writes at a time: memory stays flat however large the database.
_BACKUP_BATCH = 20_000


#: How long an SQLite statement waits for another connection's write lock before giving up (ms).
BUSY_WAIT_MS = 15_000
#: How long a long job leaves the write lock free between its transactions (s): more than the 100 ms
#: between two tries of a waiting connection.
YIELD_S = 0.11
#: How many times a write transaction's BEGIN waits BUSY_WAIT_MS for the lock before giving up.
BEGIN_TRIES = 4
T = TypeVar("T")
_BUSY_WORDS = ("database is locked", "database table is locked", "database is busy")
BUSY_MESSAGE = "the database is busy with an import or a purge; try again in a moment"
#: A pooled PostgreSQL connection idle longer than this is tried before it is handed out (the server may
#: have been restarted, or a firewall dropped it). One used within it is not: a ping on every checkout was
#: a round trip on every search (~0.35 ms of an exact plate's ~10 at 10M reads).
PING_AFTER_IDLE_S = 30.0


def _pg_checked_in(_dbapi: Any, record: Any) -> None:
    record.info["idle_since"] = time.monotonic()


def _pg_ping_if_idle(dbapi: Any, record: Any, _proxy: Any) -> None:
    since = record.info.get("idle_since")
    if since is None or time.monotonic() - since < PING_AFTER_IDLE_S:
        return
    try:
        dbapi.execute("SELECT 1")
        dbapi.rollback()
    except Exception as exc:  # any failure: the pool drops this connection and opens another
        raise sa.exc.DisconnectionError(str(exc)) from exc


_PG_RETRY = {"40001", "40P01"}  # serialization_failure, deadlock_detected


def _driver_error(exc: BaseException) -> bool:
    """An error the database driver raised itself (a raw cursor's: COPY), not wrapped by SQLAlchemy."""
    return isinstance(exc, sqlite3.Error) or type(exc).__module__.split(".")[0] == "psycopg"


def _refused(exc: Exception, what: str) -> StoreError:
    """The store's error for a driver's: :class:`StoreBusy` when SQLite's wait ran out, which says to retry;
    otherwise the driver error's kind only (its text could carry a query's parameters)."""
    cause = getattr(exc, "orig", None) or exc
    if isinstance(cause, sqlite3.OperationalError) and any(w in str(cause) for w in _BUSY_WORDS):
        return StoreBusy(BUSY_MESSAGE)
    if getattr(cause, "sqlstate", None) in _PG_RETRY:
        # PostgreSQL chose this transaction to undo (two writers locking the same rows in turn): it rolled
        # back whole, and running it again succeeds.
        return StoreBusy(BUSY_MESSAGE)
    return StoreError(f"{what} ({type(cause).__name__})")


def _private_file(path: Path) -> None:
    """The database file's folder (0700 when made here) and the file itself, made readable by its owner
    only before SQLite opens it: SQLite gives its write-ahead log and shared-memory files the same mode."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if not path.exists():
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))


def mask_url(url: str | sa.URL) -> str:
    """A database URL with any password replaced by ``***``."""
    return sa.make_url(url).render_as_string(hide_password=True)


def _sqlite_pragmas(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # First: every statement after it (the journal mode's too) waits for a writer instead of failing.
    cur.execute(f"PRAGMA busy_timeout={BUSY_WAIT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Destroyed reads must not stay readable in free pages of the file (retention policy).
    cur.execute("PRAGMA secure_delete=ON")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MiB
    # Read pages straight from the operating system's cache, without a copy per page: searches that
    # touch new parts of the file (a new scene, a new plate) pay far less for it.
    cur.execute("PRAGMA mmap_size=8589934592")  # 8 GiB of address space, not of memory
    cur.close()


def _sqlite_own_begin(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
    # The driver's own BEGIN is turned off: _sqlite_begin says how each transaction starts.
    dbapi_conn.isolation_level = None


def _sqlite_begin(conn: Connection) -> None:
    """Writing transactions take SQLite's write lock at BEGIN (IMMEDIATE), reading ones do not.

    A deferred writer that read first (the audit log's last hash) could not take the lock
    after another writer committed (SQLITE_BUSY_SNAPSHOT); an immediate one waits its turn,
    so concurrent audit appends queue instead of failing, and never fork the hash chain.
    """
    conn.exec_driver_sql("BEGIN" if conn.get_execution_options().get("readonly") else "BEGIN IMMEDIATE")


class Store:
    """A handle on one workbench database.

    ``url`` is an SQLAlchemy URL: ``sqlite:///path/to/workbench.db`` (the default
    engine), ``sqlite://`` (in memory, for tests) or ``postgresql+psycopg://...``.

    An SQLite file that does not exist is an error unless ``create`` is true, so that a
    mistyped path is reported rather than silently made into a new, empty database.

    ``keys`` is the folder of the department's signing keys (:class:`~alpr_lib.keys.KeyRing`): the audit
    entries written through this store are signed with the key the database names. A store opened without
    it writes no entry to a database that has a key (:class:`~alpr_lib.errors.KeyUnavailable`).

    The store sits *below* the audited door: only ``alpr_lib.access``, ``ingest``,
    ``retention`` and friends hold one.
    """

    def __init__(self, url: str | sa.URL, *, create: bool = False, keys: KeyRing | None = None) -> None:
        try:
            self.url = sa.make_url(url)
        except (SQLAlchemyError, ValueError) as exc:
            raise StoreError(f"not a database URL: {exc}") from exc
        if self.url.get_backend_name() not in ("sqlite", "postgresql"):
            raise StoreError(
                "the workbench runs on SQLite (sqlite:///PATH) or PostgreSQL (postgresql+psycopg://...), "
                f"not {self.url.get_backend_name()!r}"
            )
        if not create and self.url.get_backend_name() == "sqlite":
            path = self.url.database
            if path and path != ":memory:" and not Path(path).expanduser().exists():
                raise StoreError(
                    f"there is no database at {path}; create one with `workbench init` or `workbench demo`"
                )
        try:
            self.engine: Engine = self._create_engine()
        except (SQLAlchemyError, ValueError) as exc:
            raise StoreError(f"cannot open the database {mask_url(self.url)}: {exc}") from exc
        self._trigram: bool | None = None
        self.keys = keys
        if keys is not None:
            attach_keys(self.engine, keys)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def sqlite_path(self) -> Path | None:
        """The database file of an SQLite store, None for in-memory or other engines."""
        if not self.is_sqlite or not self.url.database or self.url.database == ":memory:":
            return None
        return Path(self.url.database)

    def _create_engine(self) -> Engine:
        if self.url.get_backend_name() == "sqlite":
            path = self.url.database
            if path and path != ":memory:":
                file = Path(path).expanduser()
                _private_file(file)
                engine = sa.create_engine(self.url)
                # Made private again whenever a connection would create it anew (a demo replaces the file).
                event.listen(engine, "do_connect", lambda *_args: _private_file(file))
                event.listen(engine, "connect", _sqlite_own_begin)
                event.listen(engine, "begin", _sqlite_begin)
            else:
                # One shared connection, or every connection would see its own empty database.
                engine = sa.create_engine(
                    self.url, poolclass=StaticPool, connect_args={"check_same_thread": False}
                )
            event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        # The door's queries are small and index-driven: JIT compilation (tens of ms whenever a plan's
        # estimated cost passes jit_above_cost) costs more than it saves. Measured on 10M reads, a 638-read
        # partial pattern: 65 ms with JIT, 23 ms without. Planning a query over 30 day partitions takes
        # ~5 ms, more than running it: statements are prepared at once and keep one generic plan (partitions
        # pruned when it runs). Measured on 10M reads, an exact plate through the door: 8.7 -> 4.2 ms.
        # Prepared statements and their plans belong to one connection: the pool hands out the one used last
        # (LIFO), so a door's searches keep finding their plans ready instead of planning each statement
        # again on every pooled connection in turn (~15 ms each over 30 partitions).
        engine = sa.create_engine(
            self.url,
            pool_use_lifo=True,
            connect_args={
                "options": "-c jit=off -c plan_cache_mode=force_generic_plan",
                "prepare_threshold": 0,
            },
        )
        event.listen(engine, "checkin", _pg_checked_in)
        event.listen(engine, "checkout", _pg_ping_if_idle)
        return engine

    @property
    def plate_index(self) -> PlateIndex:
        """The distinct plates in memory for pattern and fuzzy search (built on first use)."""
        index = self.__dict__.get("_plate_index")
        if index is None:
            index = self.__dict__["_plate_index"] = PlateIndex()
        return index

    def has_trigram_index(self, conn: Connection) -> bool:
        """True when the plates carry the trigram index (PostgreSQL with ``pg_trgm``, migration 0008); asked
        of the database once, on the caller's connection."""
        if self._trigram is None:
            self._trigram = self.dialect == "postgresql" and (
                conn.execute(
                    sa.text("SELECT 1 FROM pg_indexes WHERE indexname = :name"), {"name": s.TRIGRAM_INDEX}
                ).first()
                is not None
            )
        return self._trigram

    def dispose(self) -> None:
        """Close every pooled connection (the store can still be used afterwards)."""
        self.engine.dispose()

    # -- transactions -------------------------------------------------------------------------

    @contextlib.contextmanager
    def atomic(self) -> Iterator[Connection]:
        """One transaction: committed when the block ends, rolled back on any error.

        Driver errors are raised as :class:`StoreError` with the cause chained. On SQLite the write lock is
        taken at BEGIN; when another job held it past the wait, BEGIN is tried again a few times (nothing
        has run yet) before :class:`StoreBusy` says to try later.
        """
        try:
            with contextlib.ExitStack() as stack:
                conn = self._begin(stack)
                yield conn
        except SQLAlchemyError as exc:
            raise _refused(exc, "the database refused the operation") from exc
        except Exception as exc:
            if _driver_error(exc):
                raise _refused(exc, "the database refused the operation") from exc
            raise

    def _begin(self, stack: contextlib.ExitStack[Any]) -> Connection:
        for attempt in range(BEGIN_TRIES):
            try:
                return stack.enter_context(self.engine.begin())
            except sa.exc.OperationalError as exc:
                if attempt == BEGIN_TRIES - 1 or not isinstance(_refused(exc, ""), StoreBusy):
                    raise
                time.sleep(0.05 * (attempt + 1))
        raise AssertionError("unreachable")

    def retrying(self, work: Callable[[], T], *, attempts: int = 4) -> T:
        """``work()`` (which opens its own transactions), run again when SQLite's wait for the write lock ran
        out (:class:`StoreBusy`: the transaction was rolled back whole, so running it again is safe), up to
        ``attempts`` times; then the busy error stands."""
        for attempt in range(attempts):
            try:
                return work()
            except StoreBusy:
                if attempt == attempts - 1:
                    raise
                time.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")

    def yield_to_waiters(self) -> None:
        """Between two write transactions of a long job (an import's batches, a purge's): on SQLite, leave
        the write lock free long enough for every connection waiting on it to see it free — SQLite's waiters
        poll every 100 ms at most, and a writer that begins again at once would starve them."""
        if self.sqlite_path() is not None:
            time.sleep(YIELD_S)

    @contextlib.contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reading (no commit)."""
        try:
            with self.engine.connect().execution_options(readonly=True) as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise _refused(exc, "the database could not be read") from exc

    # -- schema -------------------------------------------------------------------------------

    def migrate(self, revision: str = "head") -> None:
        """Bring the schema to ``revision`` with the Alembic migrations shipped in the package."""
        from alembic import command
        from alembic.config import Config

        cfg = Config()
        cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
        try:
            with self.engine.begin() as conn:
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, revision)
            self._trigram = None
        except SQLAlchemyError as exc:
            raise StoreError(f"the database could not be migrated: {exc.__class__.__name__}") from exc

    def revision(self) -> str | None:
        """The schema revision the database is at, None when it has no schema yet."""
        with self.read() as conn:
            if not sa.inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar()

    def has_schema(self) -> bool:
        return self.revision() is not None

    def drop_everything(self) -> None:
        """Drop every table (used to rebuild a synthetic database; callers check it is one)."""
        with self.atomic() as conn:
            s.Base.metadata.drop_all(conn)
            conn.execute(sa.text("DROP TABLE IF EXISTS alembic_version"))

    # -- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.read() as conn:
            value = conn.execute(sa.select(s.Meta.value).where(s.Meta.key == key)).scalar()
        return default if value is None else value

    def set_meta(self, conn: Connection, key: str, value: str) -> None:
        set_meta_value(conn, key, value)

    def is_synthetic(self) -> bool:
        """True when the database holds the synthetic city, not real reads."""
        return self.get_meta("synthetic") == "true"

    # -- bulk loading -------------------------------------------------------------------------

    @contextlib.contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Load many reads into an *empty* reads table fast: secondary indexes are built at the end.

        On a table that already holds reads this does nothing special: dropping indexes
        under a live database would slow every query.
        """
        with self.read() as conn:
            empty = conn.execute(sa.select(s.Read.id).limit(1)).first() is None
        if not empty:
            yield
            return
        indexes = [ix for ix in s.Read.__table__.indexes if ix.name in _BULK_LOAD_INDEXES]
        with self.atomic() as conn:
            for ix in indexes:
                ix.drop(conn, checkfirst=True)
        try:
            yield
        finally:
            with self.atomic() as conn:
                for ix in indexes:
                    ix.create(conn, checkfirst=True)
            self.analyze()

    def analyze(self) -> None:
        """Refresh the query planner's statistics after a large change (a load, an import, a purge): without
        them PostgreSQL plans a canvass or convoy on a freshly loaded table 5-15x slower."""
        # Outside a transaction each table is analysed in its own: no lock held on one table while waiting
        # for another (a purge dropping a day of reads meanwhile would deadlock with it).
        with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("ANALYZE")

    # -- facts --------------------------------------------------------------------------------

    def info(self) -> dict[str, Any]:
        """Counts, the time range of the reads and the database URL (without secrets)."""
        with self.read() as conn:
            count = lambda table: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()  # noqa: E731
            first, last = conn.execute(sa.select(sa.func.min(s.Read.ts), sa.func.max(s.Read.ts))).one()
            by_role = dict(
                conn.execute(
                    sa.select(s.Role.name, sa.func.count(s.User.id))
                    .select_from(s.Role)
                    .join(s.User, s.User.role_id == s.Role.id, isouter=True)
                    .group_by(s.Role.name)
                ).all()
            )
            cameras_by_kind = dict(
                conn.execute(sa.select(s.Camera.kind, sa.func.count()).group_by(s.Camera.kind)).all()
            )
            meta = dict(conn.execute(sa.select(s.Meta.key, s.Meta.value)).all())
            info: dict[str, Any] = {
                "reads": count(s.Read),
                "plates": count(s.Plate),
                "cameras": count(s.Camera),
                "users": count(s.User),
                "users_by_role": {role: by_role.get(role, 0) for role in s.ROLES},
                "cameras_by_kind": cameras_by_kind,
                "hotlist_entries": count(s.HotlistEntry),
                "alerts": count(s.Alert),
                "audit_entries": count(s.AuditEntry),
                "first_read": _iso(first),
                "last_read": _iso(last),
                "synthetic": meta.get("synthetic") == "true",
                "database": mask_url(self.url),
                "engine": self.dialect,
                "schema_revision": self.revision(),
            }
        return info

    # -- backup -------------------------------------------------------------------------------

    def backup(self, dest: Path, progress: Callable[[int], None] | None = None) -> Path:
        """A consistent online copy of the store at ``dest``: an SQLite file that opens with ``--db``.

        Readers and writers may keep working while the copy is made. An SQLite store is copied with
        SQLite's backup API; a PostgreSQL one row by row from one snapshot of the whole database (a
        read-only repeatable-read transaction) into a new SQLite file at the same schema revision, with
        ``progress`` told how many rows each batch added. ``dest`` must not exist; a copy that fails
        leaves nothing behind.
        """
        dest = dest.expanduser()
        if dest.exists():
            raise StoreError(f"{dest} already exists; choose a new file name for the backup")
        # Written aside and renamed when whole: a killed backup leaves no file that looks like one, and
        # running it again starts afresh.
        partial = dest.with_name(dest.name + ".partial")
        leftovers = [partial.with_name(partial.name + end) for end in ("", "-wal", "-shm", "-journal")]
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            for path in leftovers:
                path.unlink(missing_ok=True)
            if self.dialect == "postgresql":
                self._snapshot_to_sqlite(partial, progress)
            else:
                self._sqlite_backup(partial)
            partial.rename(dest)
        except BaseException as exc:
            for path in leftovers:
                with contextlib.suppress(OSError):
                    path.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise StoreError(f"cannot write the backup at {dest}: {exc.strerror or exc}") from exc
            raise
        return dest

    def _sqlite_backup(self, dest: Path) -> None:
        if self.sqlite_path() is None:
            raise StoreError("an in-memory database cannot be backed up; back up a database file")
        raw = self.engine.raw_connection()
        try:
            target = sqlite3.connect(dest)
            try:
                driver = raw.driver_connection
                assert isinstance(driver, sqlite3.Connection)
                driver.backup(target)
                # A backup is one self-contained file: no -wal sidecar to forget when copying it.
                target.execute("PRAGMA journal_mode=DELETE")
            finally:
                target.close()
        except sqlite3.Error as exc:
            raise StoreError(f"the backup failed ({type(exc).__name__}); nothing was written") from exc
        finally:
            raw.close()

    def _snapshot_to_sqlite(self, dest: Path, progress: Callable[[int], None] | None) -> None:
        copy = Store(f"sqlite:///{dest}", create=True)
        try:
            copy.migrate(self.revision() or "head")
            tables = s.Base.metadata.sorted_tables
            snapshot = self.engine.connect().execution_options(
                isolation_level="REPEATABLE READ", postgresql_readonly=True
            )
            with snapshot, copy.engine.connect() as out:
                # The copy holds what the database holds, as it is: references included as they stand. (On
                # the driver's own connection: SQLite ignores the pragma inside a transaction.)
                _driver(out).execute("PRAGMA foreign_keys=OFF")
                with snapshot.begin(), out.begin():
                    for table in reversed(tables):  # the roles the migrations seed come from the source
                        out.execute(table.delete())
                    for table in tables:
                        rows = snapshot.execution_options(yield_per=_BACKUP_BATCH).execute(sa.select(table))
                        for batch in rows.partitions():
                            out.execute(table.insert(), [row._asdict() for row in batch])
                            if progress is not None:
                                progress(len(batch))
                # One self-contained file, as an SQLite backup is.
                _driver(out).execute("PRAGMA journal_mode=DELETE")
        except (SQLAlchemyError, OSError) as exc:
            raise StoreError(f"the backup failed ({type(exc).__name__}); nothing was written") from exc
        finally:
            copy.dispose()


def _driver(conn: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under an SQLAlchemy one, for pragmas that must run outside a transaction."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, sqlite3.Connection)
    return driver


def _iso(ms: int | None) -> str | None:
    if ms is None:
        return None
    try:
        return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, ValueError, OSError):  # a read stored before times were checked at import
        return f"out of range ({ms} ms since 1970)"


def dumps_canonical(value: Any) -> str:
    """JSON with sorted keys and no spaces: the form hashed and stored in the audit log."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
