"""What the audited door costs a query, against the same query run with no door.

    python benchmarks/bench_audit.py [--reads 200000] [--queries 400]

Builds a demo city (``workbench demo``'s synthetic data) in a temporary SQLite file and,
for the same random plates in interleaved order, times:

* the naive baseline: the exact-plate query alone (plate ids, then their reads) on a
  plain connection — no gate, no audit;
* the door: ``AccessSession.search_plate`` — session and account check, role, purpose and
  case, training record, the same query, and the hash-chained audit entry signed with the
  department's key (Ed25519), committed in one transaction.

Prints the median and 95th percentile of each and the median difference, which the
issue bounds at 1 ms; then what the key costs: one signature alone, and ``audit verify``
walking the whole log (hashes and signatures) per entry.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from alpr_lib import keys
from alpr_lib.access import build_demo, login
from alpr_lib.keys import KeyRing
from alpr_lib.store import Store
from alpr_lib.store import queries as q
from alpr_lib.store import schema as s

PASSWORD = "synthetic-demo-pass-2026"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reads", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'bench.db'}", create=True, keys=KeyRing(Path(tmp) / "keys"))
        started = time.perf_counter()
        build_demo(store, reads=args.reads, seed=args.seed, password=PASSWORD, start=dt.date(2026, 10, 1))
        print(f"demo city of {args.reads:,} reads built in {time.perf_counter() - started:.1f} s")

        with store.read() as conn:
            plates = list(conn.execute(sa.select(s.Plate.plate).distinct()).scalars())
        rng = random.Random(args.seed)
        sample = [rng.choice(plates) for _ in range(args.queries)]
        session = login(store, "analyst", PASSWORD)
        session.set_purpose("investigation", case="26-01234", reason="benchmark of the audited door")

        def naive(plate: str) -> int:
            with store.read() as conn:
                return q.fetch_reads(conn, q.plate_ids(conn, plate), limit=10_001).height

        def door(plate: str) -> int:
            return session.search_plate(plate).count

        for plate in sample[:20]:  # warm the caches of both paths
            naive(plate)
            door(plate)
        times: dict[str, list[float]] = {"naive": [], "door": []}
        rows = 0
        for i, plate in enumerate(sample):
            order = (("naive", naive), ("door", door)) if i % 2 else (("door", door), ("naive", naive))
            for name, fn in order:
                t0 = time.perf_counter()
                rows = fn(plate)
                times[name].append((time.perf_counter() - t0) * 1000)
        del rows

        with store.read() as conn:
            entries = conn.execute(sa.select(sa.func.count()).select_from(s.AuditEntry)).scalar_one()
        print(f"{args.queries} exact-plate queries, each path; audit log now {entries:,} entries")
        print(f"{'path':<44}{'median ms':>10}{'p95 ms':>10}")
        for name, label in (
            ("naive", "naive baseline: the query alone"),
            ("door", "through the door (gate + signed audit)"),
        ):
            print(f"{label:<44}{statistics.median(times[name]):>10.3f}{percentile(times[name], 0.95):>10.3f}")
        paired = [d - n for d, n in zip(times["door"], times["naive"], strict=True)]
        print(f"{'door minus baseline, median of pairs':<44}{statistics.median(paired):>10.3f}")

        private = Ed25519PrivateKey.generate()
        t0 = time.perf_counter()
        for i in range(2000):
            keys.sign(private, "audit", f"{i:064x}".encode())
        print(f"{'one Ed25519 signature of an entry':<44}{(time.perf_counter() - t0) / 2000 * 1000:>10.3f}")
        supervisor = login(store, "supervisor", PASSWORD)
        t0 = time.perf_counter()
        report, _ = supervisor.verify_audit()
        spent = time.perf_counter() - t0
        assert report.ok and report.signed == report.rows
        print(f"audit verify: {report.rows:,} entries, every one signed, in {spent:.2f} s "
              f"({spent / report.rows * 1e6:.0f} µs an entry)")  # fmt: skip


if __name__ == "__main__":
    main()
