"""Sharing: releases to agencies, and the public transparency report."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from alpr_lib import validate
from alpr_lib.errors import InvalidInput

from .common import (
    ROW_ID,
    WorkbenchGroup,
    current_settings,
    db_option,
    emit,
    frame_rows,
    json_option,
    key_ring,
    login_member,
    main,
    open_store,
    parse_quarter,
    parse_when,
    public_keys_option,
    user_option,
    why_options,
)


@main.command("transparency")
@click.option(
    "--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write."
)
@click.option("--since", metavar="TIME", default=None, help="Start of the period (default: 90 days ago).")
@click.option("--until", metavar="TIME", default=None, help="End of the period (default: now).")
@click.option(
    "--quarterly",
    metavar="YYYYQN",
    default=None,
    help="Write the SB 1516 quarterly audit of this quarter (e.g. 2026Q4) as the page instead.",
)
@user_option
@db_option
@json_option
def transparency_cmd(
    out: Path,
    since: str | None,
    until: str | None,
    quarterly: str | None,
    user: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Write the public transparency report (a static page, aggregate numbers only) into OUT: the period's
    cameras, reads, searches, hits, holds and releases, the program's designee and custodian, what is and is
    not collected, prohibited uses and the department's policy (the `policy_file` setting).

    \b
    Example:
        workbench transparency --out /srv/www/alpr --since 2026-10-01 --until 2027-01-01 --user supervisor
        workbench transparency --out /srv/www/alpr/2026Q4 --quarterly 2026Q4 --user supervisor
    """
    from alpr_lib.access.transparency import transparency_html

    settings = current_settings()
    quarter = None
    if quarterly:
        if since or until:
            raise InvalidInput("give either --quarterly or --since/--until")
        quarter, start, end = parse_quarter(quarterly)
    else:
        end = parse_when(until) or dt.datetime.now(dt.UTC)
        start = parse_when(since) or end - dt.timedelta(days=90)
    policy_text = None
    if settings.policy_file:
        try:
            policy_text = Path(settings.policy_file).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            problem = type(exc).__name__
            raise InvalidInput(
                f"the policy_file setting names a file that cannot be read ({problem})"
            ) from None
    figures = login_member(open_store(db), user).transparency(since=start, until=end)
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    page.write_text(
        transparency_html(
            figures,
            retention_days=settings.retention_days,
            program_title=settings.program_title,
            policy_text=policy_text,
            quarter=quarter,
        )
    )
    emit(
        as_json, {**figures, "page": str(page)}, lambda: click.echo(f"Transparency report written to {page}.")
    )


@main.group(cls=WorkbenchGroup)
def release() -> None:
    """Share reads for a case with another law-enforcement or prosecutorial agency, as a checked package.

    \b
    Example:
        workbench release create --agency "Lane County DA" --read 812 --out ./pkg --purpose investigation \\
            --case 26-01234 --reason "evidence for prosecution" --user investigator
    """


@release.command("agency")
@click.argument("name")
@click.option("--kind", type=click.Choice(["law-enforcement", "prosecutorial", "other"]), required=True)
@click.option("--state", required=True, metavar="ST", help="The agency's state, e.g. OR.")
@click.option("--contact", default="", help="Who to contact there.")
@user_option
@db_option
def release_agency(name: str, kind: str, state: str, contact: str, user: str | None, db: str | None) -> None:
    """Register agency NAME that data may be released to (administrators).

    \b
    Example:
        workbench release agency "Lane County DA" --kind prosecutorial --state OR --user admin
    """
    login_member(open_store(db), user).add_agency(name, kind=kind, state=state, contact=contact)
    click.echo(f"Registered {name} ({kind}, {state.upper()}).")


@release.command("agencies")
@user_option
@db_option
@json_option
def release_agencies(user: str | None, db: str | None, as_json: bool) -> None:
    """The agencies data may be released to.

    \b
    Example:
        workbench release agencies --user investigator
    """
    frame = login_member(open_store(db), user).agencies()
    emit(
        as_json,
        {"count": frame.height, "rows": frame_rows(frame)},
        lambda: [click.echo(f"{r['name']:<40}{r['kind']:<17}{r['state']}") for r in frame.to_dicts()],
    )


@release.command("create")
@click.option("--agency", required=True, help="A registered agency.")
@click.option("--plate", default=None, help="Release this plate's reads (with --from/--to).")
@click.option("--from", "since", metavar="TIME", default=None)
@click.option("--to", "until", metavar="TIME", default=None)
@click.option("--read", "read_ids", multiple=True, type=ROW_ID, help="Release this read (repeatable).")
@click.option(
    "--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="New folder."
)
@why_options
@user_option
@db_option
@json_option
def release_create(
    agency: str,
    plate: str | None,
    since: str | None,
    until: str | None,
    read_ids: tuple[int, ...],
    out: Path,
    purpose: str | None,
    case: str | None,
    reason: str | None,
    user: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Write a release package (CSV, Parquet, images, map, checksummed manifest) for a case.

    \b
    Example:
        workbench release create --agency "Lane County DA" --plate 7ABC123 --from 2026-11-01 --out ./pkg \\
            --purpose investigation --case 26-01234 --reason "evidence for prosecution" --user investigator
    """
    result = login_member(open_store(db), user).release(
        agency=agency,
        dest=out,
        plate=plate,
        since=parse_when(since),
        until=parse_when(until, end=True),
        read_ids=read_ids,
        purpose=purpose,
        case=case,
        reason=reason,
    )
    data = {
        "audit_id": result.audit_id, "count": result.count, "package": result.package,
        "manifest_sha256": result.manifest_sha256,
    }  # fmt: skip
    emit(as_json, data, lambda: click.echo(f"Released {result.count} reads to {agency}: {out}."))


@release.command("verify")
@click.argument("package", type=click.Path(exists=True, file_okay=False, path_type=Path))
@public_keys_option
@click.option(
    "--db",
    metavar="URL",
    default=None,
    help="Also compare the manifest with the one recorded in this database at release (a login).",
)
@user_option
@json_option
def release_verify(
    package: Path, key_file: Path | None, db: str | None, user: str | None, as_json: bool
) -> None:
    """Check a release package: the department's signature of its manifest, every file's SHA-256 against the
    manifest and, with --db, the manifest against the one recorded at release. A receiving agency needs only
    the public keys: `workbench release verify PACKAGE --key department-keys.json`. Exits 1 when it does not
    verify, naming what does not match.

    \b
    Examples:
        workbench release verify ./pkg --key department-keys.json
        workbench release verify ./pkg --db sqlite:///srv/alpr/workbench.db --user supervisor
    """
    from alpr_lib.access.release import verify_package
    from alpr_lib.keys import load_bundle

    trusted = load_bundle(key_file) if key_file is not None else key_ring().records()
    recorded = login_member(open_store(db), user).release_manifests() if db else None
    problems = verify_package(package, trusted=trusted, recorded=recorded)
    if not trusted:
        problems.insert(0, "no public key to check the signature with: give --key (workbench keys export)")
    emit(
        as_json,
        {"ok": not problems, "problems": problems, "signed": not problems and bool(trusted)},
        lambda: click.echo(
            "The package is whole and signed by the department."
            if not problems
            else "\n".join(validate.printable(p) for p in problems)
        ),
    )
    if problems:
        click.echo(f"Error: the package does not verify: {validate.printable(problems[0])}", err=True)
        sys.exit(1)
