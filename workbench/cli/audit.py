"""The audit log: verifying its chain, reports and the quarterly review."""

from __future__ import annotations

import hashlib
import json
import sys
import zoneinfo
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click

from alpr_lib import validate
from alpr_lib.errors import InvalidInput
from alpr_lib.media import append_private, write_private
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
    public_keys_option,
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
@click.option(
    "--log",
    "log_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="Verify an exported log (`audit export --format jsonl`) instead of a database: no login, no "
    "database, only --key.",
)
@public_keys_option
@user_option
@db_option
@json_option
def audit_verify(
    checkpoint: Path | None,
    log_file: Path | None,
    key_file: Path | None,
    user: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Walk the audit chain, check every entry's signature by the department's key, and compare the log with
    the latest checkpoint (supervisors, administrators, the custodian).

    Reports the first entry that was edited, deleted, inserted or moved, or written by someone without the
    department's key (appended straight to the table), and entries cut off since the last checkpoint. When
    the log is whole, a new signed checkpoint is appended to the checkpoint file. An outside auditor verifies
    an exported log with the public keys alone: --log and --key. Exits 1 when the log does not verify.

    \b
    Examples:
        workbench audit verify --user supervisor --json
        workbench audit verify --log audit-log.jsonl --key department-keys.json --checkpoint checkpoints.jsonl
    """
    from alpr_lib.access.audit import Checkpoint, verify_entries
    from alpr_lib.keys import load_bundle

    if log_file is None:
        store = open_store(db)
        path = checkpoint or _default_checkpoint_file(store)
    else:
        path = checkpoint
    latest = _latest_checkpoint(path, Checkpoint) if path is not None and path.exists() else None
    if log_file is not None:
        if key_file is None:
            raise InvalidInput("verifying an exported log needs the department's public keys: --key FILE")
        report = verify_entries(_exported(log_file), trusted=load_bundle(key_file), checkpoint=latest)
        new = None
    else:
        session = login_member(store, user)
        trusted = load_bundle(key_file) if key_file is not None else None
        report, new = session.verify_audit(latest, trusted=trusted)
    if report.ok and new is not None and path is not None:
        append_private(path, json.dumps(new.as_dict()) + "\n")
    data = {**report.as_dict(), "checkpoint_file": str(path) if path else None}
    emit(
        as_json,
        data,
        lambda: click.echo(
            f"Audit log verified: {report.rows:,} entries, chain whole, {report.signed:,} signed by the "
            "department's key" + (", matches the latest checkpoint" if report.checkpoint else "") + "."
            if report.ok
            else ""
        ),
    )
    if not report.ok:
        where = f"at entry {report.first_bad}" if report.first_bad is not None else "at its end"
        click.echo(f"Error: the audit log is broken {where}: {report.problem}", err=True)
        sys.exit(1)


def _latest_checkpoint(path: Path, cls: Any) -> Any:
    damaged = InvalidInput(f"the checkpoint file {path} is damaged; restore it from the supervisor's copy")
    try:  # a file of something else (a backup, a binary) is damaged too, never a crash
        lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
    except UnicodeDecodeError:
        raise damaged from None
    if not lines:
        return None
    try:
        return cls.from_dict(json.loads(lines[-1]))
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise damaged from exc


def _exported(path: Path) -> Iterator[dict[str, Any]]:
    """The entries of an exported log, one JSON object a line; a line that is not one is the log damaged."""
    with path.open(encoding="utf-8", errors="strict") as fh:
        for number, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
                if not isinstance(entry, dict) or not {"id", "hash", "prev_hash"} <= entry.keys():
                    raise ValueError
            except ValueError:
                raise InvalidInput(f"line {number} of {path.name} is not an audit entry") from None
            yield entry


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
        "members": frame_rows(result.members),
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
        if result.members.height:
            click.echo("Members in these entries:")
            for m in result.members.iter_rows(named=True):
                who = ", ".join(
                    x for x in (m["title"], m["agency"], "contractor" if m["contractor"] else "") if x
                )
                click.echo(
                    validate.printable(f"  {m['name']:<14}{m['role']:<14}{who or '(no title recorded)'}")
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
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "jsonl"]),
    default="csv",
    show_default=True,
    help="csv: the search log in auditors' columns; jsonl: every entry whole (hashes and signatures), "
    "for `audit verify --log` with the public keys.",
)
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
    if fmt == "jsonl":
        if redact:
            raise InvalidInput("--redact applies to the csv search log; the whole log is exported as it is")
        entries = login_member(open_store(db), user).audit_log()
        lines = "".join(json.dumps(e, ensure_ascii=False, default=str) + "\n" for e in entries)
        if out is None:
            click.echo(lines, nl=False)
            return
        if out.exists():
            raise InvalidInput(f"{out} already exists; choose a new file name")
        write_private(out, lines.encode("utf-8"))
        click.echo(f"{len(entries):,} audit entries written to {out}.", err=True)
        return
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
