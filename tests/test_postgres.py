"""What only the PostgreSQL server mode has: database roles that defend the audit log by themselves, plans
that descend a plate's index in every day, and plates drawn in the order their imports commit."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from pathlib import Path

import psycopg
import pytest
import sqlalchemy as sa

from alpr_lib.store import Store, partitions

from .conftest import DEMO_PASSWORD, DEMO_START

pytestmark = pytest.mark.postgresql_only


def test_the_application_role_adds_to_the_audit_log_but_cannot_change_it(
    run, city: Store, tmp_path: Path
) -> None:
    suffix = uuid.uuid4().hex[:6]
    app, auditor = f"wb_app_{suffix}", f"wb_audit_{suffix}"
    with city.atomic() as conn:
        for role in (app, auditor):
            conn.exec_driver_sql(f'CREATE ROLE "{role}" LOGIN')
    owner_url = city.url.render_as_string(hide_password=False)
    run("grants", "--app-role", app, "--auditor-role", auditor, "--apply", "--db", owner_url)
    app_url = city.url.set(username=app).render_as_string(hide_password=False)

    # The workbench works as the application role: a search adds its audit entry.
    why = ["--purpose", "investigation", "--case", "26-01234", "--reason", "role test"]
    env = {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    out = run("search", "partial", "A*", *why, "--user", "analyst", "--db", app_url, "--json", env=env)
    assert '"operation": "search.partial"' in out.stdout

    dsn = city.url.set(drivername="postgresql")
    with psycopg.connect(dsn.set(username=app).render_as_string(hide_password=False), autocommit=True) as pg:
        for statement in (
            "UPDATE audit_log SET reason = 'edited'",
            "DELETE FROM audit_log",
            "TRUNCATE audit_log",
            "DROP TRIGGER audit_log_no_update ON audit_log",
        ):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                pg.execute(statement)
    with psycopg.connect(dsn.set(username=auditor).render_as_string(hide_password=False)) as pg:
        assert pg.execute("SELECT count(*) FROM audit_log").fetchone()[0] > 300
        for table in ("reads", "plates", "users"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                pg.execute(f"SELECT * FROM {table} LIMIT 1")
            pg.rollback()
    with city.read() as conn:
        last = conn.execute(
            sa.text("SELECT operation, user_name FROM audit_log ORDER BY id DESC LIMIT 3")
        ).all()
    assert [tuple(r) for r in last][::-1] == [
        ("grants", None),
        ("logon", "analyst"),
        ("search.partial", "analyst"),
    ]

    # An upgrade that adds a table the application role writes through a trigger (the days each plate was
    # read on, 0016) gives it the same rights as on the reads: imports go on before the grants are run again.
    _downgrade(city, "0015")
    assert city.revision() == "0015"
    city.migrate()

    # The application role adds and drops days of reads through the owner's functions: an import on a new
    # day, a purge.
    csv = tmp_path / "new-day.csv"
    csv.write_text("plate,ts,lat,lon,camera,source_id\nTST0001,2026-11-25T04:05:06Z,43.97,-124.1,R1,r1\n")
    out = run("import-reads", str(csv), "--user", "admin", "--db", app_url, "--json", env=env)
    assert '"imported": 1' in out.stdout
    with city.read() as conn:
        days = partitions.partition_days(conn)
        # The database noted the new plate's day (the trigger runs as the application role) ...
        noted = conn.execute(
            sa.text(
                "SELECT d.day FROM plate_days d JOIN plates p ON p.id = d.plate_id WHERE p.plate = 'TST0001'"
            )
        ).scalars()
        assert list(noted) == [days[-1]]
    assert partitions.partition_name(days[-1]) == "reads_d20261125"
    found = run("search", "plate", "TST0001", *why, "--user", "analyst", "--db", app_url, "--json", env=env)
    assert '"count": 1' in found.stdout
    when = (DEMO_START + dt.timedelta(days=45)).isoformat()  # 30 days' retention: the first 15 days go
    purge_env = {**env, "WORKBENCH_RETENTION_DAYS": "30"}
    out = run("purge", "--now", when, "--user", "admin", "--db", app_url, "--json", env=purge_env)
    with city.read() as conn:
        kept = partitions.partition_days(conn)
        assert len(kept) < len(days)
        # ... and forgets a day with its partition: no plate is looked for in a day that is gone, and every
        # read left is in its plate's days.
        noted_days = set(conn.execute(sa.text("SELECT DISTINCT day FROM plate_days")).scalars())
        assert noted_days <= set(kept) and noted_days
        unnoted = conn.execute(
            sa.text(
                "SELECT count(*) FROM reads r WHERE NOT EXISTS (SELECT 1 FROM plate_days d "
                f"WHERE d.plate_id = r.plate_id AND d.day = r.ts / {partitions.DAY_MS})"
            )
        ).scalar_one()
        assert unnoted == 0


def _downgrade(store: Store, revision: str) -> None:
    from alembic import command
    from alembic.config import Config

    from alpr_lib.store.db import MIGRATIONS_DIR

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, revision)


def test_grants_are_refused_on_sqlite(run, tmp_path) -> None:
    db = f"sqlite:///{tmp_path / 'w.db'}"
    run("init", "--db", db, env={"WORKBENCH_PASSWORD": "first-admin-pass-2026"})
    result = run("grants", "--app-role", "a", "--auditor-role", "b", "--apply", "--db", db, ok=False)
    assert result.exit_code == 1 and "for PostgreSQL" in result.stderr


def _generic_plan(conn: sa.Connection, sql: str, params: dict[str, object], *, analyze: bool = False) -> str:
    """The plan PostgreSQL keeps for ``sql`` prepared once and run many times (the door's connections
    force generic plans), shown for ``params`` (and run, with ``analyze``)."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        if match.group(1) not in names:
            names.append(match.group(1))
        return f"${names.index(match.group(1)) + 1}"

    numbered = re.sub(r"%\((\w+)\)s", number, sql)
    raw = conn.connection.driver_connection
    raw.execute("SET plan_cache_mode = force_generic_plan")
    raw.execute(f"PREPARE probe AS {numbered}")
    try:
        literal = ", ".join(_literal(params[n]) for n in names)
        how = "(ANALYZE, COSTS OFF, TIMING OFF) " if analyze else ""
        return "\n".join(r[0] for r in raw.execute(f"EXPLAIN {how}EXECUTE probe({literal})"))
    finally:
        raw.execute("DEALLOCATE probe")


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "'{" + ",".join(str(int(v)) for v in value) + "}'"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def test_a_plates_reads_are_found_by_its_index_in_every_day_not_by_walking_the_days(city: Store) -> None:
    """A prepared statement's generic plan guesses a time range of two parameters at 0.5 % of a day's
    partition: with ``ts <= until`` as an index range PostgreSQL walked every day's time index for a plate's
    reads (500 ms for an exact plate on 1M reads). The plate's statements descend the plate's index."""
    from alpr_lib.store import queries

    with city.read() as conn:
        plate_id = conn.execute(sa.text("SELECT plate_id FROM reads LIMIT 1")).scalar_one()
        assert len(partitions.partition_days(conn)) > 20
        params = queries._filter_params(conn, [plate_id], None, None, None, None)
        statements = {
            "count": queries._count_statement("postgresql"),
            "fetch": queries._fetch_statement("postgresql"),
            "fetch, plates named by the caller": queries._fetch_unnamed_statement("postgresql"),
            "each plate's reads counted (a page)": queries._tally_statement("postgresql"),
        }
        for name, statement in statements.items():
            compiled = statement.compile(dialect=conn.dialect)
            fixed = {"limit": 100, "offset": 0, "floor": 0}
            plan = _generic_plan(conn, compiled.string, {**compiled.params, **params, **fixed})
            assert "plate_id" in plan, (name, plan)
            assert "_ts_idx" not in plan, (name, plan)
            assert "on plate_days" in plan, (name, plan)  # the plate's days first


