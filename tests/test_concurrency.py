"""Many members at once: 20 sessions searching while an import and a purge run, on either engine.

No error, no read lost or doubled, every search audited exactly once, and the audit chain still whole
(concurrent appends must queue, never fork it)."""

from __future__ import annotations

import datetime as dt
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from alpr_lib.access import Policy, login
from alpr_lib.access.audit import verify_chain
from alpr_lib.store import Store
from alpr_lib.store import schema as s

from .conftest import DEMO_PASSWORD, DEMO_START

SESSIONS = 20
SEARCHES = 10
NEW_READS = 3_000
WHY = {"purpose": "investigation", "case": "26-01234", "reason": "load test of the door"}


def counts(store: Store) -> tuple[int, int, int]:
    with store.read() as conn:
        reads = conn.execute(sa.select(sa.func.count()).select_from(s.Read)).scalar_one()
        distinct = conn.execute(sa.select(sa.func.count(sa.distinct(s.Read.source_id)))).scalar_one()
        audit = conn.execute(sa.select(sa.func.count()).select_from(s.AuditEntry)).scalar_one()
    return reads, distinct, audit


def test_twenty_sessions_search_while_an_import_and_a_purge_run(city: Store, tmp_path: Path) -> None:
    with city.read() as conn:
        plates = [p for (p,) in conn.execute(sa.select(s.Plate.plate).order_by(s.Plate.id).limit(SESSIONS))]
    reads_before, _, _ = counts(city)
    # New reads, after the demo month: the purge (10 days of retention, on the 20th) never takes them.
    start = dt.datetime.combine(DEMO_START + dt.timedelta(days=40), dt.time(), tzinfo=dt.UTC)
    lines = ["plate,state,camera,ts,lat,lon,confidence,source_id"]
    for i in range(NEW_READS):
        ts = (start + dt.timedelta(seconds=7 * i)).isoformat()
        lines.append(f"TST{i % 500:04d},OR,LOAD-{i % 7},{ts},43.97,-124.10,0.9,load-{i}")
    csv = tmp_path / "more.csv"
    csv.write_text("\n".join(lines) + "\n")
    now = dt.datetime.combine(DEMO_START + dt.timedelta(days=20), dt.time(), tzinfo=dt.UTC)
    with city.read() as conn:
        doomed = conn.execute(
            sa.select(sa.func.count())
            .select_from(s.Read)
            .where(s.Read.ts < int((now - dt.timedelta(days=10)).timestamp() * 1000))
        ).scalar_one()

    members = [login(city, ("analyst", "investigator")[i % 2], DEMO_PASSWORD) for i in range(SESSIONS)]
    admin = login(city, "admin", DEMO_PASSWORD, policy=Policy(retention_days=10))
    go = threading.Barrier(SESSIONS + 2)

    def search(i: int) -> list[int]:
        go.wait()
        return [members[i].search_plate(plates[i], **WHY).audit_id for _ in range(SEARCHES)]

    def ingest() -> int:
        go.wait()
        return admin.import_reads(csv).imported

    def purge() -> int:
        go.wait()
        return int(admin.purge(now=now)["reads_destroyed"])

    with ThreadPoolExecutor(SESSIONS + 2) as pool:
        searches = [pool.submit(search, i) for i in range(SESSIONS)]
        imported, purged = pool.submit(ingest), pool.submit(purge)
        audit_ids = [a for f in searches for a in f.result()]  # re-raises any error in a thread
        imported_n, purged_n = imported.result(), purged.result()

    assert imported_n == NEW_READS and purged_n == doomed > 0
    reads_after, distinct_after, _ = counts(city)
    assert reads_after == distinct_after == reads_before + NEW_READS - doomed  # nothing lost, nothing twice
    assert len(audit_ids) == len(set(audit_ids)) == SESSIONS * SEARCHES
    with city.read() as conn:
        logged = conn.execute(
            sa.select(sa.func.count())
            .select_from(s.AuditEntry)
            .where(
                s.AuditEntry.operation == "search.plate",
                s.AuditEntry.outcome == "ok",
                s.AuditEntry.id.in_(audit_ids),
            )
        ).scalar_one()
        report = verify_chain(conn)
    assert logged == SESSIONS * SEARCHES  # every search audited exactly once
    assert report.ok, report.problem


