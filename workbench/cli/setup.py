"""Setting up: a database, the demo city, its figures, database roles, backups."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

import click

from alpr_lib.access import build_demo, init_database
from alpr_lib.errors import InvalidInput

from .common import (
    current_settings,
    db_option,
    emit,
    json_option,
    login_member,
    main,
    open_store,
    progress_bar,
    secret_from,
    user_option,
)

# -- set-up -----------------------------------------------------------------------------------


@main.command()
@click.option("--admin", default="admin", show_default=True, help="Name of the first administrator.")
@db_option
@json_option
def init(admin: str, db: str | None, as_json: bool) -> None:
    """Create the database and its first administrator.

    The administrator's password comes from $WORKBENCH_PASSWORD or a prompt.

    \b
    Example:
        WORKBENCH_PASSWORD=... workbench init --admin lt.hayes
    """
    store = open_store(db, create=True)
    password = secret_from("WORKBENCH_PASSWORD", f"New password for {admin}", confirm=True)
    info = init_database(store, admin, password)
    emit(as_json, info, lambda: click.echo(f"Created {info['database']} with administrator {admin}."))
    click.echo(
        f"The department's signing key is in {current_settings().key_dir}: back it up apart from the data "
        '(workbench backup does), and consider mfa_roles = "admin,supervisor,custodian" (admin guide).',
        err=True,
    )


@main.command()
@click.option(
    "--reads",
    default=200_000,
    show_default=True,
    type=click.IntRange(1_000, 1_000_000_000),
    help="How many reads the synthetic city gets.",
)
@click.option(
    "--seed",
    default=7,
    show_default=True,
    type=click.IntRange(0, 2**32 - 1),
    help="Seed: the same seed gives the same city.",
)
@click.option(
    "--start",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="First day of the month of reads (default: 30 days ago).",
)
@db_option
@json_option
def demo(reads: int, seed: int, start: dt.datetime | None, db: str | None, as_json: bool) -> None:
    """Build a fresh synthetic city with demo members of every role.

    Members: admin, analyst, investigator, supervisor, trainer (trained) and trainee (not
    trained). Their password is $WORKBENCH_DEMO_PASSWORD, else one is generated and printed
    once. A database holding real data is never replaced.

    \b
    Example:
        workbench demo --reads 1000000 --seed 7 --db sqlite:///demo.db
    """
    store = open_store(db, create=True)
    bars: dict[str, Any] = {}
    from tqdm import tqdm

    def progress(stage: str, done: int, total: int) -> None:
        if not total:
            if not as_json and sys.stderr.isatty():
                click.echo(f"  {stage}...", err=True)
            return
        bar = bars.get(stage)
        if bar is None:
            bar = bars[stage] = tqdm(
                total=total,
                desc=stage,
                unit="reads",
                unit_scale=True,
                disable=None,
                file=sys.stderr,
                leave=False,
            )
        bar.update(done - bar.n)

    try:
        info = build_demo(
            store,
            reads=reads,
            seed=seed,
            password=os.environ.get("WORKBENCH_DEMO_PASSWORD"),
            start=start.date() if start else None,
            progress=progress,
        )
    finally:
        for bar in bars.values():
            bar.close()
    password = info.pop("password")
    if password:
        click.echo(f"Demo password for every demo member (shown once): {password}", err=True)
    roads = store.get_meta("roads")
    if roads:  # the city's basemap, drawn as the dashboards ask for its tiles
        from ..basemap import DEMO_FILE, write_generated

        where = Path(current_settings().data_dir) / DEMO_FILE
        info["basemap"] = str(write_generated(where, json.loads(roads)))

    def text() -> None:
        click.echo(
            f"Synthetic city ready in {info['database']}: {info['reads']:,} reads, "
            f"{info['plates']:,} plates, {info['cameras']} cameras."
        )
        click.echo("Members: " + ", ".join(f"{n} ({r})" for n, r in info["demo_users"].items()))

    emit(as_json, info, text)


@main.command()
@user_option
@db_option
@json_option
def info(user: str | None, db: str | None, as_json: bool) -> None:
    """Counts, date range and database of the workbench (no plate data; members only, audited).

    \b
    Example:
        workbench info --json --user analyst
    """
    data = login_member(open_store(db), user).database_info()

    def text() -> None:
        click.echo(f"database   {data['database']}{'  (synthetic)' if data['synthetic'] else ''}")
        for key in ("reads", "plates", "cameras", "users", "hotlist_entries", "alerts", "audit_entries"):
            click.echo(f"{key:<16}{data[key]:>12,}")
        click.echo("users by role   " + ", ".join(f"{k} {v}" for k, v in data["users_by_role"].items()))
        click.echo(f"reads from     {data['first_read']}  to  {data['last_read']}")
        last = data["last_purge"] or "never"
        if data["last_purge"] and not data["last_purge_finished"]:
            last += " (interrupted: run `workbench purge` to finish it)"
        click.echo(f"last purge     {last}")
        if data["purge_overdue"]:
            click.echo(
                "Warning: reads past the retention period are waiting and no purge has finished in a day: "
                "run `workbench purge`, and schedule it (see the admin guide).",
                err=True,
            )

    emit(as_json, data, text)


@main.command()
@click.option("--app-role", required=True, help="The role the workbench connects as.")
@click.option("--auditor-role", required=True, help="A read-only role for outside review of the audit log.")
@click.option("--apply", "apply_", is_flag=True, help="Run the grants (connected as the schema's owner).")
@db_option
def grants(app_role: str, auditor_role: str, apply_: bool, db: str | None) -> None:
    """PostgreSQL: the grants that let the database itself defend the audit log.

    The application role may add audit entries but never change or delete them; the auditor role reads the
    record of use (audit log, destruction records, releases, holds) and nothing else. Prints the SQL; with
    --apply runs it as the owner of the schema (the --db URL's user). Run again after each upgrade.

    \b
    Example:
        workbench grants --app-role workbench_app --auditor-role workbench_audit --apply \\
            --db postgresql+psycopg://workbench_owner@db.example/workbench
    """
    from alpr_lib.access import audit
    from alpr_lib.store.pg_roles import apply_grants, grant_statements

    store = open_store(db)
    try:
        if not apply_:
            with store.read() as conn:
                for statement in grant_statements(conn, app_role, auditor_role):
                    click.echo(statement + ";")
            return
        with store.atomic() as conn:
            done = apply_grants(conn, app_role, auditor_role)
            audit.append(
                conn,
                operation="grants",
                outcome="ok",
                client="cli",
                params={"app_role": app_role, "auditor_role": auditor_role},
                result_count=len(done),
            )
    except ValueError as exc:
        raise InvalidInput(str(exc)) from None
    click.echo(
        f"Granted: {app_role} adds to the audit log but cannot change it; {auditor_role} reads the record."
    )


@main.command()
@click.argument("dest", type=click.Path(path_type=Path))
@click.option(
    "--keys-to",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="New folder for the copy of the department's keys (default: DEST.keys); keep it apart from the "
    "data, e.g. on other media.",
)
@user_option
@db_option
@json_option
def backup(dest: Path, keys_to: Path | None, user: str | None, db: str | None, as_json: bool) -> None:
    """Make a consistent online copy of the database at DEST, and of its signing keys in a folder of their
    own (administrators).

    The copy is one SQLite file and opens like any database: workbench info --db
    sqlite:///DEST. An SQLite database is copied whole; a PostgreSQL one from one snapshot,
    table by table, while it keeps running. To restore an SQLite database, stop the
    workbench and put the copy in place of the database file (see the admin guide). The keys go
    to a separate folder, private to its owner: store it apart from the data, since a key beside a
    copy of the log would let whoever holds both rewrite it.

    \b
    Example:
        workbench backup /backups/workbench-2026-11-29.db --keys-to /secure/keys-2026-11-29 --user admin
    """
    if not dest.name or dest.name in (".", ".."):
        raise InvalidInput("give the backup a file name, e.g. /backups/workbench-2026-11-29.db")
    store = open_store(db)
    session = login_member(store, user)
    keys = keys_to or dest.with_name(dest.name + ".keys")
    with progress_bar(None, "copying", unit="rows") as step:
        path = session.backup(dest, progress=step, keys_to=keys)
    emit(
        as_json,
        {"backup": str(path), "db": f"sqlite:///{path.resolve()}", "keys": str(keys)},
        lambda: click.echo(
            f"Backed up to {path} (open with --db sqlite:///{path.resolve()}); the signing keys to {keys} "
            "(store them apart from the data)."
        ),
    )
