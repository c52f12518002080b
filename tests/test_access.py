"""The first part of the door: logons, roles and the audit chain (issue 3 adds the data gates)."""

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlalchemy as sa

from alpr_lib.access import init_database, login
from alpr_lib.access.audit import GENESIS, entry_hash
from alpr_lib.access.auth import check_password_policy
from alpr_lib.access.logon import identify
from alpr_lib.errors import AccessDenied, InvalidInput, InvalidPassword, NotAuthenticated, NotFound
from alpr_lib.store import Store
from alpr_lib.store import schema as s

from .conftest import ADMIN_PASSWORD
from .engines import ENGINE, drop_database, new_database

PW = "investigator-pass-2026"


def audit_rows(store: Store) -> list[s.AuditEntry]:
    with store.read() as conn:
        return list(conn.execute(sa.select(s.AuditEntry.__table__).order_by(s.AuditEntry.id)).all())


@pytest.mark.parametrize(
    ("password", "fragment"),
    [
        ("short", "12 characters"),
        ("passwordpassword", "breached|too easy to guess"),
        ("password1234", "breached"),
        ("aaaaaaaaaaaaaa", "too easy to guess"),
    ],
)
def test_password_policy(password: str, fragment: str) -> None:
    with pytest.raises(InvalidPassword, match=fragment):
        check_password_policy("jdoe", password)
    with pytest.raises(InvalidPassword, match="user name"):
        check_password_policy("jdoe.example.org", "jdoe.example.org")


def test_init_refuses_a_second_time(admin_store: Store) -> None:
    with pytest.raises(InvalidInput, match="already has users"):
        init_database(admin_store, "admin2", ADMIN_PASSWORD)


def test_logons_are_audited(admin_store: Store) -> None:
    session = login(admin_store, "admin", ADMIN_PASSWORD)
    assert session.role == "admin"
    with pytest.raises(NotAuthenticated, match="wrong password"):
        login(admin_store, "admin", "not-the-password")
    with pytest.raises(NotAuthenticated, match="wrong password"):
        login(admin_store, "nobody'; DROP TABLE users;--", "whatever-password")
    rows = audit_rows(admin_store)
    assert [(r.operation, r.outcome, r.detail) for r in rows[-3:]] == [
        ("logon", "ok", None),
        ("logon", "denied", "bad-password"),
        ("logon", "denied", "unknown-user"),
    ]
    assert rows[-1].user_name == "unknown member"  # a name that is no member's (a password?) is not kept
    assert all(ADMIN_PASSWORD not in str(tuple(r)) for r in rows)


def test_lockout_after_five_failures_and_unlock(admin_store: Store) -> None:
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    admin.add_user("jdoe", "investigator", PW)
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            login(admin_store, "jdoe", "wrong-password-here")
    with pytest.raises(NotAuthenticated, match="locked"):
        login(admin_store, "jdoe", PW)
    admin.unlock_user("jdoe")
    assert login(admin_store, "jdoe", PW).name == "jdoe"
    trail = [(r.user_name, r.operation, r.outcome, r.detail) for r in audit_rows(admin_store)[-8:]]
    assert trail == [
        *[("jdoe", "logon", "denied", "bad-password")] * 4,
        ("jdoe", "logon", "denied", "lockout"),  # the fifth failure locks the account
        ("jdoe", "logon", "denied", "locked"),  # the right password, refused while locked
        ("admin", "users.unlock", "ok", None),
        ("jdoe", "logon", "ok", None),
    ]


def test_roles_gate_administration_and_refusals_are_audited(admin_store: Store) -> None:
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    admin.add_user("jdoe", "investigator", PW)
    jdoe = login(admin_store, "jdoe", PW)
    with pytest.raises(AccessDenied, match="investigator role may not users.add"):
        jdoe.add_user("mallory", "admin", "mallory-pass-2026")
    last = audit_rows(admin_store)[-1]
    assert (last.user_name, last.operation, last.outcome) == ("jdoe", "users.add", "denied")
    with admin_store.read() as conn:
        assert conn.execute(sa.select(s.User.id).where(s.User.name == "mallory")).first() is None


