"""The command line, driven as scripts and administrators drive it."""

import json
import subprocess
import sys
from pathlib import Path

import click
import pytest

from workbench.cli import main

from .conftest import DEMO_PASSWORD, DEMO_READS


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.db'}"


def test_init_then_users(run, db: str) -> None:
    env = {"WORKBENCH_PASSWORD": "first-admin-pass-2026", "WORKBENCH_NEW_PASSWORD": "new-member-pass-2026"}
    run("init", "--admin", "lt.hayes", "--db", db, env=env)
    run("users", "add", "jdoe", "--role", "investigator", "--user", "lt.hayes", "--db", db, env=env)
    run("users", "train", "jdoe", "--completed", "2026-11-02", "--user", "lt.hayes", "--db", db, env=env)
    listed = json.loads(run("users", "list", "--json", "--user", "lt.hayes", "--db", db, env=env).stdout)
    assert {r["name"]: r["role"] for r in listed["rows"]} == {"jdoe": "investigator", "lt.hayes": "admin"}
    assert [r["trained_until"] for r in listed["rows"] if r["name"] == "jdoe"] == ["2027-11-02"]
    run("users", "disable", "jdoe", "--user", "lt.hayes", "--db", db, env=env)
    refused = run(
        "users",
        "list",
        "--user",
        "jdoe",
        "--db",
        db,
        env={"WORKBENCH_PASSWORD": "new-member-pass-2026"},
        ok=False,
    )
    assert (
        refused.exit_code == 1
        and refused.stderr.strip() == "Error: the account is disabled; ask an administrator"
    )


def test_demo_and_info_json(run, db: str) -> None:
    result = run(
        "demo",
        "--reads",
        "5000",
        "--seed",
        "3",
        "--db",
        db,
        "--json",
        env={"WORKBENCH_DEMO_PASSWORD": DEMO_PASSWORD},
    )
    built = json.loads(result.stdout)
    assert built["reads"] == 5000 and "password" not in built
    basemap = Path(built["basemap"])  # the city's basemap, private to its owner, beside the data
    assert basemap.name == "basemap.mbtiles" and basemap.stat().st_mode & 0o077 == 0
    # Counts are for members only: without a login, info answers nothing.
    refused = run("info", "--json", "--db", db, "--user", "analyst", ok=False)
    assert refused.exit_code == 1 and refused.stdout == "" and "WORKBENCH_PASSWORD" in refused.stderr
    assert run("info", "--db", db, ok=False).exit_code == 1
    info = json.loads(
        run(
            "info", "--json", "--db", db, "--user", "analyst", env={"WORKBENCH_PASSWORD": DEMO_PASSWORD}
        ).stdout
    )
    assert info["reads"] == 5000 and info["cameras"] == 43 and info["plates"] > 100
    assert info["users"] == 7
    assert info["users_by_role"] == {
        "admin": 1,
        "analyst": 2,
        "investigator": 1,
        "supervisor": 1,
        "trainer": 1,
        "custodian": 1,
    }
    assert info["synthetic"] is True and info["first_read"] < info["last_read"]


def test_demo_prints_a_generated_password_once(run, db: str) -> None:
    result = run("demo", "--reads", "2000", "--db", db)
    line = [ln for ln in result.stderr.splitlines() if "shown once" in ln]
    assert len(line) == 1
    password = line[0].rsplit(" ", 1)[1]
    assert len(password) >= 12
    run("users", "list", "--user", "supervisor", "--db", db, env={"WORKBENCH_PASSWORD": password})


def test_demo_never_replaces_real_data(run, db: str) -> None:
    run("init", "--db", db, env={"WORKBENCH_PASSWORD": "first-admin-pass-2026"})
    result = run("demo", "--reads", "2000", "--db", db, ok=False)
    assert result.exit_code == 1 and "holds real data" in result.stderr


