"""Retention: the purge and holds."""

from __future__ import annotations

import datetime as dt
import sys

import click

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
    parse_when,
    user_option,
)

# -- retention --------------------------------------------------------------------------------


@main.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be destroyed; destroy nothing.")
@click.option("--now", "now", metavar="TIME", default=None, help="Purge as of this time (default: now).")
@click.option("--yes", is_flag=True, help="Confirm a --now in the future (destroys reads not yet expired).")
@user_option
@db_option
@json_option
def purge_cmd(
    dry_run: bool, now: str | None, yes: bool, user: str | None, db: str | None, as_json: bool
) -> None:
    """Destroy reads older than exactly NOW minus the retention period, unless a hold keeps them.

    Their image and crop files go too, and plates no read refers to any more; a destruction record
    (counts only) is kept. Safe to interrupt and to run again. Run it nightly (see the admin guide).

    \b
    Example:
        workbench purge --dry-run --user admin
    """
    session = login_member(open_store(db), user)
    when = parse_when(now, clamp=False) if now else None
    future = yes
    if when is not None and when > dt.datetime.now(dt.UTC) and not (yes or dry_run) and sys.stdin.isatty():
        future = click.confirm(
            f"--now {when:%Y-%m-%d %H:%M} is in the future: reads that have not reached the end of their "
            "retention would be destroyed. Go on?",
            default=False,
            err=True,
        )
    data = session.purge(now=when, dry_run=dry_run, future=future)
    verb = "would destroy" if dry_run else "destroyed"
    emit(
        as_json,
        data,
        lambda: click.echo(
            f"Reads before {data['cutoff']}: {verb} {data['reads_destroyed']:,} reads, "
            f"{data['images_destroyed']:,} image files, {data['plates_destroyed']:,} plates; "
            f"kept {data['held_reads_kept']:,} held reads."
            + (
                f" {data['files_skipped']:,} stored file names led outside the image store or to no regular "
                "file: left untouched."
                if data.get("files_skipped")
                else ""
            )
        ),
    )


@main.group(cls=WorkbenchGroup)
def hold() -> None:
    """Holds keep reads past the retention period for a case.

    \b
    Example:
        workbench hold add --plate 7ABC123 --from 2026-11-01 --to 2026-11-08 --case 26-01234 \\
            --reason "evidence" --user supervisor
    """


@hold.command("add")
@click.option("--plate", default=None, help="Keep this plate's reads (with --from/--to).")
@click.option("--from", "since", metavar="TIME", default=None, help="Start of the window.")
@click.option(
    "--to",
    "until",
    metavar="TIME",
    default=None,
    help="End of the window (included; a date alone ends with its day).",
)
@click.option("--read", "read_ids", multiple=True, type=ROW_ID, help="Keep this read (repeatable).")
@click.option("--case", "case", required=True, help="The case number the reads are kept for.")
@click.option("--reason", required=True, help="Why, in a few words.")
@click.option("--review", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Date to review the hold.")
@user_option
@db_option
@json_option
def hold_add(
    plate: str | None,
    since: str | None,
    until: str | None,
    read_ids: tuple[int, ...],
    case: str,
    reason: str,
    review: dt.datetime | None,
    user: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Keep reads for a case: active at once when a supervisor or administrator adds it, otherwise
    requested until one approves it.

    \b
    Example:
        workbench hold add --plate 7ABC123 --from 2026-11-01 --to 2026-11-08 --case 26-01234 \\
            --reason "suspect vehicle's movements" --user investigator
    """
    session = login_member(open_store(db), user)
    hold_id = session.add_hold(
        case=case,
        reason=reason,
        plate=plate,
        since=parse_when(since),
        until=parse_when(until, end=True),
        read_ids=read_ids,
        review_on=review.date() if review else None,
    )
    emit(as_json, {"hold_id": hold_id}, lambda: click.echo(f"Hold {hold_id} recorded."))


@hold.command("approve")
@click.argument("hold_id", type=ROW_ID)
@user_option
@db_option
def hold_approve(hold_id: int, user: str | None, db: str | None) -> None:
    """Approve a requested hold (supervisors, administrators).

    \b
    Example:
        workbench hold approve 3 --user supervisor
    """
    login_member(open_store(db), user).approve_hold(hold_id)
    click.echo(f"Hold {hold_id} is active.")


@hold.command("release")
@click.argument("hold_id", type=ROW_ID)
@user_option
@db_option
def hold_release(hold_id: int, user: str | None, db: str | None) -> None:
    """Release a hold: its reads fall back under the retention period.

    \b
    Example:
        workbench hold release 3 --user supervisor
    """
    login_member(open_store(db), user).release_hold(hold_id)
    click.echo(f"Hold {hold_id} released; the next purge may take its reads.")


@hold.command("list")
@user_option
@db_option
@json_option
def hold_list(user: str | None, db: str | None, as_json: bool) -> None:
    """Every hold with its case, plate, status and review date.

    \b
    Example:
        workbench hold list --user supervisor
    """
    frame = login_member(open_store(db), user).holds()
    emit(
        as_json,
        {"count": frame.height, "rows": frame_rows(frame)},
        lambda: [
            click.echo(
                f"{r['hold_id']:>4}  {r['case']:<12}{r['plate'] or '(reads)':<10}"
                f"{r['status']:<10}{r['reason']}"
            )
            for r in frame.to_dicts()
        ],
    )
