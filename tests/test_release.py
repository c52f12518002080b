"""Releases: only to law-enforcement or prosecutorial agencies, a package that verifies, tampering caught."""

from __future__ import annotations

import json
from pathlib import Path

from alpr_lib.store import Store

from .conftest import DEMO_PASSWORD

WHY = ["--purpose", "investigation", "--case", "26-01234", "--reason", "evidence for prosecution"]


def test_release_package_verifies_and_a_flipped_byte_fails(
    run, city: Store, manifest: dict, tmp_path: Path
) -> None:
    db, env = str(city.url), {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    for name, kind, state in (
        ("Lane County DA", "prosecutorial", "OR"),
        ("Coastal Tow Co.", "other", "OR"),
        ("King County SO", "law-enforcement", "WA"),
    ):
        run(
            "release",
            "agency",
            name,
            "--kind",
            kind,
            "--state",
            state,
            "--user",
            "admin",
            "--db",
            db,
            env=env,
        )
    plate = manifest["scenarios"]["clone"]["plate"]
    package = tmp_path / "pkg"
    out = json.loads(
        run(
            "release",
            "create",
            "--agency",
            "Lane County DA",
            "--plate",
            plate,
            "--out",
            str(package),
            *WHY,
            "--user",
            "investigator",
            "--db",
            db,
            "--json",
            env=env,
        ).stdout
    )
    assert out["count"] >= 2 and (package / "reads.parquet").exists() and (package / "map.html").exists()
    listed = json.loads((package / "manifest.json").read_text())
    assert (
        listed["case"] == "26-01234"
        and listed["released_by"] == "investigator"
        and "reads.csv" in listed["files"]
    )
    assert json.loads(run("release", "verify", str(package), "--json").stdout)["ok"] is True

    data = bytearray((package / "reads.csv").read_bytes())
    data[-2] ^= 0x01
    (package / "reads.csv").write_bytes(bytes(data))
    broken = run("release", "verify", str(package), ok=False)
    assert broken.exit_code == 1 and "reads.csv was changed" in broken.stdout

    refused = run(
        "release",
        "create",
        "--agency",
        "Coastal Tow Co.",
        "--read",
        "1",
        "--out",
        str(tmp_path / "x"),
        *WHY,
        "--user",
        "investigator",
        "--db",
        db,
        env=env,
        ok=False,
    )
    assert refused.exit_code != 0 and "law-enforcement or prosecutorial" in refused.stderr
    away = run(
        "release",
        "create",
        "--agency",
        "King County SO",
        "--read",
        "1",
        "--out",
        str(tmp_path / "y"),
        *WHY,
        "--user",
        "investigator",
        "--db",
        db,
        env=env,
        ok=False,
    )
    assert away.exit_code != 0 and "outside OR" in away.stderr


def test_the_demo_registers_agencies_and_investigators_can_list_them(run, city: Store) -> None:
    env, demo_db = {"WORKBENCH_PASSWORD": DEMO_PASSWORD}, str(city.url)
    listed = json.loads(
        run("release", "agencies", "--user", "investigator", "--db", demo_db, "--json", env=env).stdout
    )
    assert {(r["name"], r["kind"]) for r in listed["rows"]} == {
        ("Lane County District Attorney", "prosecutorial"),
        ("Douglas County Sheriff's Office", "law-enforcement"),
        ("Florence Neighbourhood Watch", "other"),
    }
    refused = run("release", "agencies", "--user", "analyst", "--db", demo_db, ok=False, env=env)
    assert refused.exit_code != 0 and "may not agency.list" in refused.stderr


def test_the_transparency_report_of_a_past_quarter_counts_only_that_quarter(
    city: Store, manifest: dict, tmp_path: Path
) -> None:
    import datetime as dt

    from alpr_lib.access import login

    admin = login(city, "admin", DEMO_PASSWORD)
    admin.add_agency("Lane County DA", kind="prosecutorial", state="OR")
    detective = login(city, "investigator", DEMO_PASSWORD)
    plate = manifest["scenarios"]["clone"]["plate"]
    detective.release(
        agency="Lane County DA", dest=tmp_path / "pkg", plate=plate,
        purpose="investigation", case="26-01234", reason="for the prosecutor",
    )  # fmt: skip
    supervisor = login(city, "supervisor", DEMO_PASSWORD)
    now = dt.datetime.now(dt.UTC)
    past = supervisor.transparency(since=now - dt.timedelta(days=400), until=now - dt.timedelta(days=300))
    current = supervisor.transparency(since=now - dt.timedelta(days=1), until=now + dt.timedelta(hours=1))
    assert past["releases"] == 0 and current["releases"] == 1
    assert past["searches_by_purpose"] == {} and past["hotlist_hits"] == 0
    assert past["cameras"] == 0 and current["cameras"] > 0  # the city's cameras began reading in October 2026
