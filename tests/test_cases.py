"""The case registry from the member's seat: an investigation search names an open case its member is
assigned to, or it is refused and audited; a supervisor's override needs a reason and is flagged; the review
flags searches on cases closed soon after and members hopping between cases added the same day."""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from alpr_lib.access import login
from alpr_lib.access.purpose import Why
from alpr_lib.errors import AccessDenied, InvalidCaseNumber, InvalidInput
from alpr_lib.store import Store
from alpr_lib.store import schema as s

from .conftest import DEMO_PASSWORD
from .test_door import last_entry, some_plate


def entry_override(entry) -> int:  # type: ignore[no-untyped-def]
    return int(json.loads(entry.params)["override"])


def _search(session, plate: str, case: str, purpose: str = "investigation"):  # type: ignore[no-untyped-def]
    return session.search_plate(plate, purpose=purpose, case=case, reason="following up a lead")


def test_an_investigation_names_an_open_case_its_member_is_assigned_to(city: Store) -> None:
    plate = some_plate(city)
    investigator = login(city, "investigator", DEMO_PASSWORD)
    analyst = login(city, "analyst", DEMO_PASSWORD)
    supervisor = login(city, "supervisor", DEMO_PASSWORD)
    assert _search(investigator, plate, "26-01234").count >= 1  # the demo's burglary series: assigned

    refusals = [
        (investigator, "26-04444", "not open in the case registry"),  # the right shape, never opened
        (investigator, "26-00077", "is closed"),  # the demo's closed larceny case
        (analyst, "26-00077", "is closed"),
    ]
    for member, case, words in refusals:
        with pytest.raises(AccessDenied, match=words):
            _search(member, plate, case)
        entry = last_entry(city)
        assert (entry.user_name, entry.operation, entry.outcome, entry.case_number) == (
            member.name, "search.plate", "denied", case
        )  # fmt: skip
        assert words in entry.detail and entry.result_count is None

    with pytest.raises(AccessDenied, match="may not cases.open"):
        investigator.open_case("26-04444", offense="burglary", assign=["investigator"])
    with pytest.raises(InvalidInput, match="unknown offense"):
        supervisor.open_case("26-04444", offense="looking-around", assign=["investigator"])
    supervisor.open_case("26-04444", offense="robbery", assign=["investigator"])
    assert _search(investigator, plate, "26-04444").count >= 1
    with pytest.raises(AccessDenied, match="not assigned to case 26-04444"):
        _search(analyst, plate, "26-04444")
    supervisor.assign_case("26-04444", "analyst")
    assert _search(analyst, plate, "26-04444").count >= 1
    supervisor.close_case("26-04444")
    with pytest.raises(AccessDenied, match="is closed"):
        _search(investigator, plate, "26-04444")

    assert set(investigator.open_cases()) == {"26-01234", "26-03131", "26-04242", "26-05151", "26-05555"}
    with pytest.raises(AccessDenied):
        investigator.cases(everyone=True)
    entry = last_entry(city)
    assert (entry.user_name, entry.operation, entry.outcome) == ("investigator", "cases.list.all", "denied")
    assert "26-04444" in supervisor.cases(everyone=True, status="closed")["case"].to_list()


def test_other_purposes_name_their_report_or_alert(city: Store) -> None:
    plate = some_plate(city)
    analyst = login(city, "analyst", DEMO_PASSWORD)
    with pytest.raises(InvalidCaseNumber, match="missing-person"):
        analyst.search_plate(plate, purpose="missing-person", reason="endangered adult")
    assert _search(analyst, plate, "26-07070", purpose="missing-person").count >= 1  # the report number
    with pytest.raises(InvalidCaseNumber, match="no alert 999999"):
        _search(analyst, plate, "999999", purpose="hit-verification")
    with pytest.raises(InvalidCaseNumber, match="names the alert it verifies"):
        analyst.search_plate(plate, purpose="hit-verification", reason="checking a hit")
    assert analyst.alerts(purpose="hit-verification", reason="the verifier's list").count >= 1
    assert last_entry(city).outcome == "ok"