IMPORTS = 4
IMPORT_ROWS = 40_000


def test_searches_beside_long_imports_and_a_purge_never_fail(city: Store, tmp_path: Path) -> None:
    """Four vendor imports and a purge, each its own `workbench` process as a cron job would run them, while
    members search without pause: not one search may fail ("database is locked" on SQLite), and every
    import and the purge finish whole."""
    import os
    import subprocess
    import sys
    import time

    url = city.url.render_as_string(hide_password=False)
    env = {**os.environ, "WORKBENCH_DB_URL": url, "WORKBENCH_PASSWORD": DEMO_PASSWORD}
    env.pop("WORKBENCH_SESSION", None)
    start = dt.datetime.combine(DEMO_START + dt.timedelta(days=41), dt.time(), tzinfo=dt.UTC)
    files = []
    for n in range(IMPORTS):
        rows = [
            f"BSY{n}{i % 997:03d},OR,BUSY-{i % 5},{(start + dt.timedelta(seconds=i)).isoformat()},"
            f"43.97,-124.1,0.9,busy-{n}-{i}"
            for i in range(IMPORT_ROWS)
        ]
        path = tmp_path / f"busy-{n}.csv"
        path.write_text("plate,state,camera,ts,lat,lon,confidence,source_id\n" + "\n".join(rows) + "\n")
        files.append(path)
    with city.read() as conn:
        plates = [p for (p,) in conn.execute(sa.select(s.Plate.plate).order_by(s.Plate.id).limit(40))]
    members = [login(city, ("analyst", "investigator")[i % 2], DEMO_PASSWORD) for i in range(4)]
    now = dt.datetime.combine(DEMO_START + dt.timedelta(days=20), dt.time(), tzinfo=dt.UTC)
    workbench = [sys.executable, "-m", "workbench"]
    jobs = [
        subprocess.Popen(
            [*workbench, "import-reads", str(f), "--user", "admin"], env=env, stderr=subprocess.PIPE
        )
        for f in files
    ]
    jobs.append(
        subprocess.Popen(
            [*workbench, "purge", "--now", now.isoformat(), "--user", "admin"],
            env=env,
            stderr=subprocess.PIPE,
        )
    )
    failures: list[str] = []
    done = 0

    def searching(member: Any) -> int:
        n = 0
        while any(j.poll() is None for j in jobs):
            try:
                member.search_plate(plates[n % len(plates)], **WHY)
                member.search_partial("BSY*1?", **WHY)
            except Exception as exc:  # noqa: BLE001 - every failure counts, whatever its kind
                failures.append(f"{type(exc).__name__}: {exc}")
            n += 1
        return n

    began = time.monotonic()
    with ThreadPoolExecutor(len(members)) as pool:
        done = sum(pool.map(searching, members))
    errors = [j.stderr.read().decode() if j.stderr else "" for j in jobs]
    for j in jobs:
        if j.stderr:
            j.stderr.close()
    assert [j.returncode for j in jobs] == [0] * len(jobs), errors
    assert done >= 20, f"only {done} searches ran in {time.monotonic() - began:.0f} s"
    assert failures == []
    reads, distinct, _ = counts(city)
    assert reads == distinct
    with city.read() as conn:
        assert verify_chain(conn).ok
        busy = conn.execute(
            sa.select(sa.func.count()).select_from(s.Read).where(s.Read.source_id.like("busy-%"))
        ).scalar_one()
    assert busy == IMPORTS * IMPORT_ROWS
