"""The case registry: supervisors open, assign, override and close cases; everyone lists their own."""

from __future__ import annotations

import click

from alpr_lib.access.cases import OFFENSES

from .common import (
    WorkbenchGroup,
    db_option,
    emit,
    frame_rows,
    json_option,
    login_member,
    main,
    open_store,
    user_option,
)


@main.group(cls=WorkbenchGroup)
def cases() -> None:
    """The case registry: an investigation search names an open case its member is assigned to.

    \b
    Example:
        workbench cases open 26-01234 --offense burglary --assign investigator --user supervisor
        workbench cases list --user investigator
    """


@cases.command("open")
@click.argument("number")
@click.option(
    "--offense",
    required=True,
    type=click.Choice(list(OFFENSES)),
    help="The offense category (NIBRS Group A).",
)
@click.option("--assign", "members", multiple=True, required=True, help="A member to assign (repeatable).")
@click.option("--title", default="", help="A short title (no plate text).")
@user_option
@db_option
def cases_open(
    number: str, offense: str, members: tuple[str, ...], title: str, user: str | None, db: str | None
) -> None:
    """Open (register) a case and assign its members (supervisors, administrators).

    \b
    Example:
        workbench cases open 26-01234 --offense burglary --assign investigator --assign analyst \\
            --user supervisor
    """
    login_member(open_store(db), user).open_case(number, offense=offense, assign=members, title=title)
    click.echo(f"Case {number} is open ({OFFENSES[offense]}); assigned: {', '.join(members)}.")


@cases.command("assign")
@click.argument("number")
@click.argument("member")
@user_option
@db_option
def cases_assign(number: str, member: str, user: str | None, db: str | None) -> None:
    """Assign a member to an open case (supervisors, administrators).

    \b
    Example:
        workbench cases assign 26-01234 analyst --user supervisor
    """
    login_member(open_store(db), user).assign_case(number, member)
    click.echo(f"{member} is assigned to case {number}.")


@cases.command("close")
@click.argument("number")
@user_option
@db_option
def cases_close(number: str, user: str | None, db: str | None) -> None:
    """Close a case: investigation searches stop naming it (supervisors, administrators).

    \b
    Example:
        workbench cases close 26-01234 --user supervisor
    """
    login_member(open_store(db), user).close_case(number)
    click.echo(f"Case {number} is closed.")


@cases.command("override")
@click.argument("number")
@click.argument("member")
@click.option("--reason", required=True, help="Why the member searches a case they are not assigned to.")
@user_option
@db_option
def cases_override(number: str, member: str, reason: str, user: str | None, db: str | None) -> None:
    """Let a member search for a case for a day though not assigned to it, or though it is not open: a
    supervisor's override, only with a reason. Every search under it is flagged in the audit review.

    \b
    Example:
        workbench cases override 26-04444 analyst --reason "mutual aid request from Douglas County SO" \\
            --user supervisor
    """
    granted = login_member(open_store(db), user).override_case(number, member, reason=reason)
    click.echo(
        f"Override {granted}: {member} may search for case {number} for 24 hours; it is flagged for review."
    )


@cases.command("list")
@click.option(
    "--status", type=click.Choice(["open", "closed"]), default=None, help="Only open or closed cases."
)
@click.option(
    "--all", "everyone", is_flag=True, help="Every case, not only yours (supervisors, administrators)."
)
@user_option
@db_option
@json_option
def cases_list(status: str | None, everyone: bool, user: str | None, db: str | None, as_json: bool) -> None:
    """The cases you are assigned to (with --all: every case), newest first.

    \b
    Example:
        workbench cases list --status open --user investigator
    """
    frame = login_member(open_store(db), user).cases(status=status, everyone=everyone)
    emit(
        as_json,
        {"count": frame.height, "rows": frame_rows(frame)},
        lambda: (
            [
                click.echo(f"{r['case']:<12}{r['status']:<8}{r['offense']:<22}{', '.join(r['members'])}")
                for r in frame.to_dicts()
            ]
            or click.echo(
                "No cases." if everyone else "No cases assigned to you (--all lists every case).", err=True
            )
        ),
    )
