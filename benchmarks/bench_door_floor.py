"""An exact plate's search on PostgreSQL: what its statements alone cost, beside the door.

    python benchmarks/bench_door_floor.py --db postgresql+psycopg://USER@HOST/DB [--searches 400] [--rounds 3]

On a city ``benchmarks/bench_analytics.py`` built, times on the same plates, rounds interleaved:

1. **the statements alone** — no door, straight through psycopg, prepared: the session's touch with the
   gate's facts, the case's registry row and the plate (one round trip), the plate's reads in the days it
   was read on (one), the chain's lock and last hash (one), and an entry made durable, ``INSERT`` and
   ``COMMIT`` (one), into a table of the run's own (dropped after), so the city's audit log is not touched;
2. **the door in process**: ``AccessSession.search_plate`` — the same work with the gate's rules, retention,
   the result's frame and the entry's canonical JSON, hash and signature (the command line's view);
3. **the door client**: ``workbench door`` in its own process, over its Unix socket (a notebook's view).

The first is the floor of any door that gates, searches and records the search durably before answering,
on this machine: what is left for the door's own work and the trip to the client is the target less it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import random
from collections.abc import Callable
from pathlib import Path

import psycopg
import sqlalchemy as sa
from bench_analytics import PASSWORD, TARGETS_MS, start_door, timed
from psycopg.types.numeric import Int8

from alpr_lib.access import Policy, login
from alpr_lib.keys import KeyRing
from alpr_lib.store import Store
from alpr_lib.store import queries as q
from workbench.config import load_settings

_GATE = (
    "WITH t AS (UPDATE sessions SET last_seen_at = now() WHERE id = %s "
    "RETURNING user_id, created_at, last_seen_at, ended_at) "
    "SELECT t.*, u.disabled, (SELECT max(expires_on) FROM training_records r WHERE r.user_id = u.id), "
    "(SELECT value FROM meta WHERE key = 'synthetic') FROM t JOIN users u ON u.id = t.user_id"
)
_CASE = (
    "SELECT c.opened_by, c.status, EXISTS (SELECT 1 FROM case_members m WHERE m.case_id = c.id "
    "AND m.user_id = %s) FROM cases c WHERE c.number = %s"
)
_TABLE = "bench_floor_entries"
CASE = "26-01234"


def statements_alone(
    store: Store, session_id: int, user_id: int
) -> tuple[Callable[[str], int], Callable[[], None]]:
    """One search as its statements alone (see the module's text), and what drops the run's table."""
    with store.read() as conn:
        window = q._filter_params(conn, [0], None, None, None, None, None)
        fetch_sql, fetch_args = q._statement(
            conn, "fetch_unnamed", q._fetch_unnamed_statement, {**window, "limit": 10_001, "offset": 0}
        )
        plate_sql, _ = q._statement(
            conn, "plates_exactly", q._plate_ids_statement, {"plate": "", "any_state": True, "state": ""}
        )
    pg = psycopg.connect(store.url.set(drivername="postgresql").render_as_string(hide_password=False))
    columns = "id bigserial PRIMARY KEY, ts timestamptz, body text, prev_hash text, hash text"
    pg.execute(f"CREATE TABLE {_TABLE} ({columns})")
    pg.commit()

    def search(plate: str) -> int:
        with pg.pipeline():
            gate, case, found = pg.cursor(), pg.cursor(), pg.cursor()
            gate.execute(_GATE, (Int8(session_id),), prepare=True)
            case.execute(_CASE, (Int8(user_id), CASE), prepare=True)
            found.execute(plate_sql, {"plate": plate, "any_state": True, "state": ""}, prepare=True)
        gate.fetchall(), case.fetchall()
        ids = [Int8(row[0]) for row in found.fetchall()]
        reads = pg.execute(fetch_sql, {**fetch_args, "ids": ids}, prepare=True).fetchall()
        with pg.pipeline():
            lock, head = pg.cursor(), pg.cursor()
            lock.execute("SELECT pg_advisory_xact_lock(7306870022)", prepare=True)
            head.execute(f"SELECT hash FROM {_TABLE} ORDER BY id DESC LIMIT 1", prepare=True)
        last = (head.fetchone() or ["0" * 64])[0]
        body = json.dumps({"operation": "search.plate", "plate": plate, "result_count": len(reads)})
        digest = hashlib.sha256((last + body).encode()).hexdigest()
        with pg.pipeline():
            pg.execute(
                f"INSERT INTO {_TABLE} (ts, body, prev_hash, hash) VALUES (now(), %s, %s, %s) RETURNING id",
                (body, last, digest),
                prepare=True,
            )
            pg.commit()
        return len(reads)

    def drop() -> None:
        pg.rollback()
        pg.execute(f"DROP TABLE {_TABLE}")
        pg.commit()
        pg.close()

    return search, drop


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", required=True, help="a PostgreSQL city built by bench_analytics.py")
    parser.add_argument("--searches", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    os.environ.setdefault("WORKBENCH_KEY_DIR", str(load_settings()["key_dir"]))
    store = Store(args.db, keys=KeyRing(Path(os.environ["WORKBENCH_KEY_DIR"])))
    if store.dialect != "postgresql":
        raise SystemExit("the floor is measured on PostgreSQL (SQLite has no round trips to count)")
    with store.read() as conn:
        first_ms = conn.execute(sa.text("SELECT MIN(ts) FROM reads")).scalar()
        every = [
            r[0] for r in conn.execute(sa.text("SELECT plate FROM plates WHERE id % 97 = 0 ORDER BY id"))
        ]
    days = (dt.datetime.now(dt.UTC) - dt.datetime.fromtimestamp(first_ms / 1000, dt.UTC)).days - 1
    os.environ["WORKBENCH_RETENTION_DAYS"] = str(days)  # the door process's, as bench_analytics sets it
    session = login(store, "analyst", PASSWORD, policy=Policy(retention_days=days))
    session.set_purpose("investigation", case=CASE, reason="benchmark of the door's floor")
    door, client = start_door(store.url.render_as_string(hide_password=False))
    client.set_purpose("investigation", case=CASE, reason="benchmark of the door's floor")
    with store.read() as conn:
        sid, uid = conn.execute(
            sa.text("SELECT s.id, s.user_id FROM sessions s JOIN users u ON u.id = s.user_id "
                    "WHERE u.name = 'analyst' ORDER BY s.id DESC LIMIT 1")
        ).one()  # fmt: skip
    alone, drop = statements_alone(store, sid, uid)
    plates = random.Random(7).sample(every, min(args.searches, len(every)))
    columns: dict[str, list[float]] = {"statements alone": [], "door in process": [], "door client": []}
    try:
        for _ in range(args.rounds):
            columns["statements alone"].append(timed(alone, plates))
            columns["door in process"].append(timed(session.search_plate, plates))
            columns["door client"].append(timed(client.search_plate, plates))
    finally:
        drop()
        client.close()
        door.terminate()
        door.wait()
    print(f"exact plate on {store.info()['reads']:,} reads, {len(plates)} plates, medians of each round (ms)")
    for name, values in columns.items():
        print(f"  {name:<18}" + "".join(f"{v:8.2f}" for v in values))
    floor = min(columns["statements alone"])
    target = TARGETS_MS["exact plate"]
    print(f"target {target} ms through the client; the statements alone take {floor:.2f} at best")


if __name__ == "__main__":
    main()
