"""Partial plates on PostgreSQL: distinct plates matched in memory, beside a trigram index and a plain scan.

    python benchmarks/bench_trigram.py --db postgresql+psycopg://postgres@127.0.0.1:55440/city10m [--runs 15]

``--db`` names a PostgreSQL database holding a synthetic city (``bench_analytics.py --db`` builds one). The
workbench matches partial patterns against the distinct plates held in memory (``store/plate_index.py``:
a byte matrix narrowed by the pattern's longest known run, then the pattern's regular expression). A trigram
index on ``plates.plate`` (``pg_trgm``) is the way to do it inside the database — what a statewide
deployment needs once the distinct plates no longer fit a dashboard server's memory. Times, per pattern,
the median of ``--runs``:

* ours: the in-memory match (index already loaded, as in a running workbench);
* trigram: ``plate ~ regex`` answered with the GIN trigram index (migration 0008), created by this script if
  missing and then dropped at the end unless ``--keep``;
* scan: the same query with index scans disabled (the baseline).

Only the matching of plates is timed here — fetching their reads is the same for all three.
"""

from __future__ import annotations

import argparse
import statistics
import time

import sqlalchemy as sa

from alpr_lib.analytics.search import match_pattern
from alpr_lib.matching import compile_pattern
from alpr_lib.store import Store

# Patterns investigators type: witnesses' fragments with a literal run (trigram-friendly) and without.
PATTERNS = ["7X2*", "*K4?9", "AB?1*", "*123*", "[BR]8?4*", "*7?9*"]


def median_ms(fn, runs: int) -> tuple[float, int]:
    found = fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times), found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the trigram index")
    args = parser.parse_args()
    store = Store(args.db)
    if store.dialect != "postgresql":
        parser.error("give a postgresql+psycopg:// URL")
    with store.atomic() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        had = conn.exec_driver_sql("SELECT to_regclass('ix_plates_plate_trgm')").scalar() is not None
        t0 = time.perf_counter()
        conn.exec_driver_sql(
            "CREATE INDEX IF NOT EXISTS ix_plates_plate_trgm ON plates USING gin (plate gin_trgm_ops)"
        )
        built = time.perf_counter() - t0
        conn.exec_driver_sql("ANALYZE plates")
        plates_n = conn.execute(sa.text("SELECT count(*) FROM plates")).scalar_one()
        size = conn.execute(sa.text("SELECT pg_relation_size('ix_plates_plate_trgm')")).scalar_one()
    made = "already there" if had else f"built in {built:.1f} s"
    print(f"{plates_n:,} distinct plates; trigram index {size / 2**20:.1f} MiB, {made}\n")
    print(f"{'pattern':<12} {'plates':>7} {'ours ms':>9} {'trigram ms':>11} {'scan ms':>9}")
    query = sa.text("SELECT id FROM plates WHERE plate ~ :regex")
    scan_query = sa.text("SELECT id FROM plates AS scanned WHERE plate ~ :regex")
    with store.read() as conn:
        frame, codes = store.plate_index.codes(conn)
        for text in PATTERNS:
            pattern = compile_pattern(text)
            regex = pattern.regex
            ours, n_ours = median_ms(lambda p=pattern: match_pattern(frame, p, None, codes).height, args.runs)
            count = lambda r=regex: len(conn.execute(query, {"regex": r}).all())  # noqa: E731
            trigram, n_trgm = median_ms(count, args.runs)
            # Another statement's text: the workbench's connections keep one prepared plan per statement.
            conn.exec_driver_sql("SET enable_bitmapscan = off")
            conn.exec_driver_sql("SET enable_indexscan = off")
            conn.exec_driver_sql("SET enable_indexonlyscan = off")
            scanned = lambda r=regex: len(conn.execute(scan_query, {"regex": r}).all())  # noqa: E731
            scan, n_scan = median_ms(scanned, args.runs)
            conn.exec_driver_sql("RESET enable_bitmapscan")
            conn.exec_driver_sql("RESET enable_indexscan")
            conn.exec_driver_sql("RESET enable_indexonlyscan")
            assert n_ours == n_trgm == n_scan, (text, n_ours, n_trgm, n_scan)
            print(f"{text:<12} {n_ours:>7,} {ours:>9.2f} {trigram:>11.2f} {scan:>9.2f}")
    if not (args.keep or had):
        with store.atomic() as conn:
            conn.exec_driver_sql("DROP INDEX ix_plates_plate_trgm")


if __name__ == "__main__":
    main()