def test_a_plates_reads_are_looked_for_only_in_the_days_it_was_read_on(city: Store) -> None:
    """A plate read on a few days of the month: its search descends those days' partitions and no other
    (the days each plate was read on, kept beside the day partitions), and finds every one of its reads."""
    from alpr_lib.store import queries

    with city.read() as conn:
        plate_id, seen, reads = conn.execute(
            sa.text(
                f"SELECT plate_id, count(DISTINCT ts / {partitions.DAY_MS}), count(*) FROM reads "
                "GROUP BY plate_id HAVING count(DISTINCT ts / 86400000) BETWEEN 2 AND 5 LIMIT 1"
            )
        ).one()
        every = len(partitions.partition_days(conn))
        assert every > 3 * seen
        statement = queries._fetch_unnamed_statement("postgresql").compile(dialect=conn.dialect)
        params = {**statement.params, **queries._filter_params(conn, [plate_id], None, None, None, None)}
        plan = _generic_plan(conn, statement.string, {**params, "limit": 1000, "offset": 0}, analyze=True)
        descents = re.findall(
            r"Index Scan using reads_d\d+\S* on reads_d\d+ \S+ \(actual rows=(\d+) loops=(\d+)\)", plan
        )
        assert len(descents) == seen, plan  # every other day's scan: "(never executed)"
        assert sum(int(rows) * int(loops) for rows, loops in descents) == reads
        assert plan.count("never executed") >= every - seen
        assert len(queries.fetch_reads(conn, [plate_id])) == reads


