"""Public records and custody: the custodian purges and reads the destruction records without an
administrator, copies are registered and come due, the transparency report of a past quarter counts that
quarter only, and the audit export has the columns auditors use."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest
import sqlalchemy as sa

from alpr_lib.access import login
from alpr_lib.errors import AccessDenied, InvalidInput
from alpr_lib.store import Store
from alpr_lib.store import schema as s

from .conftest import DEMO_PASSWORD, DEMO_START
from .test_door import some_plate

EXPORT = (
    "ID,Name,Org Name,Total Networks Searched,License Plate,Reason,Case #,Filters,Search Time,Search Type"
)


def test_the_custodian_purges_reads_the_records_and_confirms_copies(city: Store, run, tmp_path: Path) -> None:
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD, "WORKBENCH_RETENTION_DAYS": "30"}
    plate = some_plate(city)
    investigator = login(city, "investigator", DEMO_PASSWORD)
    investigator.set_purpose("investigation", case="26-05555", reason="evidence for the prosecutor")
    investigator.release(agency="Lane County District Attorney", dest=tmp_path / "package", plate=plate)

    # The custodian, no administrator: a purge as of 40 days after the demo city began.
    when = dt.datetime.combine(DEMO_START + dt.timedelta(days=40), dt.time(12), tzinfo=dt.UTC).isoformat()
    done = json.loads(
        run("purge", "--now", when, "--user", "custodian", "--db", db, "--json", env=env).stdout
    )
    assert done["reads_destroyed"] > 1000
    with pytest.raises(AccessDenied):
        login(city, "analyst", DEMO_PASSWORD).purge(now=dt.datetime.fromisoformat(when))
    report = json.loads(
        run("records", "destruction", "--user", "custodian", "--db", db, "--json", env=env).stdout
    )
    assert report["purges"][0]["reads_destroyed"] == done["reads_destroyed"]
    assert report["copies_due"] == []  # the release is held while its case is open

    supervisor = login(city, "supervisor", DEMO_PASSWORD)
    supervisor.close_case("26-05555")
    custodian = login(city, "custodian", DEMO_PASSWORD)
    due = custodian.destruction_report()["copies_due"]
    assert due["kind"].to_list() == ["release"] and due["case"].to_list() == ["26-05555"]
    assert plate not in due["holds"][0]  # counts, never plate text
    copy_id = int(due["copy_id"][0])
    with pytest.raises(AccessDenied):
        supervisor.confirm_copy_destroyed(copy_id, note="deleted")
    with pytest.raises(InvalidInput, match="how it was destroyed"):
        custodian.confirm_copy_destroyed(copy_id, note="ok")
    run("records", "confirm", str(copy_id), "--note", "package deleted from the share", "--user", "custodian",
        "--db", db, env=env)  # fmt: skip
    assert custodian.destruction_report()["copies_due"].height == 0
    assert custodian.copies()["destroyed_by"].to_list() == ["custodian"]
    with pytest.raises(InvalidInput, match="already confirmed"):
        custodian.confirm_copy_destroyed(copy_id, note="deleted twice")


def test_the_officers_are_named_members_kept_in_history(city: Store, run) -> None:
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    admin = login(city, "admin", DEMO_PASSWORD)
    with pytest.raises(InvalidInput, match="custodian role"):
        admin.name_officer("custodian", "analyst")
    with pytest.raises(AccessDenied):
        login(city, "supervisor", DEMO_PASSWORD).name_officer("designee", "supervisor")
    run("program", "name", "designee", "supervisor", "--user", "admin", "--db", db, env=env)
    now = {r["office"]: r["member"] for r in admin.officers().to_dicts()}
    assert now == {"designee": "supervisor", "custodian": "custodian"}
    shown = run("program", "show", "--history", "--user", "analyst", "--db", db, "--json", env=env)
    history = json.loads(shown.stdout)["rows"]
    assert [r["member"] for r in history if r["office"] == "designee"] == ["supervisor", "admin"]


def test_the_transparency_report_of_a_past_quarter_counts_only_that_quarter(
    city: Store, run, tmp_path: Path
) -> None:
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    policy = tmp_path / "policy.txt"
    policy.write_text("807.1 PURPOSE AND SCOPE\n\nThe department's full policy, published whole.\n")
    env["WORKBENCH_POLICY_FILE"] = str(policy)
    quarter = f"{DEMO_START.year}Q{(DEMO_START.month - 1) // 3 + 1}"  # the demo city's own quarter
    run("transparency", "--out", str(tmp_path / "q"), "--quarterly", quarter, "--user", "supervisor",
        "--db", db, "--json", env=env)  # fmt: skip
    year = DEMO_START.year - 1  # a quarter a year before the city: nothing happened
    past = json.loads(
        run("transparency", "--out", str(tmp_path / "past"), "--quarterly", f"{year}Q1",
            "--user", "supervisor", "--db", db, "--json", env=env).stdout
    )  # fmt: skip
    assert (past["cameras"], past["reads_collected"], past["searches"], past["releases"]) == (0, 0, 0, 0)
    assert past["hotlist_hits"] == 0 and past["holds"] == 0
    figures = json.loads(
        run("transparency", "--out", str(tmp_path / "now"), "--quarterly", quarter, "--user", "supervisor",
            "--db", db, "--json", env=env).stdout
    )  # fmt: skip
    with city.read() as conn:
        reads = conn.execute(sa.select(sa.func.count()).select_from(s.Read)).scalar_one()
    assert figures["reads_collected"] == reads and figures["cameras"] > 0 and figures["hotlist_hits"] > 0
    page = (tmp_path / "q" / "index.html").read_text()
    assert "quarterly audit" in page and "published whole" in page and "Prohibited uses" in page
    assert "custodian of records" in page and "What it does not collect" in page


def test_the_audit_export_has_the_columns_auditors_use_and_redacts(city: Store, run, tmp_path: Path) -> None:
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    plate = some_plate(city)
    analyst = login(city, "analyst", DEMO_PASSWORD)
    analyst.search_plate(plate, state="OR", purpose="investigation", case="26-01234", reason="burglary lead")
    out = run("audit", "export", "--format", "csv", "--user", "supervisor", "--db", db, env=env).stdout
    assert out.splitlines()[0] == EXPORT
    rows = list(csv.DictReader(io.StringIO(out)))
    mine = [r for r in rows if r["License Plate"] == plate]
    assert len(mine) == 1 and mine[0]["Case #"] == "26-01234" and mine[0]["Search Type"] == "Plate search"
    assert mine[0]["Name"] == "analyst" and "burglary lead" in mine[0]["Reason"]
    assert json.loads(mine[0]["Filters"])["state"] == "OR" and mine[0]["Total Networks Searched"] == "1"
    redacted = run("audit", "export", "--redact", "--user", "supervisor", "--db", db, env=env).stdout
    assert plate not in redacted and "analyst" not in redacted and "Member 1" in redacted
    with pytest.raises(AccessDenied):
        analyst.audit_export()
    with city.read() as conn:
        ops = conn.execute(sa.select(s.AuditEntry.operation).where(s.AuditEntry.operation == "audit.export"))
        assert len(ops.all()) == 3  # two exports and the analyst's refused try


def test_training_leaves_a_record_and_no_member_approves_their_own(
    city: Store, run, shared_store: Store
) -> None:
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    trainee = login(city, "trainee", DEMO_PASSWORD)
    assert trainee.complete_exercise("policy-in-practice") is True
    assert trainee.complete_exercise("policy-in-practice") is False  # once is enough
    with pytest.raises(InvalidInput, match="unknown exercise"):
        trainee.complete_exercise("skipped-it")
    with pytest.raises(AccessDenied):
        trainee.record_training("trainee")  # a trainee is no trainer
    trainer = login(city, "trainer", DEMO_PASSWORD)
    with pytest.raises(AccessDenied, match="never by themselves"):
        trainer.record_training("trainer")
    said = run("users", "train", "trainee", "--user", "trainer", "--db", db, env=env)
    assert "Exercises completed: policy-in-practice" in said.stdout
    listed = json.loads(run("users", "list", "--user", "trainer", "--db", db, "--json", env=env).stdout)
    assert {r["name"]: r["exercises"] for r in listed["rows"]}["trainee"] == ["policy-in-practice"]
    with city.read() as conn:
        kept = conn.execute(
            sa.select(s.TrainingRecord.completions).order_by(s.TrainingRecord.id.desc()).limit(1)
        ).scalar_one()
        refused = (
            conn.execute(
                sa.select(s.AuditEntry.outcome)
                .where(s.AuditEntry.operation == "users.train")
                .order_by(s.AuditEntry.id)
            )
            .scalars()
            .all()
        )
    assert json.loads(kept) == ["policy-in-practice"] and refused[-3:] == ["denied", "denied", "ok"]
    admin = login(shared_store, "admin", "first-admin-pass-2026")
    with pytest.raises(InvalidInput, match="synthetic"):
        admin.complete_exercise("audit-review")  # real data: exercises are for the demo city
