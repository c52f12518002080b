"""Members: adding, listing, training, disabling, unlocking."""

from __future__ import annotations

import datetime as dt
from typing import Any

import click

from .common import (
    COUNT,
    WorkbenchGroup,
    current_settings,
    db_option,
    emit,
    json_option,
    login_member,
    main,
    open_store,
    secret_from,
    user_option,
)

# -- users ------------------------------------------------------------------------------------


@main.group(cls=WorkbenchGroup)
def users() -> None:
    """Manage members: add, list, record training, disable, unlock.

    \b
    Example:
        WORKBENCH_NEW_PASSWORD=... workbench users add jdoe --role investigator --user admin
    """


@users.command("add")
@click.argument("name")
@click.option(
    "--role", required=True, type=click.Choice(["admin", "analyst", "investigator", "supervisor", "trainer"])
)
@click.option("--full-name", default="", help="The member's full name, for reports.")
@user_option
@db_option
def users_add(name: str, role: str, full_name: str, user: str | None, db: str | None) -> None:
    """Add member NAME with a ROLE; the new password from $WORKBENCH_NEW_PASSWORD or a prompt.

    \b
    Example:
        workbench users add jdoe --role investigator --user admin
    """
    store = open_store(db)
    session = login_member(store, user)
    password = secret_from("WORKBENCH_NEW_PASSWORD", f"New password for {name}", confirm=True)
    session.add_user(name, role, password, full_name=full_name)
    click.echo(
        f"Added {name} ({role}). No data access until training is recorded: workbench users train {name}"
    )


@users.command("list")
@user_option
@db_option
@json_option
def users_list(user: str | None, db: str | None, as_json: bool) -> None:
    """List members with their role, state, training expiry and the training exercises they completed.

    \b
    Example:
        workbench users list --user admin --json
    """
    frame = login_member(open_store(db), user).list_users()
    rows = frame.to_dicts()

    def text() -> None:
        for r in rows:
            flags = " ".join(f for f, on in (("disabled", r["disabled"]), ("locked", r["locked"])) if on)
            trained = f"trained until {r['trained_until']}" if r["trained_until"] else "not trained"
            done = f"exercises: {', '.join(r['exercises'])}" if r["exercises"] else "no exercises"
            click.echo(f"{r['name']:<20}{r['role']:<14}{trained:<28}{done:<60}{flags}")

    emit(as_json, {"count": len(rows), "rows": rows}, text)


@users.command("train")
@click.argument("name")
@click.option("--course", default=None, help="Course name (default: the department's ALPR course).")
@click.option(
    "--completed", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Completion date (default today)."
)
@click.option(
    "--valid-days",
    type=COUNT,
    default=None,
    help="Days the training stays current (default: the training_valid_days setting).",
)
@user_option
@db_option
def users_train(
    name: str,
    course: str | None,
    completed: dt.datetime | None,
    valid_days: int | None,
    user: str | None,
    db: str | None,
) -> None:
    """Record the department's approval of member NAME's ALPR training, with the training exercises they
    completed attached (trainers, supervisors, administrators; never one's own).

    \b
    Example:
        workbench users train jdoe --completed 2026-11-20 --user trainer
    """
    session = login_member(open_store(db), user)
    kwargs: dict[str, Any] = {"valid_days": valid_days or current_settings().training_valid_days}
    if course:
        kwargs["course"] = course
    expires = session.record_training(name, completed_on=completed.date() if completed else None, **kwargs)
    done = next((r["exercises"] for r in session.list_users().to_dicts() if r["name"] == name), [])
    attached = f" Exercises completed: {', '.join(done)}." if done else " No training exercise recorded yet."
    click.echo(f"Recorded training for {name}; current until {expires}.{attached}")


@users.command("disable")
@click.argument("name")
@user_option
@db_option
def users_disable(name: str, user: str | None, db: str | None) -> None:
    """Disable member NAME: they can no longer log in.

    \b
    Example:
        workbench users disable jdoe --user admin
    """
    login_member(open_store(db), user).disable_user(name)
    click.echo(f"Disabled {name}.")


@users.command("unlock")
@click.argument("name")
@user_option
@db_option
def users_unlock(name: str, user: str | None, db: str | None) -> None:
    """Unlock member NAME after repeated failed logons.

    \b
    Example:
        workbench users unlock jdoe --user admin
    """
    login_member(open_store(db), user).unlock_user(name)
    click.echo(f"Unlocked {name}.")
