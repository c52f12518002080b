"""Custody of the records: the program's officers, the destruction report and the register of copies."""

from __future__ import annotations

import click

from alpr_lib.access.custody import OFFICES

from .common import (
    ROW_ID,
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
def program() -> None:
    """The program's named officers: its designee (807.2(e)) and its custodian of records (807.2(f)).

    \b
    Example:
        workbench program name custodian records.clerk --user admin
        workbench program show
    """


@program.command("name")
@click.argument("office", type=click.Choice(list(OFFICES)))
@click.argument("member")
@user_option
@db_option
def program_name(office: str, member: str, user: str | None, db: str | None) -> None:
    """Name the member who holds an office (administrators); earlier namings stay in the history.

    \b
    Example:
        workbench program name designee lt.harris --user admin
    """
    login_member(open_store(db), user).name_officer(office, member)
    click.echo(f"{member} is the {OFFICES[office][0]}.")


@program.command("show")
@click.option("--history", is_flag=True, help="Every naming, newest first.")
@user_option
@db_option
@json_option
def program_show(history: bool, user: str | None, db: str | None, as_json: bool) -> None:
    """Who holds each office (with --history: every naming).

    \b
    Example:
        workbench program show --history
    """
    frame = login_member(open_store(db), user).officers(history=history)
    emit(
        as_json,
        {"count": frame.height, "rows": frame_rows(frame)},
        lambda: (
            [
                click.echo(
                    f"{r['office']:<11}{r['member']:<20}{r['full_name'] or '':<28}"
                    f"named {r['named_at']:%Y-%m-%d}"
                )
                for r in frame.to_dicts()
            ]
            or click.echo("No officer named yet: workbench program name designee|custodian MEMBER", err=True)
        ),
    )


@main.group(cls=WorkbenchGroup)
def records() -> None:
    """The custodian's records: what the purges destroyed and the copies to confirm destroyed.

    \b
    Example:
        workbench records destruction --user custodian
    """


@records.command("destruction")
@user_option
@db_option
@json_option
def records_destruction(user: str | None, db: str | None, as_json: bool) -> None:
    """The purges' destruction records (counts and dates only) and the copies of the data — release
    packages, backups — whose hold has ended, to destroy and confirm (custodian, administrators, supervisors).

    \b
    Example:
        workbench records destruction --user custodian
    """
    report = login_member(open_store(db), user).destruction_report()
    purges, due = report["purges"], report["copies_due"]

    def text() -> None:
        click.echo(f"{purges.height} purge(s) on record:")
        for r in purges.to_dicts():
            state = "" if r["finished_at"] else "  (interrupted: the next purge finishes it)"
            click.echo(
                f"  {r['ran_at']:%Y-%m-%d %H:%M}  {r['ran_by']:<12}{r['reads_destroyed']:>10,} reads "
                f"{r['images_destroyed']:>8,} files{state}"
            )
        click.echo(f"{due.height} copie(s) whose hold has ended, to destroy and confirm:")
        for r in due.to_dicts():
            click.echo(
                f"  copy {r['copy_id']:<5}{r['kind']:<9}{r['case'] or '-':<12}{r['holds']}  {r['path']}"
            )

    emit(as_json, {"purges": frame_rows(purges), "copies_due": frame_rows(due)}, text)


@records.command("copies")
@user_option
@db_option
@json_option
def records_copies(user: str | None, db: str | None, as_json: bool) -> None:
    """Every registered copy of the data: release packages and backups, with case, hold and destruction.

    \b
    Example:
        workbench records copies --user custodian --json
    """
    frame = login_member(open_store(db), user).copies()
    emit(
        as_json,
        {"count": frame.height, "rows": frame_rows(frame)},
        lambda: [
            click.echo(
                f"copy {r['copy_id']:<5}{r['kind']:<9}{r['case'] or '-':<12}"
                f"{'destroyed ' + format(r['destroyed_at'], '%Y-%m-%d') if r['destroyed_at'] else 'held':<22}"
                f"{r['holds']}"
            )
            for r in frame.to_dicts()
        ],
    )


@records.command("confirm")
@click.argument("copy_id", type=ROW_ID)
@click.option("--note", required=True, help="How it was destroyed (e.g. 'package deleted, USB wiped').")
@user_option
@db_option
def records_confirm(copy_id: int, note: str, user: str | None, db: str | None) -> None:
    """Confirm that a copy whose hold ended is destroyed (the custodian).

    \b
    Example:
        workbench records confirm 4 --note "package folder deleted from the evidence share" --user custodian
    """
    login_member(open_store(db), user).confirm_copy_destroyed(copy_id, note=note)
    click.echo(f"Copy {copy_id} is recorded as destroyed.")
