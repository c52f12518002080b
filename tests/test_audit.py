"""The audit log is append-only and tamper-evident, even against someone holding the database file."""

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from alpr_lib.access import build_demo, login
from alpr_lib.access.audit import entry_hash
from alpr_lib.errors import AccessDenied, StoreError
from alpr_lib.store import Store
from workbench.cli import main

PW = "synthetic-demo-pass-2026"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    """An SQLite file with a demo and a few audit entries, for tests that tamper with the file itself."""
    path = tmp_path / "a.db"
    store = Store(f"sqlite:///{path}", create=True)
    build_demo(store, reads=2_000, seed=5, password=PW)
    admin = login(store, "admin", PW)
    for _ in range(4):
        admin.list_users()
    store.dispose()
    return path


def verify(db: Path, checkpoint: Path, user: str = "supervisor"):
    result = CliRunner().invoke(
        main,
        [
            "audit",
            "verify",
            "--json",
            "--user",
            user,
            "--db",
            f"sqlite:///{db}",
            "--checkpoint",
            str(checkpoint),
        ],
        env={"WORKBENCH_PASSWORD": PW},
    )
    return result.exit_code, (json.loads(result.stdout) if result.stdout.strip() else None), result.stderr


def tamper(db: Path, *sql: str) -> None:
    con = sqlite3.connect(db)
    con.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    con.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
    for statement in sql:
        if statement.startswith("FORGE"):
            _, new_id, _, after = statement.split()
            con.row_factory = sqlite3.Row
            prev = dict(con.execute("SELECT * FROM audit_log WHERE id = ?", (int(after),)).fetchone())
            forged = {**prev, "id": int(new_id), "user_name": "ghost", "prev_hash": prev["hash"]}
            forged["ts"] = dt.datetime.fromisoformat(prev["ts"]).replace(tzinfo=dt.UTC)
            forged["hash"] = entry_hash(prev["hash"], forged)
            forged["ts"] = prev["ts"]
            con.execute(
                f"INSERT INTO audit_log ({', '.join(forged)}) VALUES ({', '.join('?' * len(forged))})",
                list(forged.values()),
            )
            continue
        con.execute(statement)
    con.commit()
    con.close()


def test_the_database_refuses_update_and_delete(admin_store: Store) -> None:
    store = admin_store
    for statement in ("UPDATE audit_log SET user_name = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(StoreError), store.atomic() as conn:
            conn.exec_driver_sql(statement)


@pytest.mark.sqlite_only
def test_a_whole_log_verifies_and_checkpoints(db: Path, tmp_path: Path) -> None:
    cp = tmp_path / "cp.jsonl"
    code, report, _ = verify(db, cp)
    assert code == 0 and report["ok"] and report["first_bad"] is None and report["rows"] >= 7
    code, report, _ = verify(db, cp)
    assert code == 0 and report["checkpoint"] is True
    assert len(cp.read_text().splitlines()) == 2


@pytest.mark.sqlite_only
@pytest.mark.parametrize(
    ("sql", "bad"),
    [
        (["UPDATE audit_log SET reason = 'edited' WHERE id = 4"], 4),
        (["UPDATE audit_log SET ts = '2020-01-01 00:00:00.000000' WHERE id = 3"], 3),
        (["DELETE FROM audit_log WHERE id = 3"], 4),
        # A forger who knows the hash function: the new entry links and hashes right, but carries no
        # signature of its own (the one copied from the entry before it does not match it).
        (["UPDATE audit_log SET id = id + 100000 WHERE id > 3", "FORGE 4 AFTER 3"], 4),
        (
            [
                "UPDATE audit_log SET id = -id WHERE id IN (3, 4)",
                "UPDATE audit_log SET id = 3 WHERE id = -4",
                "UPDATE audit_log SET id = 4 WHERE id = -3",
            ],
            3,
        ),
    ],
    ids=["edited-field", "edited-time", "deleted", "inserted", "reordered"],
)
def test_tampering_is_caught(db: Path, tmp_path: Path, sql: list[str], bad: int) -> None:
    cp = tmp_path / "cp.jsonl"
    assert verify(db, cp)[0] == 0
    tamper(db, *sql)
    code, report, err = verify(db, cp)
    assert code == 1 and report["ok"] is False and report["first_bad"] == bad
    assert err.strip().startswith("Error: the audit log is broken at entry")


@pytest.mark.sqlite_only
def test_cutting_off_the_newest_entries_is_caught_by_the_checkpoint(db: Path, tmp_path: Path) -> None:
    cp = tmp_path / "cp.jsonl"
    assert verify(db, cp)[0] == 0
    tamper(db, "DELETE FROM audit_log WHERE id > 5")
    code, report, err = verify(db, cp)
    assert code == 1 and report["first_bad"] is None and report["checkpoint"] is False
    assert "checkpoint" in err


@pytest.mark.sqlite_only
def test_only_supervisors_and_administrators_verify(db: Path, tmp_path: Path) -> None:
    code, _, err = verify(db, tmp_path / "cp.jsonl", user="analyst")
    assert code == 1 and "may not audit.verify" in err
    with pytest.raises(AccessDenied):
        login(Store(f"sqlite:///{db}"), "investigator", PW).verify_audit()


def test_the_demo_history_gives_supervisors_something_to_review(city: Store) -> None:
    from .conftest import DEMO_PASSWORD, DEMO_START

    supervisor = login(city, "supervisor", DEMO_PASSWORD)
    since = dt.datetime.combine(DEMO_START, dt.time(), tzinfo=dt.UTC)
    report = supervisor.audit_report(since=since, until=since + dt.timedelta(days=31))
    history = report.frame.filter(report.frame["user_name"].is_in(["analyst", "investigator"]))
    assert history.height > 200 and set(history["detail"]) == {"synthetic demo history"}
    raised = {(r["user_name"], r["flag"]) for r in report.flags.to_dicts()}
    assert {("investigator", "repeat-plate"), ("investigator", "off-hours"), ("analyst", "volume")} <= raised
    assert supervisor.verify_audit()[0].ok


def test_no_purge_and_no_member_removes_an_audit_entry(city: Store) -> None:
    """Audit entries outlive the reads they record: a purge as far ahead as it goes destroys every read and
    not one entry; deleting or rewriting entries through the workbench's own connection is refused."""
    import sqlalchemy as sa

    from alpr_lib.access import Policy
    from alpr_lib.access.audit import verify_chain
    from alpr_lib.store import schema as s

    from .conftest import DEMO_PASSWORD

    with city.read() as conn:
        before = conn.execute(sa.select(s.AuditEntry.id, s.AuditEntry.hash).order_by(s.AuditEntry.id)).all()
    admin = login(city, "admin", DEMO_PASSWORD, policy=Policy(retention_days=1))
    far = dt.datetime.now(dt.UTC) + dt.timedelta(days=3650)
    assert admin.purge(now=far, future=True)["reads_destroyed"] > 0
    for statement in ("DELETE FROM audit_log", "UPDATE audit_log SET reason = 'nothing to see'"):
        with pytest.raises(StoreError), city.atomic() as conn:
            conn.exec_driver_sql(statement)
    with city.read() as conn:
        after = conn.execute(sa.select(s.AuditEntry.id, s.AuditEntry.hash).order_by(s.AuditEntry.id)).all()
        assert verify_chain(conn).ok
    assert after[: len(before)] == before and len(after) > len(before)  # only added to