def test_a_supervisors_override_needs_a_reason_and_is_flagged(city: Store, run) -> None:
    plate = some_plate(city)
    analyst = login(city, "analyst", DEMO_PASSWORD)
    supervisor = login(city, "supervisor", DEMO_PASSWORD)
    with pytest.raises(InvalidInput, match="reason"):
        supervisor.override_case("26-08888", "analyst", reason="ok")
    with pytest.raises(AccessDenied):
        login(city, "investigator", DEMO_PASSWORD).override_case("26-08888", "analyst", reason="x" * 20)
    with pytest.raises(AccessDenied):
        _search(analyst, plate, "26-08888")
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    why = ["--reason", "mutual aid request from the sheriff"]
    out = run("cases", "override", "26-08888", "analyst", *why, "--user", "supervisor", "--db", db, env=env)
    assert "flagged for review" in out.stdout
    assert _search(analyst, plate, "26-08888").count >= 1
    entry = last_entry(city)
    assert entry.outcome == "ok" and json.loads(entry.params)["override"] >= 1
    investigator = login(city, "investigator", DEMO_PASSWORD)
    with pytest.raises(AccessDenied):  # the override is the analyst's, not everyone's
        _search(investigator, plate, "26-08888")
    forged = Why(
        "investigation", "26-08888", "borrowing the analyst's override", override=entry_override(entry)
    )
    with pytest.raises(AccessDenied):  # an override named in the call is the caller's word: the gate drops it
        investigator.operate("search_plate", plate, why=forged)
    assert (last_entry(city).user_name, last_entry(city).outcome) == ("investigator", "denied")
    flags = supervisor.audit_report(user="analyst").flags
    assert "override" in flags["flag"].to_list()


def test_the_review_flags_closed_cases_and_same_day_case_hopping(city: Store, run) -> None:
    plate = some_plate(city)
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    for case in ("26-06001", "26-06002", "26-06003"):
        args = ["cases", "open", case, "--offense", "larceny", "--assign", "analyst"]
        run(*args, "--user", "supervisor", "--db", db, env=env)
    analyst = login(city, "analyst", DEMO_PASSWORD)
    for case in ("26-06001", "26-06002", "26-06003"):
        _search(analyst, plate, case)
    run("cases", "close", "26-06001", "--user", "supervisor", "--db", db, env=env)
    listed = json.loads(run("cases", "list", "--user", "analyst", "--db", db, "--json", env=env).stdout)
    mine = {r["case"]: r["status"] for r in listed["rows"]}
    assert mine["26-06001"] == "closed" and mine["26-06002"] == "open" and "26-04444" not in mine
    report = json.loads(
        run(
            "audit", "report", "--member", "analyst", "--user", "supervisor", "--db", db, "--json", env=env
        ).stdout
    )
    flags = {f["flag"]: f for f in report["flags"] if f["user_name"] == "analyst"}
    assert "closed-case" in flags and "26-06001" in flags["closed-case"]["detail"]
    assert "case-hopping" in flags and "3 cases" in flags["case-hopping"]["detail"]
    assert "last_purge" in report and "purge_overdue" in report["last_purge"]
    with city.read() as conn:
        trail = conn.execute(
            sa.select(s.AuditEntry.operation).where(s.AuditEntry.operation.like("cases.%"))
        ).scalars()
        assert sorted(set(trail)) == ["cases.close", "cases.list", "cases.open"]
    # A supervisor assigned to none is told how to see every case, not "No cases" beside a full registry.
    empty = run("cases", "list", "--user", "supervisor", "--db", db, env=env)
    assert empty.stdout == "" and "--all lists every case" in empty.stderr
    assert "26-06002" in run("cases", "list", "--all", "--user", "supervisor", "--db", db, env=env).stdout
