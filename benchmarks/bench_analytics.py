"""Search and analytics through the audited door on a large synthetic city, beside naive baselines.

    python benchmarks/bench_analytics.py [--reads 10000000] [--runs 7] [--db sqlite:///... | postgresql+psycopg://...]
        [--only "partial pattern,exact plate"]

``--db`` names an existing demo database, or an empty PostgreSQL database to build the city in. Beyond 10M
reads the city grows by earlier 30-day months of 10M reads each (the demo month stays the latest), generated
and loaded one at a time.

Builds (once, then reuses from ``benchmarks/.data/``) a synthetic city of ``--reads`` reads and
times each operation through ``AccessSession`` in-process — gate, query, analysis and the audit
entry — and through the door client a notebook kernel holds (``workbench door`` in its own process,
the request and the Arrow frames over its Unix socket), as the median of ``--runs`` runs on varied
inputs, after one warm-up. Beside each, a naive baseline measured in the same run, on the same inputs:

* exact plate, timeline: the plate found by a ``LIKE`` scan over every read (no index);
* partial pattern: a ``LIKE`` scan over every read with the pattern translated (``_``, ``%``);
* fuzzy: a pure-Python edit distance over every distinct plate's equivalence key;
* canvass, common plates: a scan of every read in the window with no index (``NOT INDEXED``)
  and the distance computed for each;
* convoy: one SQL self-join of the target's reads with all reads at the same camera;
* clones: every pair of each plate's reads in the day, in Python.

Retention is as a department's between two daily purges: the floor lies one day into the city, so every
search leaves out that day's reads and counts them ("N reads past retention not shown") — the retention
check is in every figure.

A peer is measured in the same run when DuckDB is installed (``pip install -e .[bench]``): the same city
copied into DuckDB in memory (2 threads, reads sorted by time), and the same inputs as raw SQL — no gate, no
audit, no retention count, just the rows (the retention floor applied). Convoy and clones have no peer query.

Prints a table with the issue's target for each operation (met through the client); record it in
RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import sqlalchemy as sa

from alpr_lib.access import Policy, build_demo, login
from alpr_lib.access.client import DoorClient
from alpr_lib.analytics import Scene
from alpr_lib.keys import KeyRing
from alpr_lib.plates import equivalence_key
from alpr_lib.store import Store
from alpr_lib.store.writes import ensure_cameras, ensure_plates, insert_reads
from alpr_lib.synth import CityConfig, generate
from workbench.config import load_settings

PASSWORD = "synthetic-demo-pass-2026"
HERE = Path(__file__).resolve().parent
TARGETS_MS = {
    "exact plate": 2,
    "partial pattern": 25,
    "fuzzy (1 edit)": 5,
    "canvass 500 m x 2 h": 10,
    "common plates, 3 scenes": 30,
    "timeline (~1,000 reads)": 20,
    "convoy, 30 days": 500,
    "clones, one day": None,
}


def timed(fn: Callable[[Any], Any], inputs: list[Any], warm: bool = True) -> float:
    if warm:
        fn(inputs[0])
    times = []
    for x in inputs:
        t0 = time.perf_counter()
        fn(x)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def like(pattern: str) -> str:
    if not any(c in pattern for c in "?*["):
        return f"%{pattern}%"
    return pattern.replace("?", "_").replace("*", "%")


#: The demo month; larger cities add earlier months of this many reads, one at a time (the generator holds a
#: month in memory: 50M reads at once needs more than this machine's 24 GiB).
START = dt.date(2026, 10, 1)
MONTH = 10_000_000


def add_earlier_month(store: Store, k: int, reads: int, seed: int) -> None:
    """Append the ``k``-th 30-day month before the demo month: same roads and cameras, another seed's
    traffic (its own plates, mostly), so the table grows at the demo's density per day."""
    city = generate(CityConfig(reads=reads, seed=seed + k, start=START - dt.timedelta(days=30 * k)))
    with store.atomic() as conn:
        camera_ids = ensure_cameras(conn, city.cameras.to_dicts())
        plate_ids = ensure_plates(conn, city.reads.select("plate", "state"))
    frame = city.reads.join(plate_ids, on=["plate", "state"], how="left").with_columns(
        camera_id=pl.col("camera").replace_strict(camera_ids, return_dtype=pl.Int64),
        image_path=pl.lit(None, pl.String),
        crop_path=pl.lit(None, pl.String),
    )
    for chunk in frame.iter_slices(200_000):
        with store.atomic() as conn:
            insert_reads(conn, chunk)
    store.analyze()
    print(f"  added month -{k}: {reads:,} reads", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reads", type=int, default=10_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--naive-runs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--db", default=None, help="An existing demo database to use instead of building one."
    )
    parser.add_argument(
        "--retention-days",
        type=int,
        default=None,
        help="The retention period (default: the floor one day into the city, as between two daily purges).",
    )
    parser.add_argument(
        "--only",
        default=None,
        help="Comma-separated operations to measure (names as in the table, e.g. 'partial pattern'); "
        "default: all.",
    )
    args = parser.parse_args()
    only = None if args.only is None else {name.strip() for name in args.only.split(",")}
    if only is not None and not only <= set(TARGETS_MS):
        parser.error(f"--only: not an operation: {', '.join(sorted(only - set(TARGETS_MS)))}")

    url = args.db or f"sqlite:///{HERE / '.data' / f'city-{args.reads}-{args.seed}.db'}"
    # A city built by another benchmark (or `workbench demo`) is signed: the department's key folder signs on.
    os.environ.setdefault("WORKBENCH_KEY_DIR", str(load_settings()["key_dir"]))
    store = Store(url, create=True, keys=KeyRing(Path(os.environ["WORKBENCH_KEY_DIR"])))
    if not store.has_schema():
        (HERE / ".data").mkdir(exist_ok=True)
        t0 = time.perf_counter()
        month = min(args.reads, MONTH)
        build_demo(store, reads=month, seed=args.seed, password=PASSWORD, start=START)
        for k in range(1, math.ceil(args.reads / MONTH)):
            add_earlier_month(store, k, min(MONTH, args.reads - k * MONTH), args.seed)
        print(f"built a city of {args.reads:,} reads in {time.perf_counter() - t0:.0f} s")
    else:
        store.migrate()  # a city kept from an earlier version of the schema
    supervisor = login(store, "supervisor", PASSWORD)
    if "26-01234" not in supervisor.cases(everyone=True)["case"].to_list():  # built before the registry
        supervisor.open_case("26-01234", offense="burglary", assign=["analyst"])
    info = store.info()
    print(f"database: {info['reads']:,} reads, {info['plates']:,} distinct plates, {info['cameras']} cameras")
    manifest = json.loads(store.get_meta("manifest") or "{}")
    rng = random.Random(args.seed)

    with store.read() as conn:
        plates = [
            tuple(r)
            for r in conn.execute(
                sa.text("SELECT id, plate FROM plates WHERE id % 97 = 0 ORDER BY id LIMIT 5000")
            ).all()
        ]
        busy = conn.execute(
            sa.text(
                "SELECT p.plate, COUNT(*) AS n FROM reads r JOIN plates p ON p.id = r.plate_id "
                "WHERE r.plate_id IN (SELECT plate_id FROM reads WHERE id % 1009 = 0) "
                "GROUP BY p.id ORDER BY ABS(COUNT(*) - 1000) LIMIT 5"
            )
        ).all()
        cams = conn.execute(sa.text("SELECT lat, lon FROM cameras WHERE kind = 'fixed'")).all()
        first_ms, last_ms = conn.execute(sa.text("SELECT MIN(ts), MAX(ts) FROM reads")).one()
    sample = [p for _i, p in rng.sample(plates, args.runs)]
    # The retention floor one day after the city's first read: one day past retention, not yet purged.
    days = args.retention_days or (
        (dt.datetime.now(dt.UTC) - dt.datetime.fromtimestamp(first_ms / 1000, dt.UTC)).days - 1
    )
    os.environ["WORKBENCH_RETENTION_DAYS"] = str(days)  # the door process's setting
    floor_ms = int((dt.datetime.now(dt.UTC) - dt.timedelta(days=days)).timestamp() * 1000)  # as the door's
    session = login(store, "analyst", PASSWORD, policy=Policy(retention_days=days))
    print(f"retention {days} days")
    session.set_purpose("investigation", case="26-01234", reason="benchmark of search and analytics")
    door, client = start_door(store.url.render_as_string(hide_password=False))
    client.set_purpose("investigation", case="26-01234", reason="benchmark of search and analytics")

    patterns = []
    for p in sample:
        k = rng.randrange(0, max(len(p) - 3, 1))
        patterns.append("*" + p[k] + p[k + 1] + "?" + p[k + 3 : k + 4] + "*")  # infix, leading *
    patterns[0] = (manifest.get("scenarios", {}).get("partial_plate", {}) or {}).get("pattern", patterns[0])

    def scenes(n: int, seed: int) -> list[Scene]:
        r = random.Random(seed)
        out = []
        for _ in range(n):
            lat, lon = r.choice(cams)
            start = r.randrange(first_ms, last_ms - 2 * 3_600_000)
            out.append(
                Scene(
                    lat + r.uniform(-0.002, 0.002),
                    lon + r.uniform(-0.002, 0.002),
                    500,
                    start,
                    start + 7_200_000,
                )
            )
        return out

    canvass_inputs = [scenes(1, i) for i in range(args.runs)]
    common_inputs = [scenes(3, 100 + i) for i in range(args.runs)]
    timeline_plates = [b[0] for b in busy]
    convoy_plates = [manifest["scenarios"]["convoy"]["target"], *timeline_plates][: max(3, args.runs // 2)]
    print(f"timeline plates have {', '.join(str(b[1]) for b in busy)} reads")
    probe = session.search_partial(patterns[0])
    print(f"partial {patterns[0]}: {probe.count} reads, {probe.past_retention} past retention not shown")

    def naive_plate(p: str) -> int:
        with store.read() as conn:
            return len(
                conn.execute(
                    sa.text(
                        "SELECT r.id FROM reads r JOIN plates p ON p.id = r.plate_id WHERE p.plate LIKE :p"
                    ),
                    {"p": p},
                ).all()
            )

    def naive_partial(pattern: str) -> int:
        with store.read() as conn:
            return len(
                conn.execute(
                    sa.text(
                        "SELECT r.id FROM reads r JOIN plates p ON p.id = r.plate_id WHERE p.plate LIKE :p"
                    ),
                    {"p": like(pattern)},
                ).all()
            )

    keys: list[tuple[str, str]] = []

    def naive_fuzzy(p: str) -> int:
        if not keys:
            with store.read() as conn:
                keys.extend((k, pl) for pl, k in conn.execute(sa.text("SELECT plate, equiv_key FROM plates")))
        q = equivalence_key(p)
        return sum(1 for k, _ in keys if abs(len(k) - len(q)) <= 1 and levenshtein(q, k) <= 1)

    def naive_canvass(sc: list[Scene]) -> int:
        n = 0
        with store.read() as conn:
            if store.is_sqlite:
                scan = "SELECT r.id, r.lat, r.lon FROM reads r NOT INDEXED WHERE r.ts >= :a AND r.ts < :b"
            else:  # PostgreSQL: the same scan with the planner's index paths switched off
                conn.exec_driver_sql("SET LOCAL enable_indexscan = off")
                conn.exec_driver_sql("SET LOCAL enable_bitmapscan = off")
                conn.exec_driver_sql("SET LOCAL enable_indexonlyscan = off")
                scan = "SELECT r.id, r.lat, r.lon FROM reads r WHERE r.ts >= :a AND r.ts < :b"
            for s in sc:
                rows = conn.execute(
                    sa.text(scan),
                    {"a": s.since_ms, "b": s.until_ms},
                ).all()
                n += sum(1 for _i, la, lo in rows if _dist(la, lo, s.lat, s.lon) <= s.radius_m)
        return n

    def naive_convoy(p: str) -> int:
        with store.read() as conn:
            return len(
                conn.execute(
                    sa.text(
                        "SELECT o.plate_id, COUNT(DISTINCT t.id) FROM reads t "
                        "JOIN plates p ON p.id = t.plate_id JOIN reads o ON o.camera_id = t.camera_id "
                        "AND o.ts BETWEEN t.ts - 90000 AND t.ts + 90000 "
                        "WHERE p.plate = :p AND o.plate_id != t.plate_id "
                        "GROUP BY o.plate_id HAVING COUNT(DISTINCT t.id) >= 3"
                    ),
                    {"p": p},
                ).all()
            )

    def naive_clones(day: tuple[dt.datetime, dt.datetime]) -> int:
        a, b = (int(t.timestamp() * 1000) for t in day)
        per_plate: dict[int, list[tuple[int, float, float]]] = {}
        with store.read() as conn:
            scan = "SELECT plate_id, ts, lat, lon FROM reads WHERE ts >= :a AND ts <= :b"
            for plate_id, ts, la, lo in conn.execute(sa.text(scan), {"a": a, "b": b}):
                per_plate.setdefault(plate_id, []).append((ts, la, lo))
        n = 0
        for seen in per_plate.values():
            for i, (t1, la1, lo1) in enumerate(seen):
                for t2, la2, lo2 in seen[i + 1 :]:
                    d, secs = _dist(la1, lo1, la2, lo2), abs(t2 - t1) / 1000
                    n += d >= 5000 and (secs == 0 or d / secs * 3.6 >= 200)
        return n

    days = []
    for _ in range(args.runs):
        start = dt.datetime.fromtimestamp(rng.randrange(first_ms, last_ms - 86_400_000) / 1000, dt.UTC)
        days.append((start, start + dt.timedelta(days=1)))

    peer = duckdb_peer(store, floor_ms=floor_ms)
    nr = args.naive_runs
    operations: list[tuple[str, Callable[[Any, Any], Any], list[Any], Callable[[Any], Any]]] = [
        ("exact plate", lambda s, p: s.search_plate(p), sample, naive_plate),
        ("partial pattern", lambda s, p: s.search_partial(p), patterns, naive_partial),
        ("fuzzy (1 edit)", lambda s, p: s.search_fuzzy(p, max_edits=1), sample, naive_fuzzy),
        ("canvass 500 m x 2 h", lambda s, sc: s.canvass(sc), canvass_inputs, naive_canvass),
        (
            "common plates, 3 scenes",
            lambda s, sc: s.common_plates(sc, min_scenes=2),
            common_inputs,
            naive_canvass,
        ),
        ("timeline (~1,000 reads)", lambda s, p: s.timeline(p), timeline_plates, naive_plate),
        ("convoy, 30 days", lambda s, p: s.convoy(p), convoy_plates, naive_convoy),
        ("clones, one day", lambda s, d: s.clones(since=d[0], until=d[1]), days, naive_clones),
    ]
    operations = [op for op in operations if only is None or op[0] in only]
    rows = [
        (
            name,
            timed(lambda x, op=op: op(session, x), inputs),
            timed(lambda x, op=op: op(client, x), inputs),
            timed(naive, inputs[:nr], False),
            timed(peer[name], inputs) if name in peer else math.nan,
        )
        for name, op, inputs, naive in operations
    ]
    client.close()
    door.terminate()
    door.wait()
    title = "operation (audit included)"
    header = f"{title:<30}{'target':>8}{'door ms':>10}{'client ms':>11}{'naive ms':>11}{'duckdb ms':>11}"
    print(f"\n{header}  met (client)")
    for name, door_ms, client_ms, naive, duck in rows:
        target = TARGETS_MS[name]
        met = "-" if target is None else "yes" if client_ms <= target else "NO"
        figures = f"{door_ms:>10.2f}{client_ms:>11.2f}{naive:>11.1f}{duck:>11.2f}"
        print(f"{name:<30}{target or '-':>8}{figures}  {met}")


def duckdb_peer(store: Store, floor_ms: int) -> dict[str, Callable[[Any], Any]]:
    """The city in DuckDB, in memory, and a raw query for each operation it has a peer for (none without
    DuckDB)."""
    try:
        import duckdb
    except ImportError:
        print("DuckDB is not installed (pip install -e .[bench]): no peer column")
        return {}
    t0 = time.perf_counter()
    con = duckdb.connect(":memory:", config={"threads": 2})
    with store.read() as conn:
        for table, columns, order in (
            ("cameras", "id, lat, lon", "id"),
            ("plates", "id, plate, equiv_key", "id"),
            ("reads", "id, plate_id, camera_id, ts, lat, lon, confidence", "ts"),
        ):
            batches = pl.read_database(
                f"SELECT {columns} FROM {table}", conn, iter_batches=True, batch_size=1_000_000
            )
            with tempfile.TemporaryDirectory() as folder:  # handed over as Parquet (no pyarrow needed)
                for i, frame in enumerate(batches):
                    frame.write_parquet(Path(folder) / f"{i:04d}.parquet")
                con.execute(f"CREATE TABLE {table} AS SELECT * FROM read_parquet('{folder}/*.parquet')")
            con.execute(f"CREATE TABLE {table}_sorted AS SELECT * FROM {table} ORDER BY {order}")
            con.execute(f"DROP TABLE {table}")
            con.execute(f"ALTER TABLE {table}_sorted RENAME TO {table}")
    con.execute("CREATE INDEX plates_plate ON plates (plate)")  # one text may be two states' plates
    print(f"DuckDB {duckdb.__version__}: the city loaded in memory in {time.perf_counter() - t0:.0f} s")

    select = "SELECT r.id, p.plate, r.ts, r.camera_id, r.lat, r.lon, r.confidence FROM reads r "
    by_plate = select + "JOIN plates p ON p.id = r.plate_id WHERE {where} AND r.ts >= $floor ORDER BY r.ts"
    near = (
        "2 * 6371008.8 * asin(sqrt(pow(sin(radians(r.lat - $lat) / 2), 2) + cos(radians($lat)) "
        "* cos(radians(r.lat)) * pow(sin(radians(r.lon - $lon) / 2), 2))) <= $radius"
    )
    scene_sql = (
        select + "JOIN plates p ON p.id = r.plate_id WHERE r.ts >= greatest($a, $floor) AND r.ts < $b "
        "AND r.lat BETWEEN $lat - $dlat AND $lat + $dlat AND r.lon BETWEEN $lon - $dlon AND $lon + $dlon "
        f"AND {near}"
    )

    def rows(sql: str, **params: Any) -> Any:
        return con.execute(sql, {"floor": floor_ms, **params}).fetchnumpy()

    def scene_params(sc: Scene) -> dict[str, Any]:
        dlat = sc.radius_m / 111_000
        dlon = dlat / max(math.cos(math.radians(sc.lat)), 0.01)
        return {"a": sc.since_ms, "b": sc.until_ms, "lat": sc.lat, "lon": sc.lon, "radius": sc.radius_m,
                "dlat": dlat, "dlon": dlon}  # fmt: skip

    def common(scenes: list[Scene]) -> Any:
        parts, params = [], {}
        for i, sc in enumerate(scenes):  # each scene's parameters under its own prefix
            parts.append(f"SELECT {i} AS scene, plate FROM ({scene_sql.replace('$', f'$s{i}_')})")
            params |= {f"s{i}_{k}": v for k, v in {**scene_params(sc), "floor": floor_ms}.items()}
        union = " UNION ALL ".join(parts)
        sql = f"SELECT plate, count(DISTINCT scene) AS n FROM ({union}) GROUP BY plate HAVING n >= 2"
        return con.execute(sql, params).fetchnumpy()

    return {
        "exact plate": lambda p: rows(by_plate.format(where="p.plate = $q"), q=p),
        "partial pattern": lambda pattern: rows(by_plate.format(where="p.plate LIKE $q"), q=like(pattern)),
        "fuzzy (1 edit)": lambda p: rows(
            by_plate.format(where="levenshtein(p.equiv_key, $q) <= 1"), q=equivalence_key(p)
        ),
        "canvass 500 m x 2 h": lambda scenes: [rows(scene_sql, **scene_params(sc)) for sc in scenes],
        "common plates, 3 scenes": common,
        "timeline (~1,000 reads)": lambda p: rows(by_plate.format(where="p.plate = $q"), q=p),
    }


def start_door(url: str) -> tuple[subprocess.Popen[bytes], DoorClient]:
    """``workbench door`` in its own process, and a member's client connected to it (a kernel's view)."""
    folder = Path(tempfile.mkdtemp(prefix="bench-door-"))
    sock = folder / "door.sock"
    env = {**os.environ, "WORKBENCH_DATA_DIR": str(folder / "data")}
    door = subprocess.Popen(
        [sys.executable, "-m", "workbench", "door", "--socket", str(sock), "--db", url],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not sock.exists():
        if door.poll() is not None or time.monotonic() > deadline:
            raise SystemExit("workbench door did not start")
        time.sleep(0.1)
    return door, DoorClient(sock, user="analyst", password=PASSWORD)


def _dist(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(a))


if __name__ == "__main__":
    main()
