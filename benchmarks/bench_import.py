"""What a vendor CSV import costs, and what it costs the members searching meanwhile.

    python benchmarks/bench_import.py [--rows 200000]

Two imports of the same file into fresh SQLite databases, in the same run:

* the baseline: the whole file written in one transaction (the write lock held from first row to last);
* the workbench's import: batches of ``ingest._BATCH`` rows, the write lock left free between batches
  (``Store.yield_to_waiters``) so that searches are not starved.

For each, a member searches without pause in a second thread; the figures are the import's rate and the
searches' latency while it ran (median, p95, worst), and how many searches failed. Then each import again
with nobody searching: what the batches and the pauses cost the import itself.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import tempfile
import threading
import time
from pathlib import Path

from alpr_lib.access import build_demo, login
from alpr_lib.ingest import _BATCH, import_csv
from alpr_lib.store import Store

PASSWORD = "benchmark-pass-2026"
WHY = {"purpose": "training", "reason": "import benchmark"}


def _csv(path: Path, rows: int) -> Path:
    start = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    lines = ["plate,state,camera,ts,lat,lon,confidence,source_id"]
    lines += [
        f"IMP{i % 9973:04d},OR,VENDOR-{i % 9},{(start + dt.timedelta(seconds=i)).isoformat()},"
        f"43.97,-124.1,0.9,v-{i}"
        for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def _run(folder: Path, csv: Path, batch: int, label: str, *, searching: bool = True) -> None:
    store = Store(f"sqlite:///{folder / (label.split(':')[0] + str(searching) + '.db')}", create=True)
    build_demo(store, reads=20_000, seed=3, password=PASSWORD, start=dt.date(2026, 10, 1))
    member = login(store, "analyst", PASSWORD)
    latencies: list[float] = []
    failures = 0
    running = threading.Event()
    running.set()

    def search() -> None:
        nonlocal failures
        while running.is_set():
            began = time.perf_counter()
            try:
                member.search_plate("IMP0042", **WHY)
            except Exception:  # noqa: BLE001 - a failed search is what is counted
                failures += 1
            latencies.append((time.perf_counter() - began) * 1000)

    searcher = threading.Thread(target=search)
    if searching:
        searcher.start()
    began = time.perf_counter()
    report = import_csv(store, csv, batch_size=batch)
    took = time.perf_counter() - began
    running.clear()
    if not searching:
        print(f"| {label}, nobody searching | {report.imported:,} | {took:.1f} s | "
              f"{report.imported / took:,.0f} rows/s | | | | | |")  # fmt: skip
        store.dispose()
        return
    searcher.join()
    cuts = statistics.quantiles(latencies, n=20) if len(latencies) > 1 else latencies * 19
    print(
        f"| {label} | {report.imported:,} | {took:.1f} s | {report.imported / took:,.0f} rows/s | "
        f"{len(latencies):,} | {statistics.median(latencies):.1f} | {cuts[18]:.1f} | {max(latencies):.0f} | "
        f"{failures} |"
    )
    store.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        csv = _csv(folder / "vendor.csv", args.rows)
        print("| import | rows | time | rate | searches meanwhile | median ms | p95 ms | worst ms | failed |")
        print("|---|---|---|---|---|---|---|---|---|")
        _run(folder, csv, args.rows, "baseline: one transaction")
        _run(folder, csv, _BATCH, f"workbench: {_BATCH:,}-row batches, lock yielded")
        _run(folder, csv, args.rows, "baseline", searching=False)
        _run(folder, csv, _BATCH, "workbench", searching=False)


if __name__ == "__main__":
    main()