def test_disabled_members_cannot_log_in_or_go_on(admin_store: Store) -> None:
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    admin.add_user("sup", "supervisor", PW)
    sup = login(admin_store, "sup", PW)
    admin.disable_user("sup")
    with pytest.raises(NotAuthenticated, match="disabled"):
        sup.list_users()
    with pytest.raises(NotAuthenticated, match="disabled"):
        login(admin_store, "sup", PW)


def test_checking_a_live_session_waits_for_no_writer(tmp_path: Path) -> None:
    """A web server checks the member's session at every request: a live one is known without the write
    lock, so no page waits while an import's or a purge's transaction holds it. A session that must end
    still ends, and is audited, once the writer is done."""
    url = new_database(tmp_path, "busy")  # a file on SQLite: its lock is held by another connection
    store = Store(url, create=True)
    try:
        store.migrate()
        init_database(store, "admin", ADMIN_PASSWORD)
        admin = login(store, "admin", ADMIN_PASSWORD)
        admin.add_user("sup", "supervisor", PW)
        sup = login(store, "sup", PW)
        with store.atomic() as conn, ThreadPoolExecutor(1) as pool:  # another job's write transaction
            if ENGINE == "postgresql":
                conn.exec_driver_sql("LOCK TABLE sessions, audit_log IN SHARE MODE")
            checked = pool.submit(identify, store, sup.token, client="lab")
            assert checked.result(timeout=5).name == "sup"  # (a wait for the lock would take 15 s)
        admin.disable_user("sup")
        assert identify(store, sup.token, client="lab") is None
        assert identify(store, sup.token, client="lab") is None
        with store.read() as conn:
            ended = conn.execute(
                sa.select(s.AuditEntry.outcome, s.AuditEntry.detail).where(
                    s.AuditEntry.operation == "resume", s.AuditEntry.user_name == "sup"
                )
            ).all()
        assert [tuple(row) for row in ended] == [("denied", "disabled")]  # once, as the session ended
    finally:
        store.dispose()
        drop_database(url)


def test_training_records(admin_store: Store) -> None:
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    admin.add_user("trn", "trainer", PW)
    admin.add_user("jdoe", "investigator", "investigator-pass-2027")
    trainer = login(admin_store, "trn", PW)
    expires = trainer.record_training("jdoe", completed_on=dt.date(2026, 11, 1), valid_days=365)
    assert expires == dt.date(2027, 11, 1)
    users = {r["name"]: r for r in admin.list_users().to_dicts()}
    assert users["jdoe"]["trained_until"] == dt.date(2027, 11, 1)
    assert users["trn"]["trained_until"] is None
    with pytest.raises(NotFound):
        trainer.record_training("ghost")
    with pytest.raises(InvalidInput, match="future"):
        trainer.record_training("jdoe", completed_on=dt.date.today() + dt.timedelta(days=2))


def test_bad_user_input_is_refused(admin_store: Store) -> None:
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    with pytest.raises(InvalidInput, match="unknown role"):
        admin.add_user("x", "sheriff", PW)
    with pytest.raises(InvalidInput, match="user name"):
        admin.add_user("Robert'); DROP TABLE users;--", "analyst", PW)
    with pytest.raises(InvalidPassword):
        admin.add_user("weak", "analyst", "short")
    last = audit_rows(admin_store)[-1]
    assert (last.operation, last.outcome) == ("users.add", "denied")
    assert last.detail == "a password needs at least 12 characters"


def test_the_audit_chain_links(admin_store: Store) -> None:
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    admin.list_users()
    rows = audit_rows(admin_store)
    assert rows[0].prev_hash == GENESIS
    for prev, row in zip(rows, rows[1:], strict=False):
        assert row.prev_hash == prev.hash
    for row in rows:
        assert entry_hash(row.prev_hash, row._asdict()) == row.hash
