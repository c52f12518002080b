"""Data commands through the door from the command line: login, search, refusals, the audit report."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo

import pytest
import sqlalchemy as sa

from alpr_lib.store import Store
from alpr_lib.store import schema as s
from workbench.config import local_time

from .conftest import DEMO_PASSWORD

WHY = ["--purpose", "investigation", "--case", "26-01234", "--reason", "vehicle seen at the scene"]


def busiest_plate(store: Store) -> tuple[str, int]:
    """The plate with the most reads, and how many a search finds: its reads and the reads whose other
    reading it is."""
    with store.read() as conn:
        row = conn.execute(
            sa.select(s.Plate.plate, sa.func.count())
            .join(s.Read, s.Read.plate_id == s.Plate.id)
            .group_by(s.Plate.plate)
            .order_by(sa.func.count().desc(), s.Plate.plate)
            .limit(1)
        ).one()
        others = conn.execute(
            sa.select(sa.func.count(sa.distinct(s.ReadAlternative.read_id)))
            .join(s.Plate, s.Plate.id == s.ReadAlternative.plate_id)
            .where(s.Plate.plate == row[0])
        ).scalar_one()
    return str(row[0]), int(row[1]) + int(others)


def test_search_plate_json_matches_the_database(run, city: Store) -> None:
    plate, reads = busiest_plate(city)
    db = str(city.url)
    out = json.loads(
        run(
            "search",
            "plate",
            plate.lower(),
            *WHY,
            "--user",
            "analyst",
            "--db",
            db,
            "--json",
            env={"WORKBENCH_PASSWORD": DEMO_PASSWORD},
        ).stdout
    )
    assert out["count"] == reads and out["truncated"] is False and isinstance(out["audit_id"], int)
    assert {r["plate"] for r in out["rows"] if r["reading"] == "top"} == {plate}
    assert {r["alternative"] for r in out["rows"] if r["reading"] == "alternative"} <= {plate}
    assert {"plate", "state", "ts", "camera", "lat", "lon"} <= set(out["rows"][0])
    for reading in ("top", "alternative"):  # the plate's own reads oldest first, then the others'
        stamps = [r["ts"] for r in out["rows"] if r["reading"] == reading]
        assert stamps == sorted(stamps)
    readings = [r["reading"] for r in out["rows"]]
    assert readings == sorted(readings, key="top".__ne__)
    capped = json.loads(
        run(
            "search",
            "plate",
            plate,
            *WHY,
            "--limit",
            "1",
            "--user",
            "analyst",
            "--db",
            db,
            "--json",
            env={"WORKBENCH_PASSWORD": DEMO_PASSWORD},
        ).stdout
    )
    assert (capped["count"], capped["truncated"]) == (1, reads > 1)


@pytest.mark.parametrize(
    ("text", "end", "expected"),
    [
        ("2026-11-03T14:00", True, "2026-11-03T14:00:00-08:00"),  # a time is that time, end or not
        ("2026-11-03", False, "2026-11-03T00:00:00-08:00"),
        ("2026-11-03", True, "2026-11-03T23:59:59.999000-08:00"),  # a plain date ends with its last instant
        (
            "2026-11-01",
            True,
            "2026-11-01T23:59:59.999000-08:00",
        ),  # the day of 25 hours (daylight saving ends)
        ("2026-11-03T00:00Z", True, "2026-11-03T00:00:00+00:00"),
    ],
)
def test_times_are_local_and_a_plain_date_ends_with_its_day(text: str, end: bool, expected: str) -> None:
    assert local_time(text, "America/Los_Angeles", end=end).isoformat() == expected


def test_a_window_to_a_plain_date_takes_in_that_whole_day(run, city: Store) -> None:
    plate, _reads = busiest_plate(city)
    zone = zoneinfo.ZoneInfo("America/Los_Angeles")  # the default department time zone
    every = search_rows(run, city, plate)
    days = sorted({dt.datetime.fromisoformat(r["ts"]).astimezone(zone).date() for r in every})
    first, last = days[0], days[len(days) // 2]
    window = ["--from", first.isoformat(), "--to", last.isoformat()]
    got = search_rows(run, city, plate, *window)
    expected = [
        r for r in every if first <= dt.datetime.fromisoformat(r["ts"]).astimezone(zone).date() <= last
    ]
    assert [r["read_id"] for r in got] == [r["read_id"] for r in expected] and got


def search_rows(run, city: Store, plate: str, *args: str) -> list[dict]:
    out = run(
        "search", "plate", plate, *WHY, *args, "--user", "analyst", "--db", str(city.url), "--json",
        env={"WORKBENCH_PASSWORD": DEMO_PASSWORD, "WORKBENCH_TIMEZONE": "America/Los_Angeles"},
    )  # fmt: skip
    return json.loads(out.stdout)["rows"]


def test_login_once_then_search_then_logout(run, city: Store) -> None:
    plate, _ = busiest_plate(city)
    db = str(city.url)
    run("login", "--user", "investigator", "--db", db, env={"WORKBENCH_PASSWORD": DEMO_PASSWORD})
    out = json.loads(run("search", "plate", plate, *WHY, "--db", db, "--json").stdout)
    assert out["count"] > 0
    with city.read() as conn:
        entry = conn.execute(sa.select(s.AuditEntry).where(s.AuditEntry.id == out["audit_id"])).one()
    assert (entry.user_name, entry.client, entry.case_number) == ("investigator", "cli", "26-01234")
    assert "Logged out" in run("logout", "--db", db).stdout
    refused = run("search", "plate", plate, *WHY, "--db", db, ok=False)
    assert refused.exit_code != 0 and "--user" in refused.stderr


@pytest.mark.parametrize(
    ("user", "why", "message"),
    [
        ("analyst", [], "say why you are searching"),
        ("analyst", ["--purpose", "investigation", "--reason", "no case"], "needs a case number"),
        ("analyst", ["--purpose", "investigation", "--case", "2026/1", "--reason", "bad"], "format"),
        ("trainee", WHY, "no ALPR training"),
        ("supervisor", WHY, "may not search.plate"),
    ],
)
def test_refusals_are_one_line_and_audited(run, city: Store, user: str, why: list[str], message: str) -> None:
    result = run(
        "search",
        "plate",
        "ABC123",
        *why,
        "--user",
        user,
        "--db",
        str(city.url),
        env={"WORKBENCH_PASSWORD": DEMO_PASSWORD},
        ok=False,
    )
    lines = result.stderr.strip().splitlines()
    assert result.exit_code != 0 and len(lines) == 1 and message in lines[0]
    assert "ABC123" not in result.stderr  # no plate text in errors
    with city.read() as conn:
        last = conn.execute(sa.select(s.AuditEntry).order_by(s.AuditEntry.id.desc()).limit(1)).one()
    assert (last.user_name, last.operation, last.outcome) == (user, "search.plate", "denied")


def test_audit_report_for_supervisors(run, city: Store) -> None:
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    plate, _ = busiest_plate(city)
    for case in ("26-01234", "26-03131", "26-05555"):  # the analyst's demo cases
        run(
            "search",
            "plate",
            plate,
            "--purpose",
            "investigation",
            "--case",
            case,
            "--reason",
            "again",
            "--user",
            "analyst",
            "--db",
            db,
            env=env,
        )
    report = json.loads(
        run(
            "audit", "report", "--member", "analyst", "--user", "supervisor", "--db", db, "--json", env=env
        ).stdout
    )
    searches = [r for r in report["rows"] if r["operation"] == "search.plate"]
    assert len(searches) == 3 and {r["case_number"] for r in searches} == {"26-01234", "26-03131", "26-05555"}
    assert any(f["flag"] == "repeat-plate" and f["user_name"] == "analyst" for f in report["flags"])
    with city.read() as conn:
        head = conn.execute(
            sa.select(s.AuditEntry.hash).where(s.AuditEntry.id == report["checkpoint"]["last_id"])
        )
        assert head.scalar_one() == report["checkpoint"]["hash"]
    text = run("audit", "report", "--user", "supervisor", "--db", db, env=env).stdout
    assert "repeat-plate" in text and "search.plate" in text
    refused = run("audit", "report", "--user", "analyst", "--db", db, env=env, ok=False)
    assert "may not audit.report" in refused.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", "partial", "7[AB"], "not closed"),
        (["search", "partial", "A%B"], "not part of the pattern language"),
        (["search", "fuzzy", "7-!"], "2-8 letters and digits"),
        (["canvass", "--at", "91,-124.1", "--from", "2026-10-05", "--to", "2026-10-06"], "latitude"),
        (
            [
                "canvass",
                "--at",
                "43.9,-124.1",
                "--radius",
                "-5",
                "--from",
                "2026-10-05",
                "--to",
                "2026-10-06",
            ],
            "radius",
        ),
        (["canvass", "--at", "43.9,-124.1", "--from", "2026-10-06", "--to", "2026-10-05"], "must be after"),
        (["canvass", "--at", "43.9", "--from", "2026-10-05", "--to", "2026-10-06"], "2 numbers"),
        (["canvass", "--at", "43.9,-124.1", "--from", "yesterday", "--to", "2026-10-06"], "ISO 8601"),
        (["common", "--scene", "43.9,-124.1,400"], "LAT,LON,METRES,FROM,TO"),
        (["timeline", "'; DROP TABLE reads;--"], "2-8 letters and digits"),
        (["alerts", "verify", "999999", "--result", "cleared", "--note", "not here"], "no alert"),
    ],
)
def test_bad_input_is_one_line_and_changes_nothing(run, city: Store, args: list[str], message: str) -> None:
    with city.read() as conn:
        reads = conn.execute(sa.select(sa.func.count()).select_from(s.Read)).scalar_one()
    result = run(
        *args,
        *WHY,
        "--user",
        "investigator",
        "--db",
        str(city.url),
        env={"WORKBENCH_PASSWORD": DEMO_PASSWORD},
        ok=False,
    )
    lines = result.stderr.strip().splitlines()
    assert result.exit_code != 0 and len(lines) == 1 and message in lines[0], result.stderr
    with city.read() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(s.Read)).scalar_one() == reads
        last = conn.execute(sa.select(s.AuditEntry).order_by(s.AuditEntry.id.desc()).limit(1)).one()
    if message not in ("ISO 8601", "2 numbers", "LAT,LON,METRES,FROM,TO"):
        assert last.outcome in ("denied", "error")  # refused at the door, and on record


def test_sql_injection_is_plain_text_to_the_search(run, city: Store) -> None:
    result = run(
        "search",
        "partial",
        "X' OR '1'='1",
        *WHY,
        "--user",
        "investigator",
        "--db",
        str(city.url),
        env={"WORKBENCH_PASSWORD": DEMO_PASSWORD},
        ok=False,
    )
    assert "not part of the pattern language" in result.stderr
    found = json.loads(
        run(
            "search",
            "plate",
            "1 OR 1=1",
            *WHY,
            "--user",
            "investigator",
            "--db",
            str(city.url),
            "--json",
            env={"WORKBENCH_PASSWORD": DEMO_PASSWORD},
        ).stdout
    )
    assert found["count"] == 0


def test_every_data_command_answers_json(run, city: Store, manifest: dict) -> None:
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    scen = manifest["scenarios"]
    burglary = scen["burglary_series"]["scenes"]
    scene_args = []
    for sc in burglary:
        scene_args += ["--scene", f"{sc['lat']},{sc['lon']},{sc['radius_m']},{sc['from']},{sc['to']}"]
    commands = [
        ["search", "partial", scen["partial_plate"]["pattern"]],
        ["search", "fuzzy", scen["stolen_vehicle"]["plate"], "--max-edits", "1"],
        [
            "canvass",
            "--at",
            f"{burglary[0]['lat']},{burglary[0]['lon']}",
            "--radius",
            "400",
            "--from",
            burglary[0]["from"],
            "--to",
            burglary[0]["to"],
        ],
        ["common", *scene_args, "--min", "3"],
        ["timeline", scen["convoy"]["target"]],
        ["convoy", scen["convoy"]["target"]],
        ["clones"],
        ["alerts", "list"],
    ]
    answers = {}
    for cmd in commands:
        out = json.loads(run(*cmd, *WHY, "--user", "investigator", "--db", db, "--json", env=env).stdout)
        assert isinstance(out["audit_id"], int) and out["count"] == len(out["rows"])
        answers[cmd[0] if cmd[0] != "search" else cmd[1]] = out
    assert scen["partial_plate"]["plate"] in {r["plate"] for r in answers["partial"]["rows"]}
    assert answers["common"]["rows"][0]["plate"] == scen["burglary_series"]["plate"]
    assert answers["convoy"]["rows"][0]["plate"] == scen["convoy"]["companion"]
    assert scen["clone"]["plate"] in {r["plate"] for r in answers["clones"]["rows"]}
    assert {"plate", "state", "ts", "camera", "lat", "lon"} <= set(answers["fuzzy"]["rows"][0])


def test_audit_quarterly(run, city: Store) -> None:
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    run("search", "plate", "ABC123", *WHY, "--user", "analyst", "--db", db, env=env)
    year = dt.date.today().year
    quarter = f"{year}Q{(dt.date.today().month - 1) // 3 + 1}"
    out = json.loads(
        run(
            "audit", "quarterly", "--quarter", quarter, "--user", "supervisor", "--db", db, "--json", env=env
        ).stdout
    )
    assert out["searches"] >= 1 and any(m["user_name"] == "analyst" for m in out["by_member"])
    bad = run(
        "audit", "quarterly", "--quarter", "2026-4", "--user", "supervisor", "--db", db, env=env, ok=False
    )
    assert "YYYYQN" in bad.stderr


def test_a_trainer_opens_the_training_gate_from_the_command_line(run, city: Store) -> None:
    """The trainer flow end to end: a new member is refused data, the trainer records the training, the member
    gets data — each step in the audit log."""
    plate, reads = busiest_plate(city)
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    search = ["search", "plate", plate, *WHY, "--user", "trainee", "--db", db, "--json"]
    refused = run(*search, ok=False, env=env)
    assert refused.exit_code == 1 and "training" in refused.stderr and plate not in refused.stderr
    run("users", "train", "trainee", "--user", "trainer", "--db", db, env=env)
    assert json.loads(run(*search, env=env).stdout)["count"] == reads
    with city.read() as conn:
        outcomes = conn.execute(
            sa.select(s.AuditEntry.operation, s.AuditEntry.outcome)
            .where(s.AuditEntry.user_name.in_(["trainee", "trainer"]))
            .order_by(s.AuditEntry.id)
        ).all()
    assert [tuple(o) for o in outcomes if o[0] in ("search.plate", "users.train")] == [
        ("search.plate", "denied"),
        ("users.train", "ok"),
        ("search.plate", "ok"),
    ]