def test_a_connection_the_server_dropped_while_idle_is_replaced_before_a_search(
    city: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pooled connections are not pinged on every checkout (a round trip on every search): one idle past
    ``PING_AFTER_IDLE_S`` is tried first, and a dead one is replaced, so a server restart or a dropped
    connection costs the member nothing."""
    from alpr_lib.access import login
    from alpr_lib.store import db

    session = login(city, "analyst", DEMO_PASSWORD)
    session.set_purpose("investigation", case="26-01234", reason="dropped connection")
    with city.read() as conn:
        plate = conn.execute(sa.text("SELECT plate FROM plates ORDER BY id LIMIT 1")).scalar_one()
    before = session.search_plate(plate).count
    monkeypatch.setattr(db, "PING_AFTER_IDLE_S", 0.0)  # every pooled connection counts as idle
    dsn = city.url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as admin:
        ended = admin.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        ).fetchone()[0]
    assert ended >= 1  # the pool's connections are gone
    assert session.search_plate(plate).count == before


def test_a_plate_committed_after_a_higher_one_is_still_searched(admin_store: Store) -> None:
    """Two imports on PostgreSQL: the first draws a new plate's id and is still busy when the second draws
    a higher one. The door's plate index asks only for ids above the highest it holds; had the second
    committed first, the first's plate would never be matched by a partial or fuzzy search."""
    import threading

    import polars as pl

    from alpr_lib.store.writes import ensure_plates

    store = admin_store
    first = store.engine.connect()
    busy = first.begin()
    ensure_plates(first, pl.DataFrame({"plate": ["EARLY01"], "state": ["OR"]}))
    done = threading.Event()

    def later() -> None:
        with store.atomic() as conn:
            ensure_plates(conn, pl.DataFrame({"plate": ["LATER02"], "state": ["OR"]}))
        done.set()

    thread = threading.Thread(target=later)
    thread.start()
    assert not done.wait(1.0)  # the second waits for the first to commit
    with store.read() as conn:  # a search between the two refreshes the door's plates
        assert not {"EARLY01", "LATER02"} & set(store.plate_index.frame(conn)["plate"])
    busy.commit()
    first.close()
    thread.join(10)
    with store.read() as conn:
        assert {"EARLY01", "LATER02"} <= set(store.plate_index.frame(conn)["plate"])


def test_the_audit_chain_takes_no_entry_but_after_its_last_one(
    city: Store, key_folder: Path, tmp_path: Path
) -> None:
    """The database refuses an entry that does not follow the chain's last entry, or is signed with a key
    not current (migration 0017), whoever writes it. The door signs each entry after the last one it wrote
    itself and sends it with its COMMIT; when another door wrote since, or rotated the key, its entry is
    linked again under the chain's lock, in the same transaction — the search is not run twice."""
    import shutil

    from alpr_lib.access import audit, login
    from alpr_lib.keys import KeyRing

    folder = tmp_path / "own-keys"  # the test rotates the key: a copy of the run's folder
    shutil.copytree(key_folder, folder)
    url = city.url.render_as_string(hide_password=False)
    # Two doors on the same database, as the CLI beside a server.
    door, other = Store(url, keys=KeyRing(folder)), Store(url, keys=KeyRing(folder))
    try:
        first = login(door, "analyst", DEMO_PASSWORD)
        second = login(other, "investigator", DEMO_PASSWORD)
        for session in (first, second):
            session.set_purpose("investigation", case="26-01234", reason="chain test")
        with city.read() as conn:
            plate = conn.execute(sa.text("SELECT plate FROM plates ORDER BY id LIMIT 1")).scalar_one()
            before = conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
        runs: list[str] = []
        original = audit._locked_head

        def counted(conn: sa.Connection) -> tuple[str | None, str | None]:
            runs.append("head read under the lock")
            return original(conn)

        audit._locked_head = counted
        try:
            ids = [s.search_plate(plate).audit_id for s in (first, first, second, first, second, second)]
        finally:
            audit._locked_head = original
        # Each door read the head under the lock only when the other had written since its last entry.
        assert len(runs) == 4
        assert ids == sorted(ids) and len(set(ids)) == 6

        # A rotation by the second door: the first door's next entry is signed with the new key.
        rotated = login(other, "admin", DEMO_PASSWORD).rotate_key()
        entry = first.search_plate(plate).audit_id
        with city.read() as conn:
            key = conn.execute(
                sa.text("SELECT key_id FROM audit_log WHERE id = :i"), {"i": entry}
            ).scalar_one()
            report = audit.verify_chain(conn)
            after = conn.execute(sa.text("SELECT count(*) FROM audit_log")).scalar_one()
        assert key == rotated["key_id"]
        assert report.ok and report.unsigned == 0
        assert after == before + 6 + 2 + 1  # six searches, the admin's log-on and rotation, one search

        # From the attacker's seat, with the owner's rights: an entry copied after an earlier one (a fork),
        # and an entry that claims the last hash but an old key, are both refused by the database.
        dsn = city.url.set(drivername="postgresql").render_as_string(hide_password=False)
        with psycopg.connect(dsn, autocommit=True) as pg:
            rows = pg.execute("SELECT * FROM audit_log ORDER BY id DESC LIMIT 2").fetchall()
            names = [c.name for c in pg.execute("SELECT * FROM audit_log LIMIT 0").description]
            last, earlier = (dict(zip(names, r, strict=True)) for r in rows)
            for forged in (
                {**earlier, "prev_hash": earlier["prev_hash"], "user_name": "ghost"},
                {**last, "prev_hash": last["hash"], "key_id": rotated["retired"], "user_name": "ghost"},
            ):
                del forged["id"]
                with pytest.raises(psycopg.errors.SerializationFailure):
                    columns, marks = ", ".join(forged), ", ".join(["%s"] * len(forged))
                    pg.execute(f"INSERT INTO audit_log ({columns}) VALUES ({marks})", list(forged.values()))
            assert pg.execute("SELECT count(*) FROM audit_log WHERE user_name = 'ghost'").fetchone()[0] == 0
    finally:
        door.dispose()
        other.dispose()


def test_a_search_waiting_for_the_chain_never_blocks_the_transaction_that_holds_it(city: Store) -> None:
    """One door process, two threads: a search whose entry waits for the chain's lock, held by a transaction
    of the same process that appends an entry of its own next (a key rotation does so). The transaction
    must not wait for the search's turn — which waits for it — and both entries land, chained."""
    import threading
    import time

    from alpr_lib.access import audit, login

    session = login(city, "analyst", DEMO_PASSWORD)
    session.set_purpose("investigation", case="26-01234", reason="chain lock test")
    with city.read() as conn:
        plate = conn.execute(sa.text("SELECT plate FROM plates ORDER BY id LIMIT 1")).scalar_one()
    session.search_plate(plate)  # the process knows the chain's head: the next entry goes straight in
    dsn = city.url.set(drivername="postgresql").render_as_string(hide_password=False)
    finished: list[str] = []

    def holder() -> None:
        with city.atomic() as conn:
            audit.lock_chain(conn)
            searcher = threading.Thread(
                target=lambda: (session.search_plate(plate), finished.append("search"))
            )
            searcher.daemon = True
            searcher.start()
            with psycopg.connect(dsn, autocommit=True) as pg:
                deadline = time.monotonic() + 10
                while not pg.execute(
                    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                ).fetchone()[0]:
                    assert time.monotonic() < deadline, "the search never waited for the chain's lock"
                    time.sleep(0.01)
            audit.append(
                conn, operation="keys.show", outcome="ok", client="cli", user_name="admin", commit=True
            )
        finished.append("holder")
        searcher.join(10)

    thread = threading.Thread(target=holder, daemon=True)
    thread.start()
    thread.join(20)
    assert sorted(finished) == ["holder", "search"]
    with city.read() as conn:
        assert audit.verify_chain(conn).ok
        last = (
            conn.execute(sa.text("SELECT operation FROM audit_log ORDER BY id DESC LIMIT 2")).scalars().all()
        )
    assert last == ["search.plate", "keys.show"]
