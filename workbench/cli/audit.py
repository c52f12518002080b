"""The audit log: verifying its chain, reports and the quarterly review."""

from __future__ import annotations

import hashlib
import json
import sys
import zoneinfo
from pathlib import Path

import click

from alpr_lib import validate
from alpr_lib.errors import InvalidInput
from alpr_lib.media import write_private
from alpr_lib.store import Store

from .common import (
    WorkbenchGroup,
    current_settings,
    db_option,
    emit,
    frame_rows,
    json_option,
    login_member,
    main,
    open_store,
    parse_quarter,
    parse_when,
    user_option,
)

# -- audit ------------------------------------------------------------------------------------


@main.group(cls=WorkbenchGroup)
def audit() -> None:
    """Check the tamper-evident audit log.

    \b
    Example:
        workbench audit verify --user supervisor --checkpoint /secure/audit-checkpoints.jsonl
    """


def _default_checkpoint_file(store: Store) -> Path:
    digest = hashlib.sha256(str(store.url).encode()).hexdigest()[:16]
    return Path(current_settings().data_dir) / "audit-checkpoints" / f"{digest}.jsonl"


@audit.command("verify")
@click.option(
    "--checkpoint",
    type=click.Path(path_type=Path),
    default=None,
    help="Checkpoint file kept outside the database (default: one per database in the data folder).",
)
@user_option
@db_option
@json_option
def audit_verify(checkpoint: Path | None, user: str | None, db: str | None, as_json: bool) -> None:
    """Walk the audit chain and compare it with the latest checkpoint (supervisors, administrators).

    Reports the first entry that was edited, deleted, inserted or moved, and entries cut
    off since the last checkpoint. When the log is whole, a new checkpoint is appended to
    the checkpoint file. Exits 1 when the log does not verify.

    \b
    Example:
        workbench audit verify --user supervisor --json
    """
    from alpr_lib.access.audit import Checkpoint

    store = open_store(db)
    path = checkpoint or _default_checkpoint_file(store)
    latest = None
    if path.exists():
        damaged = InvalidInput(
            f"the checkpoint file {path} is damaged; restore it from the supervisor's copy"
        )
        try:  # a file of something else (a backup, a binary) is damaged too, never a crash
            lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        except UnicodeDecodeError:
            raise damaged from None
        if lines:
            try:
                latest = Checkpoint(**json.loads(lines[-1]))
            except (ValueError, TypeError) as exc:
                raise damaged from exc
    report, new = login_member(store, user).verify_audit(latest)
    if report.ok:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            fh.write(json.dumps(new.as_dict()) + "\n")
    data = {**report.as_dict(), "checkpoint_file": str(path)}
    emit(
        as_json,
        data,
        lambda: click.echo(
            f"Audit log verified: {report.rows:,} entries, chain whole"
            + (", matches the latest checkpoint" if report.checkpoint else "")
            + "."
            if report.ok
            else ""
        ),
    )
    if not report.ok:
        where = f"at entry {report.first_bad}" if report.first_bad is not None else "at its end"
        click.echo(f"Error: the audit log is broken {where}: {report.problem}", err=True)
        sys.exit(1)