def test_import_reads_reports_bad_rows_and_is_idempotent(run, db: str, tmp_path: Path) -> None:
    env = {"WORKBENCH_PASSWORD": "first-admin-pass-2026"}
    run("init", "--db", db, env=env)
    csv = tmp_path / "export.csv"
    csv.write_text(
        "License Plate,Date/Time,Latitude,Longitude,Camera\n"
        "ABC123,2026-11-03T14:00:05,43.98,-124.10,US101N-01\n"
        "ABC124,2026-11-03T14:00:06,43.98,-124.10,US101N-01\n"
        "ABC125,not a time,43.98,-124.10,US101N-01\n"
        "ABC126,2026-11-03T14:00:07,43.98,-999,US101N-01\n"
    )
    first = run("import-reads", str(csv), "--user", "admin", "--db", db, env=env)
    assert "line 4: unreadable timestamp" in first.stderr and "line 5: lon out of range" in first.stderr
    assert "2 imported" in first.stdout
    again = json.loads(run("import-reads", str(csv), "--user", "admin", "--db", db, "--json", env=env).stdout)
    assert again["imported"] == 0 and again["duplicates"] == 2 and again["rejected"] == 2
    assert json.loads(run("info", "--json", "--db", db, "--user", "admin", env=env).stdout)["reads"] == 2
    assert (tmp_path / "export.csv.rejects.csv").exists()


def test_import_needs_an_administrator(run, demo_db: str, tmp_path: Path) -> None:
    csv = tmp_path / "x.csv"
    csv.write_text("plate,ts,lat,lon\nABC123,2026-11-03T14:00,44,-124\n")
    result = run(
        "import-reads",
        str(csv),
        "--user",
        "analyst",
        "--db",
        demo_db,
        env={"WORKBENCH_PASSWORD": DEMO_PASSWORD},
        ok=False,
    )
    assert result.exit_code == 1 and "may not import-reads" in result.stderr


def test_backup_opens_with_db(run, demo_db: str, tmp_path: Path) -> None:
    dest = tmp_path / "backup.db"
    out = json.loads(
        run(
            "backup",
            str(dest),
            "--user",
            "admin",
            "--db",
            demo_db,
            "--json",
            env={"WORKBENCH_PASSWORD": DEMO_PASSWORD},
        ).stdout
    )
    info = json.loads(
        run(
            "info", "--json", "--db", out["db"], "--user", "admin", env={"WORKBENCH_PASSWORD": DEMO_PASSWORD}
        ).stdout
    )
    assert info["reads"] == DEMO_READS


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["info", "--db", "sqlite:////nonexistent/dir/x.db"], "there is no database"),
        (["users", "list", "--db", "{demo}"], "--user"),
        (["users", "list", "--user", "admin", "--db", "{demo}"], "WORKBENCH_PASSWORD"),
        (["import-reads", "x.csv", "--map", "plate", "--db", "{demo}"], "--map takes"),
        (["info", "--db", "notaurl"], "not a database URL"),
    ],
)
def test_failures_are_one_line(run, demo_db: str, args: list[str], message: str) -> None:
    result = run(*[a.replace("{demo}", demo_db) for a in args], ok=False)
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and "Traceback" not in result.output


def _commands(group: click.Group, prefix: str = ""):
    for name, cmd in group.commands.items():
        yield prefix + name, cmd
        if isinstance(cmd, click.Group):
            yield from _commands(cmd, prefix + name + " ")


@pytest.mark.parametrize(("name", "cmd"), list(_commands(main)))
def test_every_command_has_help_with_an_example(name: str, cmd: click.Command) -> None:
    assert cmd.help and "Example" in cmd.help, f"`workbench {name}` lacks an example in its help"
    if not isinstance(cmd, click.Group):
        assert any(p.name == "db" for p in cmd.params), f"`workbench {name}` lacks --db"


def test_python_dash_m_works() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "workbench", "--help"], capture_output=True, text=True, check=True
    )
    assert "demo" in out.stdout and "import-reads" in out.stdout
