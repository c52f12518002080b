"""Day partitions of ``reads`` on PostgreSQL: retention drops a whole day instead of deleting its rows.

On PostgreSQL ``reads`` is range-partitioned by ``ts`` (UTC epoch milliseconds), one partition per UTC
day, named ``reads_dYYYYMMDD`` (migration 0007). Partitions are made on demand by the bulk insert, just
before the rows that need them arrive, and dropped by the purge when every read in them has expired and no
hold keeps one. Both go through two functions the migration creates as the schema's owner (``SECURITY
DEFINER``): the application role owns no table, yet attaching and detaching a partition needs the owner.

* ``reads_add_day(day)`` creates the day's table and attaches it (``ATTACH`` takes a lock that lets
  searches and other imports go on; ``CREATE TABLE … PARTITION OF`` would stop them);
* ``reads_drop_day(day)`` detaches and drops it.

Beside the partitions, ``plate_days`` (migration 0016) holds the days each plate was read on, kept by the
database itself (triggers on ``reads`` note a plate's day at an insert and forget it when the plate's last
read of that day is deleted; ``reads_drop_day`` forgets a dropped day): a search led
by plates looks in those days' partitions only — a plate is read on 4.5 of a month's 31 days on average in
the demo city — instead of descending every day's plate index (:data:`PLATE_DAYS`).

``day`` is the number of whole UTC days since 1970-01-01. SQLite has no partitions: there the purge deletes
rows in batches, which is fast enough for what one analyst's file holds.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy import Connection

__all__ = [
    "DAY_MS",
    "PLATE_DAYS",
    "add_days",
    "day_bounds",
    "day_of",
    "partition_days",
    "partition_name",
    "partitioned",
]

#: Milliseconds in a UTC day: a partition's width.
DAY_MS = 86_400_000
_EPOCH = dt.date(1970, 1, 1)

#: The days each plate was read on (PostgreSQL's, beside the day partitions; not among the models, for
#: SQLite has none): ``day`` as :func:`day_of`. A row exactly for each plate and day with a read, no more:
#: that a plate was read on a day is data, and goes with the day's last read of it.
PLATE_DAYS = sa.Table(
    "plate_days",
    sa.MetaData(),
    sa.Column("plate_id", sa.BigInteger, primary_key=True),
    sa.Column("day", sa.Integer, primary_key=True),
)


def day_of(ts_ms: int) -> int:
    """The UTC day (days since 1970-01-01) a timestamp in epoch milliseconds falls on."""
    return ts_ms // DAY_MS


def day_bounds(day: int) -> tuple[int, int]:
    """The first millisecond of ``day`` and the first of the next (the partition's range)."""
    return day * DAY_MS, (day + 1) * DAY_MS


def partition_name(day: int) -> str:
    """``reads_d20261129`` for 2026-11-29."""
    return f"reads_d{(_EPOCH + dt.timedelta(days=day)):%Y%m%d}"


def partitioned(conn: Connection) -> bool:
    """True when ``reads`` is a partitioned table here (PostgreSQL at revision 0007 or later)."""
    if conn.dialect.name != "postgresql":
        return False
    kind = conn.exec_driver_sql("SELECT relkind FROM pg_class WHERE oid = to_regclass('reads')").scalar()
    return kind == "p"


def partition_days(conn: Connection) -> list[int]:
    """The days that have a partition, oldest first (their lower bounds read from the catalog)."""
    rows = conn.exec_driver_sql(
        "SELECT pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass('reads')"
    ).scalars()
    days = []
    for bound in rows:  # FOR VALUES FROM ('1795996800000') TO ('1796083200000')
        low = bound.split("FROM (", 1)[1].split(")", 1)[0].strip("'")
        days.append(day_of(int(low)))
    return sorted(days)


#: The advisory lock an importer holds from drawing new plates' ids until it commits (see
#: :func:`alpr_lib.store.writes.ensure_plates`); taken before a day is made too, so that two importers
#: always take the two locks in the same order.
PLATES_LOCK = 7_306_870_022


def add_days(conn: Connection, days: Iterable[int]) -> int:
    """Make sure every one of ``days`` has its partition; returns how many were created."""
    wanted = set(days) - set(partition_days(conn))
    if wanted:
        conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({PLATES_LOCK})")
    made = 0
    for day in sorted(wanted):
        made += bool(conn.exec_driver_sql("SELECT reads_add_day(%(day)s)", {"day": day}).scalar())
    return made
