"""Accounts for a whole career, tried as members and administrators would: passwords changed and reset, roles,
re-enabling, a second factor, and the duties nobody may do for themselves."""

from __future__ import annotations

import json
import time
from typing import Any

import pyotp
import pytest
import sqlalchemy as sa

from alpr_lib.access import login
from alpr_lib.errors import AccessDenied, InvalidPassword, NotAuthenticated, SecondFactorNeeded
from alpr_lib.store import Store
from alpr_lib.store import schema as s

from .conftest import DEMO_PASSWORD

ENV = {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
NEW = "violet-harbour-lantern-42"
TEMPORARY = "copper-meadow-signal-77"


def entries(store: Store, operation: str) -> list[Any]:
    with store.read() as conn:
        return conn.execute(
            sa.select(s.AuditEntry.user_name, s.AuditEntry.outcome, s.AuditEntry.detail, s.AuditEntry.params)
            .where(s.AuditEntry.operation == operation)
            .order_by(s.AuditEntry.id)
        ).all()


def test_a_member_changes_their_password_and_the_old_one_stops_working(run: Any, city: Store) -> None:
    db = str(city.url)
    wrong = run(
        "users", "password", "--user", "analyst", "--db", db,
        env={"WORKBENCH_PASSWORD": "not-the-password-at-all", "WORKBENCH_NEW_PASSWORD": NEW}, ok=False,
    )  # fmt: skip
    assert wrong.exit_code == 1 and "wrong password" in wrong.stderr
    weak = run(
        "users", "password", "--user", "analyst", "--db", db,
        env={**ENV, "WORKBENCH_NEW_PASSWORD": "password1234"}, ok=False,
    )  # fmt: skip
    assert weak.exit_code == 1 and "breached" in weak.stderr
    kept = login(city, "analyst", DEMO_PASSWORD)  # a session of before: it ends with the change
    run("users", "password", "--user", "analyst", "--db", db, env={**ENV, "WORKBENCH_NEW_PASSWORD": NEW})
    with pytest.raises(NotAuthenticated):
        login(city, "analyst", DEMO_PASSWORD)
    with pytest.raises(NotAuthenticated, match="log in again"):
        kept.cases()
    assert login(city, "analyst", NEW).name == "analyst"
    assert [e.outcome for e in entries(city, "users.password")][-1] == "ok"


@pytest.mark.parametrize(
    ("password", "why"),
    [
        ("short-one", "12 characters"),
        ("password1234", "breached"),
        ("qwertyuiopasdf", "too easy to guess"),
        ("analystanalyst", "user name"),
        ("policedepartment", "too easy to guess"),
    ],
)
def test_the_password_policy_follows_nist(city: Store, password: str, why: str) -> None:
    with pytest.raises(InvalidPassword, match=why):
        login(city, "analyst", DEMO_PASSWORD).change_password(DEMO_PASSWORD, password)


def test_a_reset_password_must_be_changed_at_the_next_login(run: Any, city: Store) -> None:
    db = str(city.url)
    run(
        "users",
        "reset",
        "analyst",
        "--user",
        "admin",
        "--db",
        db,
        env={**ENV, "WORKBENCH_NEW_PASSWORD": TEMPORARY},
    )
    with pytest.raises(NotAuthenticated):
        login(city, "analyst", DEMO_PASSWORD)
    temp = {"WORKBENCH_PASSWORD": TEMPORARY}
    refused = run("cases", "list", "--user", "analyst", "--db", db, env=temp, ok=False)
    assert refused.exit_code == 1 and "reset your password" in refused.stderr
    listed = json.loads(run("users", "list", "--user", "admin", "--db", db, "--json", env=ENV).stdout)
    assert next(r for r in listed["rows"] if r["name"] == "analyst")["must_change_password"] is True
    run("users", "password", "--user", "analyst", "--db", db, env={**temp, "WORKBENCH_NEW_PASSWORD": NEW})
    run("cases", "list", "--user", "analyst", "--db", db, env={"WORKBENCH_PASSWORD": NEW})
    # An administrator resets others' passwords, never their own.
    own = run(
        "users",
        "reset",
        "admin",
        "--user",
        "admin",
        "--db",
        db,
        env={**ENV, "WORKBENCH_NEW_PASSWORD": NEW},
        ok=False,
    )
    assert own.exit_code == 1 and "users password" in own.stderr


def test_roles_change_by_another_administrator_and_sessions_end(run: Any, city: Store) -> None:
    db = str(city.url)
    before = login(city, "analyst", DEMO_PASSWORD)
    run("users", "role", "analyst", "investigator", "--user", "admin", "--db", db, env=ENV)
    with pytest.raises(NotAuthenticated):
        before.cases()
    assert login(city, "analyst", DEMO_PASSWORD).role == "investigator"
    own = run("users", "role", "admin", "analyst", "--user", "admin", "--db", db, env=ENV, ok=False)
    assert own.exit_code == 1 and "never by themselves" in own.stderr
    assert entries(city, "users.role")[-1].outcome == "denied"
    not_admin = run(
        "users", "role", "trainee", "admin", "--user", "supervisor", "--db", db, env=ENV, ok=False
    )
    assert not_admin.exit_code == 1 and "may not users.role" in not_admin.stderr


def test_a_disabled_member_is_enabled_again(run: Any, city: Store) -> None:
    db = str(city.url)
    run("users", "disable", "analyst", "--user", "admin", "--db", db, env=ENV)
    assert run("cases", "list", "--user", "analyst", "--db", db, env=ENV, ok=False).exit_code == 1
    run("users", "enable", "analyst", "--user", "admin", "--db", db, env=ENV)
    run("cases", "list", "--user", "analyst", "--db", db, env=ENV)
    assert [e.outcome for e in entries(city, "users.enable")] == ["ok"]


def test_nobody_records_their_own_training(run: Any, city: Store) -> None:
    db = str(city.url)
    for member in ("admin", "trainer", "supervisor"):
        own = run("users", "train", member, "--user", member, "--db", db, env=ENV, ok=False)
        assert own.exit_code == 1 and "never by themselves" in own.stderr
    assert {(e.user_name, e.outcome, e.detail) for e in entries(city, "users.train")} >= {
        ("admin", "denied", "own training")
    }


def test_title_and_agency_are_recorded_and_listed(run: Any, city: Store) -> None:
    db = str(city.url)
    run(
        "users", "profile", "analyst", "--title", "Crime analyst", "--agency", "Lane County SO",
        "--contractor", "--user", "admin", "--db", db, env=ENV,
    )  # fmt: skip
    row = next(
        r
        for r in json.loads(run("users", "list", "--user", "admin", "--db", db, "--json", env=ENV).stdout)[
            "rows"
        ]
        if r["name"] == "analyst"
    )
    assert (row["title"], row["agency"], row["contractor"]) == ("Crime analyst", "Lane County SO", True)
    run("cases", "list", "--user", "analyst", "--db", db, env=ENV)  # an entry of theirs in the review's week
    report = json.loads(run("audit", "report", "--json", "--user", "supervisor", "--db", db, env=ENV).stdout)
    member = next(m for m in report["members"] if m["name"] == "analyst")
    assert (member["title"], member["agency"], member["contractor"]) == (
        "Crime analyst",
        "Lane County SO",
        True,
    )
    text = run("audit", "report", "--user", "supervisor", "--db", db, env=ENV).stdout
    assert "Crime analyst, Lane County SO, contractor" in text


def _enrol(run: Any, db: str, member: str) -> str:
    started = json.loads(run("users", "mfa", "enrol", "--json", "--user", member, "--db", db, env=ENV).stdout)
    assert started["uri"].startswith("otpauth://totp/") and started["confirmed"] is False
    secret = started["secret"]
    wrong = run(
        "users", "mfa", "enrol", "--confirm", "--user", member, "--db", db,
        env={**ENV, "WORKBENCH_OTP": "000000"}, ok=False,
    )  # fmt: skip
    assert wrong.exit_code == 1 and "not the authenticator's current one" in wrong.stderr
    run(
        "users", "mfa", "enrol", "--confirm", "--user", member, "--db", db,
        env={**ENV, "WORKBENCH_OTP": pyotp.TOTP(secret).now()},
    )  # fmt: skip
    return str(secret)


def test_a_member_with_an_authenticator_cannot_log_in_without_its_code(run: Any, city: Store) -> None:
    db = str(city.url)
    secret = _enrol(run, db, "supervisor")
    with city.read() as conn:
        stored = conn.execute(sa.select(s.User.mfa_secret).where(s.User.name == "supervisor")).scalar_one()
    assert secret not in stored  # sealed with the account key: the database file does not give it away
    without = run("cases", "list", "--user", "supervisor", "--db", db, env=ENV, ok=False)
    assert without.exit_code == 1 and "authenticator" in without.stderr
    wrong = run(
        "cases", "list", "--user", "supervisor", "--db", db, env={**ENV, "WORKBENCH_OTP": "123456"}, ok=False
    )
    assert wrong.exit_code == 1 and "wrong password or code" in wrong.stderr
    # The code of the next 30 seconds (a phone's clock runs ahead); the one used at enrolment serves no more.
    code = pyotp.TOTP(secret).at(time.time() + 30)
    run("cases", "list", "--user", "supervisor", "--db", db, env={**ENV, "WORKBENCH_OTP": code})
    replay = run(
        "cases", "list", "--user", "supervisor", "--db", db, env={**ENV, "WORKBENCH_OTP": code}, ok=False
    )
    assert replay.exit_code == 1
    details = [e.detail for e in entries(city, "logon") if e.user_name == "supervisor"]
    assert {"code-needed", "bad-code"} <= set(details)
    # A lost phone: an administrator removes the authenticator; the password alone works again.
    run("users", "mfa", "reset", "supervisor", "--user", "admin", "--db", db, env=ENV)
    run("cases", "list", "--user", "supervisor", "--db", db, env=ENV)


def test_a_two_step_logon_asks_for_the_code_once_the_password_is_proven(city: Store) -> None:
    """The web form's way: the password first, then the code alone on a second page."""
    session = login(city, "analyst", DEMO_PASSWORD)
    secret = session.begin_mfa()["secret"]
    session.confirm_mfa(pyotp.TOTP(secret).now())
    with pytest.raises(SecondFactorNeeded) as needed:
        login(city, "analyst", DEMO_PASSWORD)
    with pytest.raises(NotAuthenticated):  # no proof of the password: a code alone is not a login
        login(city, "analyst", "", otp=pyotp.TOTP(secret).at(time.time() + 30))
    proof = needed.value.proof
    assert (
        login(city, "analyst", "", otp=pyotp.TOTP(secret).at(time.time() + 30), proof=proof).name == "analyst"
    )
    with pytest.raises(NotAuthenticated):  # a proof serves once
        login(city, "analyst", "", otp=pyotp.TOTP(secret).at(time.time() + 30), proof=proof)


def test_guessing_codes_locks_the_account_like_guessing_passwords(city: Store) -> None:
    from alpr_lib.access.session import AccessSession

    session: AccessSession = login(city, "investigator", DEMO_PASSWORD)
    secret = session.begin_mfa()["secret"]
    session.confirm_mfa(pyotp.TOTP(secret).now())
    for _ in range(5):
        with pytest.raises(NotAuthenticated):
            login(city, "investigator", DEMO_PASSWORD, otp="000000")
    with pytest.raises(NotAuthenticated, match="locked"):
        login(city, "investigator", DEMO_PASSWORD, otp=pyotp.TOTP(secret).now())


def test_roles_named_in_the_settings_must_enrol_before_anything_else(run: Any, city: Store) -> None:
    db = str(city.url)
    strict = {**ENV, "WORKBENCH_MFA_ROLES": "admin,supervisor,custodian"}
    refused = run("cases", "list", "--user", "custodian", "--db", db, env=strict, ok=False)
    assert refused.exit_code == 1 and "must use a second factor" in refused.stderr
    run("cases", "list", "--user", "analyst", "--db", db, env=strict)  # analysts are not named
    with pytest.raises(AccessDenied):
        from alpr_lib.access import Policy

        login(city, "custodian", DEMO_PASSWORD, policy=Policy(mfa_roles=("custodian",))).cases()
