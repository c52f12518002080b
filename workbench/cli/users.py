"""Members: adding, listing, training, disabling, unlocking."""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import Any

import click

from alpr_lib.access.roles import ROLES
from alpr_lib.errors import NotAuthenticated

from .common import (
    COUNT,
    WorkbenchGroup,
    authenticator_code,
    current_settings,
    db_option,
    emit,
    json_option,
    login_member,
    main,
    open_store,
    password_login,
    secret_from,
    user_option,
)

# -- users ------------------------------------------------------------------------------------


@main.group(cls=WorkbenchGroup)
def users() -> None:
    """Manage members for their whole career: add, list, train, profile, role, password, second factor,
    disable, enable, unlock.

    \b
    Example:
        WORKBENCH_NEW_PASSWORD=... workbench users add jdoe --role investigator --user admin
    """


@users.command("add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option("--full-name", default="", help="The member's full name, for reports.")
@click.option("--title", default=None, help="Job title (807.2(a) authorizes by title), e.g. 'Detective'.")
@click.option("--agency", default=None, help="The member's agency, when not the department's own.")
@click.option("--contractor", is_flag=True, help="The member is a contractor, not an employee.")
@user_option
@db_option
def users_add(
    name: str,
    role: str,
    full_name: str,
    title: str | None,
    agency: str | None,
    contractor: bool,
    user: str | None,
    db: str | None,
) -> None:
    """Add member NAME with a ROLE; the new password from $WORKBENCH_NEW_PASSWORD or a prompt.

    \b
    Example:
        workbench users add jdoe --role investigator --title Detective --user admin
    """
    store = open_store(db)
    session = login_member(store, user)
    password = secret_from("WORKBENCH_NEW_PASSWORD", f"New password for {name}", confirm=True)
    session.add_user(name, role, password, full_name=full_name)
    if title or agency or contractor:
        session.set_profile(name, title=title, agency=agency, contractor=contractor or None)
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
            flags = " ".join(
                f
                for f, on in (
                    ("disabled", r["disabled"]),
                    ("locked", r["locked"]),
                    ("contractor", r["contractor"]),
                    ("2FA", r["second_factor"]),
                    ("password-reset", r["must_change_password"]),
                )
                if on
            )
            trained = f"trained until {r['trained_until']}" if r["trained_until"] else "not trained"
            done = f"exercises: {', '.join(r['exercises'])}" if r["exercises"] else "no exercises"
            who = " · ".join(x for x in (r["title"], r["agency"]) if x)
            click.echo(f"{r['name']:<20}{r['role']:<14}{who:<36}{trained:<28}{done:<60}{flags}")

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


@users.command("enable")
@click.argument("name")
@user_option
@db_option
def users_enable(name: str, user: str | None, db: str | None) -> None:
    """Let disabled member NAME log in again (administrators).

    \b
    Example:
        workbench users enable jdoe --user admin
    """
    login_member(open_store(db), user).enable_user(name)
    click.echo(f"Enabled {name}.")


@users.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@user_option
@db_option
def users_role(name: str, role: str, user: str | None, db: str | None) -> None:
    """Give member NAME another ROLE (administrators; never one's own). Their sessions end.

    \b
    Example:
        workbench users role jdoe supervisor --user admin
    """
    login_member(open_store(db), user).set_role(name, role)
    click.echo(f"{name} is now {role}; their sessions ended, the new role holds from their next login.")


@users.command("profile")
@click.argument("name")
@click.option("--full-name", default=None, help="The member's full name.")
@click.option("--title", default=None, help="Job title, e.g. 'Detective' or 'Crime analyst'.")
@click.option("--agency", default=None, help="The member's agency, when not the department's own.")
@click.option("--contractor/--employee", default=None, help="A contractor, or an employee of the agency.")
@user_option
@db_option
def users_profile(
    name: str,
    full_name: str | None,
    title: str | None,
    agency: str | None,
    contractor: bool | None,
    user: str | None,
    db: str | None,
) -> None:
    """Record member NAME's full name, job title and agency, and whether they are a contractor
    (administrators). The audit review and reports show them.

    \b
    Example:
        workbench users profile jdoe --title "Crime analyst" --agency "Lane County SO" --contractor \\
            --user admin
    """
    login_member(open_store(db), user).set_profile(
        name, full_name=full_name, title=title, agency=agency, contractor=contractor
    )
    click.echo(f"Recorded {name}'s profile.")


@users.command("password")
@user_option
@db_option
def users_password(user: str | None, db: str | None) -> None:
    """Change your own password: the current one as for every command ($WORKBENCH_PASSWORD or a prompt), the
    new one from $WORKBENCH_NEW_PASSWORD or a prompt. At least 12 characters, not on the lists of breached
    passwords, not easy to guess; a phrase of several unrelated words is a good one. Your other sessions end.

    \b
    Example:
        workbench users password --user jdoe
    """
    if not user:
        raise NotAuthenticated("say who you are with --user NAME (or set WORKBENCH_USER)")
    store = open_store(db)
    current = secret_from("WORKBENCH_PASSWORD", f"Current password for {user}")
    session = password_login(store, user, current)
    click.get_current_context().call_on_close(session.close)
    new = secret_from("WORKBENCH_NEW_PASSWORD", "New password", confirm=True)
    session.change_password(current, new)
    click.echo(f"Changed the password of {user}; your other sessions ended.")


@users.command("reset")
@click.argument("name")
@user_option
@db_option
def users_reset(name: str, user: str | None, db: str | None) -> None:
    """Set a temporary password for member NAME, from $WORKBENCH_NEW_PASSWORD or a prompt (administrators).
    They must choose their own at their next login (workbench users password); their sessions end and a
    lockout is lifted.

    \b
    Example:
        workbench users reset jdoe --user admin
    """
    session = login_member(open_store(db), user)
    temporary = secret_from("WORKBENCH_NEW_PASSWORD", f"Temporary password for {name}", confirm=True)
    session.reset_password(name, temporary)
    click.echo(f"Reset the password of {name}: give them the temporary one in person; they must change it.")


@users.group("mfa", cls=WorkbenchGroup)
def users_mfa() -> None:
    """Second factor: a TOTP authenticator app (enrol your own; administrators reset a lost one).

    \b
    Example:
        workbench users mfa enrol --user supervisor
    """


@users_mfa.command("enrol")
@click.option(
    "--confirm",
    is_flag=True,
    help="Finish an enrolment started earlier with the code ($WORKBENCH_OTP or a prompt).",
)
@user_option
@db_option
@json_option
def users_mfa_enrol(confirm: bool, user: str | None, db: str | None, as_json: bool) -> None:
    """Enrol an authenticator app: scan the QR code (or type the secret), then give its current code
    ($WORKBENCH_OTP or a prompt). Without a terminal the enrolment waits: finish it with --confirm. From then
    on every login — command line, web, Lab — asks for the code.

    \b
    Example:
        workbench users mfa enrol --user supervisor
    """
    from alpr_lib.access.mfa import qr_text

    session = login_member(open_store(db), user)
    if not confirm:
        started = session.begin_mfa()
        if as_json:
            emit(True, {**started, "confirmed": False}, lambda: None)
        else:
            click.echo(qr_text(started["uri"]), err=True)
            click.echo(
                f"Scan the code above, or type this secret into the app: {started['secret']}", err=True
            )
        if not (os.environ.get("WORKBENCH_OTP") or sys.stdin.isatty()) or as_json:
            if not as_json:
                click.echo("Then finish with: workbench users mfa enrol --confirm", err=True)
            return
    session.confirm_mfa(authenticator_code(asked=True) or "")
    click.echo("Authenticator enrolled: every login now asks for its code.")


@users_mfa.command("reset")
@click.argument("name")
@user_option
@db_option
def users_mfa_reset(name: str, user: str | None, db: str | None) -> None:
    """Remove member NAME's authenticator, e.g. after a lost phone (administrators); they enrol again.

    \b
    Example:
        workbench users mfa reset jdoe --user admin
    """
    login_member(open_store(db), user).reset_mfa(name)
    click.echo(f"Removed {name}'s authenticator; they enrol again at their next login.")
