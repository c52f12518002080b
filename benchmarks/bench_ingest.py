"""How fast a synthetic city is built and loaded, against a naive row-by-row load.

    python benchmarks/bench_ingest.py [--reads 1000000] [--naive-sample 50000]

Prints: generation time, our bulk load (indexes built once at the end, batched
executemany), and the naive baseline measured in the same run (ORM objects added one
by one with every index in place) on a sample, as reads per second.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from alpr_lib.access import build_demo
from alpr_lib.ingest import load_city
from alpr_lib.store import Store
from alpr_lib.store import schema as s
from alpr_lib.store.writes import ensure_cameras, ensure_plates
from alpr_lib.synth import CityConfig, generate


def naive_load(store: Store, city_reads: pl.DataFrame, cameras: pl.DataFrame) -> None:
    with store.atomic() as conn:
        cam_ids = ensure_cameras(conn, cameras.to_dicts())
        plate_ids = ensure_plates(conn, city_reads.select("plate", "state"))
    ids = {(r["plate"], r["state"]): r["plate_id"] for r in plate_ids.iter_rows(named=True)}
    with Session(store.engine) as session:
        for r in city_reads.iter_rows(named=True):
            session.add(
                s.Read(
                    plate_id=ids[(r["plate"], r["state"])],
                    raw=r["raw"],
                    confidence=r["confidence"],
                    ts=r["ts"],
                    camera_id=cam_ids[r["camera"]],
                    lat=r["lat"],
                    lon=r["lon"],
                    source_id=r["source_id"],
                )
            )
        session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--naive-sample", type=int, default=50_000)
    args = parser.parse_args()
    start = dt.date(2026, 11, 1)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        city = generate(CityConfig(reads=args.reads, seed=7, start=start))
        t_gen = time.perf_counter() - t0

        store = Store(f"sqlite:///{Path(tmp) / 'ours.db'}", create=True)
        store.migrate()
        t0 = time.perf_counter()
        load_city(store, city)
        t_load = time.perf_counter() - t0

        sample = city.reads.head(args.naive_sample)
        naive = Store(f"sqlite:///{Path(tmp) / 'naive.db'}", create=True)
        naive.migrate()
        t0 = time.perf_counter()
        naive_load(naive, sample, city.cameras)
        t_naive = time.perf_counter() - t0

        t0 = time.perf_counter()
        build_demo(
            Store(f"sqlite:///{Path(tmp) / 'demo.db'}", create=True),
            reads=args.reads,
            seed=7,
            password="benchmark-password-2026",
            start=start,
        )
        t_demo = time.perf_counter() - t0

    ours_rate = args.reads / t_load
    naive_rate = args.naive_sample / t_naive
    print(f"reads                         {args.reads:>12,}")
    print(f"generate the city             {t_gen:>10.1f} s")
    print(f"bulk load (ours)              {t_load:>10.1f} s   {ours_rate:>10,.0f} reads/s")
    print(f"naive ORM load, {args.naive_sample:,} sample  {t_naive:>7.1f} s   {naive_rate:>10,.0f} reads/s")
    print(f"speed-up                      {ours_rate / naive_rate:>10.1f} x")
    print(f"workbench demo end to end     {t_demo:>10.1f} s")


if __name__ == "__main__":
    main()