@audit.command("report")
@click.option("--since", "since", metavar="TIME", default=None, help="Start (default: 7 days ago).")
@click.option("--until", "until", metavar="TIME", default=None, help="End (default: now).")
@click.option("--member", "member", metavar="NAME", default=None, help="Only this member's entries.")
@click.option("--flags-only", is_flag=True, help="Print only the misuse flags.")
@user_option
@db_option
@json_option
def audit_report(
    since: str | None,
    until: str | None,
    member: str | None,
    flags_only: bool,
    user: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Who reached what, when and why; and flags of likely misuse (supervisors, administrators).

    Flags: the same plate searched repeatedly by one member under different or no case
    numbers (repeat-plate), searches at hours the member rarely works (off-hours), and
    unusually many searches in a day (volume).

    \b
    Example:
        workbench audit report --since 2026-11-01 --member analyst --user supervisor
    """
    settings = current_settings()
    result = login_member(open_store(db), user).audit_report(
        since=parse_when(since), until=parse_when(until, end=True), user=member
    )
    flags = result.flags
    head = result.checkpoint
    data = {
        **result.to_dict(),
        "rows": [] if flags_only else frame_rows(result.frame),
        "flags": frame_rows(flags),
        "checkpoint": head.as_dict(),
        "last_purge": result.last_purge,
    }

    def text() -> None:
        tz = zoneinfo.ZoneInfo(settings.timezone)
        if not flags_only:
            for r in result.frame.iter_rows(named=True):
                why = " ".join(x for x in (r["purpose"], r["case_number"]) if x)
                when = f"{r['ts'].astimezone(tz):%Y-%m-%d %H:%M:%S}"
                # What members typed (a reason, a name) is shown, never acted on by the terminal.
                click.echo(
                    validate.printable(
                        f"{when}  {r['user_name'] or '-':<14}{r['client']:<10}"
                        f"{r['operation']:<16}{r['outcome']:<7}{why:<28}{r['reason'] or r['detail'] or ''}"
                    )
                )
        if flags.height:
            click.echo(f"{flags.height} flag(s) of likely misuse to review:")
            for f in flags.iter_rows(named=True):
                ids = ", ".join(str(i) for i in f["entries"][:10])
                click.echo(
                    validate.printable(f"  {f['flag']:<13}{f['user_name']:<14}{f['detail']} (entries {ids})")
                )
        else:
            click.echo("No flags of likely misuse.")
        purge = result.last_purge
        click.echo(f"Last purge: {purge.get('last_purge') or 'never'}" + (
            " — OVERDUE: reads past retention wait; run `workbench purge` or check the server's daily purge"
            if purge.get("purge_overdue") else ""
        ))  # fmt: skip
        click.echo(
            f"Audit chain head (keep with this report): {head.rows} entries, "
            f"last {head.last_id}, hash {head.hash}"
        )

    emit(as_json, data, text)


@audit.command("quarterly")
@click.option("--quarter", required=True, metavar="YYYYQN", help="The quarter, e.g. 2026Q4.")
@user_option
@db_option
@json_option
def audit_quarterly(quarter: str, user: str | None, db: str | None, as_json: bool) -> None:
    """The periodic audit of searches for supervisors: by member, by purpose, with and without a case
    number, and the flags of likely misuse, for one quarter.

    \b
    Example:
        workbench audit quarterly --quarter 2026Q4 --user supervisor
    """
    import polars as pl

    text, start, end = parse_quarter(quarter)
    result = login_member(open_store(db), user).audit_report(since=start, until=end)
    from alpr_lib.access.roles import DATA_OPERATIONS

    searches = result.frame.filter(pl.col("operation").is_in(list(DATA_OPERATIONS)))
    by_member = (
        searches.group_by("user_name")
        .agg(
            searches=pl.len(),
            refused=(pl.col("outcome") == "denied").sum(),
            without_case=pl.col("case_number").is_null().sum(),
        )
        .sort("searches", descending=True)
    )
    by_purpose = searches.group_by("purpose").agg(searches=pl.len()).sort("searches", descending=True)
    flags = result.flags
    data = {
        "quarter": text,
        "since": start.isoformat(),
        "until": end.isoformat(),
        "searches": searches.height,
        "by_member": by_member.to_dicts(),
        "by_purpose": by_purpose.to_dicts(),
        "flags": frame_rows(flags),
        "checkpoint": result.checkpoint.as_dict(),
    }

    def text_out() -> None:
        click.echo(
            f"Audit of searches, {text} ({start:%Y-%m-%d} to {end:%Y-%m-%d}): {searches.height:,} searches"
        )
        for r in by_member.to_dicts():
            click.echo(
                validate.printable(
                    f"  {r['user_name'] or '-':<16}{r['searches']:>7} searches, {r['refused']} refused, "
                    f"{r['without_case']} without a case number"
                )
            )
        for r in by_purpose.to_dicts():
            click.echo(f"  purpose {r['purpose'] or '(none)':<22}{r['searches']:>7}")
        click.echo(f"{flags.height} flag(s) of likely misuse" + (":" if flags.height else "."))
        for f in flags.to_dicts():
            click.echo(validate.printable(f"  {f['flag']:<13}{f['user_name']:<14}{f['detail']}"))

    emit(as_json, data, text_out)


@audit.command("export")
@click.option("--format", "fmt", type=click.Choice(["csv"]), default="csv", show_default=True)
@click.option("--since", metavar="TIME", default=None, help="Start (default: 90 days ago).")
@click.option("--until", metavar="TIME", default=None, help="End (default: now).")
@click.option("--redact", is_flag=True, help="For public release: members as 'Member N', plates removed.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default: stdout).",
)
@user_option
@db_option
def audit_export(
    fmt: str,
    since: str | None,
    until: str | None,
    redact: bool,
    out: Path | None,
    user: str | None,
    db: str | None,
) -> None:
    """The search log in the columns auditors and journalists analyse from vendors' audit exports: ID, Name,
    Org Name, Total Networks Searched, License Plate, Reason, Case #, Filters, Search Time, Search Type
    (supervisors, administrators, the custodian). The export itself is audited.

    \b
    Example:
        workbench audit export --format csv --since 2026-10-01 --redact --out searches.csv --user supervisor
    """
    settings = current_settings()
    frame = login_member(open_store(db), user).audit_export(
        since=parse_when(since),
        until=parse_when(until, end=True),
        org=settings.department_name,
        redact=redact,
    )
    text = frame.write_csv()
    if out is None:
        click.echo(text, nl=False)
    else:
        if out.exists():
            raise InvalidInput(f"{out} already exists; choose a new file name")
        write_private(out, text.encode("utf-8"))  # names and plates: the owner's only
        click.echo(f"{frame.height:,} searches written to {out}.", err=True)
