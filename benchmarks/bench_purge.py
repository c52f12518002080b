"""Retention on PostgreSQL: an expired day dropped as a partition, beside deleting the same day in batches.

    python benchmarks/bench_purge.py --db postgresql+psycopg://postgres@127.0.0.1:55440/purge [--per-day N]

``--db`` names an empty PostgreSQL database (it is filled with synthetic reads: four days of ``--per-day``
reads, about 10M reads a month's worth a day by default). Two purges, each destroying one whole day:

* ours: the day's partition is dropped (``retention.purge`` on a day no hold touches);
* baseline, in the same run: the next day destroyed by the purge's batched DELETE, the path it takes for a
  day that holds a kept read (and the only one SQLite has).

Both include everything the purge does for a day (journal of files, destruction record, orphan plates,
VACUUM (ANALYZE)); the drop's own transaction is also timed alone. Record the figures in RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time

import numpy as np
import polars as pl
import sqlalchemy as sa

from alpr_lib import retention
from alpr_lib.store import Store, partitions
from alpr_lib.store.writes import READ_COLUMNS, ensure_cameras, ensure_plates, insert_reads

DAY0 = dt.datetime(2026, 10, 1, tzinfo=dt.UTC)


def fill(store: Store, days: int, per_day: int) -> None:
    rng = np.random.default_rng(7)
    letters = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"))
    plates = pl.DataFrame(
        {
            "plate": [
                "".join(rng.choice(letters, 3)) + f"{n:04d}" for n in rng.integers(0, 10_000, per_day // 20)
            ],
            "state": "OR",
        }
    ).unique()
    with store.atomic() as conn:
        cams = ensure_cameras(conn, [{"name": f"CAM-{i:03d}", "lat": 44.0, "lon": -123.0} for i in range(60)])
        ids = ensure_plates(conn, plates)["plate_id"].to_numpy()
    for day in range(days):
        n = per_day
        first = int(DAY0.timestamp() * 1000) + day * partitions.DAY_MS
        ts = first + np.sort(rng.integers(0, partitions.DAY_MS, n))
        frame = pl.DataFrame(
            {
                "plate_id": rng.choice(ids, n),
                "raw": "X",
                "confidence": rng.random(n),
                "ts": ts,
                "camera_id": rng.choice(list(cams.values()), n),
                "lat": 44.0 + rng.random(n) / 100,
                "lon": -123.0 + rng.random(n) / 100,
                "image_path": pl.Series([None] * n, dtype=pl.String),
                "crop_path": pl.Series([None] * n, dtype=pl.String),
                "source_id": [f"bench-{day}-{i}" for i in range(n)],
            }
        ).select(READ_COLUMNS)
        with store.atomic() as conn:
            insert_reads(conn, frame)
        print(f"  day {day}: {n:,} reads", flush=True)
    store.analyze()


def purge_day(store: Store, day: int, *, drop: bool) -> tuple[float, dict[str, object]]:
    """Purge up to the end of ``day`` (30 days' retention), by dropping the day's partition or in batches."""
    now = DAY0 + dt.timedelta(days=day + 1 + 30)
    original = retention._drop_day
    spent: list[float] = []

    def timed_drop(store: Store, day: int) -> object:
        t0 = time.perf_counter()
        try:
            return original(store, day)
        finally:
            spent.append(time.perf_counter() - t0)

    retention._drop_day = timed_drop if drop else (lambda store, day: None)  # type: ignore[assignment]
    try:
        t0 = time.perf_counter()
        report = retention.purge(store, now=now, retention_days=30, ran_by="benchmark")
        return time.perf_counter() - t0, report.as_dict() | {"drop_s": sum(spent)}
    finally:
        retention._drop_day = original


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True, help="an empty PostgreSQL database")
    parser.add_argument("--per-day", type=int, default=333_000)
    args = parser.parse_args()
    store = Store(args.db, create=True)
    if store.dialect != "postgresql":
        parser.error("day partitions are PostgreSQL's: give a postgresql+psycopg:// URL")
    store.migrate()
    with store.read() as conn:
        if conn.execute(sa.text("SELECT count(*) FROM reads")).scalar_one():
            parser.error("the database already holds reads: give an empty one")
    print(f"filling 4 days x {args.per_day:,} reads ...", flush=True)
    fill(store, 4, args.per_day)

    ours, ours_report = purge_day(store, 0, drop=True)
    base, base_report = purge_day(store, 1, drop=False)
    destroyed = (ours_report["reads_destroyed"], base_report["reads_destroyed"])
    assert destroyed == (args.per_day, args.per_day), destroyed
    with store.read() as conn:
        left = partitions.partition_days(conn)
    print(f"\nreads per day                       {args.per_day:>10,}")
    print(f"purge of a day, partition dropped   {ours * 1000:>10.0f} ms   (days left: {len(left)})")
    print(f"  of which the drop's transaction   {ours_report['drop_s'] * 1000:>10.0f} ms")
    print(f"purge of a day, batched DELETE      {base * 1000:>10.0f} ms")
    print(f"speed-up                            {base / ours:>10.1f} x")


if __name__ == "__main__":
    main()
