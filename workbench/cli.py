"""The ``workbench`` command line, shaped as docs/cli.md fixes it.

Every command takes ``--db``; commands that print data take ``--json`` (one JSON
document on standard output, nothing else there). On failure a command prints one
line on standard error saying what to do, and exits non-zero.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import sys
import zoneinfo
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from alpr_lib.access import AccessSession, build_demo, database_info, init_database, login, resume
from alpr_lib.access.purpose import PURPOSES, Policy
from alpr_lib.errors import AlprError, InvalidInput, NotAuthenticated
from alpr_lib.store import Store

from .config import load_settings, local_time, policy_from

__all__ = ["main"]


class WorkbenchGroup(click.Group):
    """A click group that turns library errors into one line on standard error."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AlprError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # The reader went away (``| head``): stop quietly, as Unix tools do.
            sys.stderr = open(os.devnull, "w")  # noqa: SIM115
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except Exception as exc:
            if os.environ.get("WORKBENCH_DEBUG"):
                raise
            # Only the error's kind: its text could carry plate data from a query.
            click.echo(
                f"Error: unexpected failure ({type(exc).__name__}); set WORKBENCH_DEBUG=1 to see details "
                "and report it",
                err=True,
            )
            ctx.exit(1)
        except KeyboardInterrupt:
            click.echo(
                "Interrupted. Nothing half-written was kept; run the same command again to finish.", err=True
            )
            ctx.exit(130)


def _settings() -> Any:
    return load_settings()


def _open(db: str | None, *, create: bool = False) -> Store:
    store = Store(db or _settings().db_url, create=create)
    ctx = click.get_current_context(silent=True)
    if ctx is not None:
        ctx.call_on_close(
            store.dispose
        )  # connections closed when the command ends, not left to the collector
    return store


def db_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--db",
        metavar="URL",
        default=None,
        help="Database URL (default: $WORKBENCH_DB_URL, else the embedded SQLite file).",
    )(fn)


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--json", "as_json", is_flag=True, help="Print one JSON document on standard output."
    )(fn)


def user_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--user",
        envvar="WORKBENCH_USER",
        metavar="NAME",
        help="Acting member (default: $WORKBENCH_USER); password from $WORKBENCH_PASSWORD or a prompt.",
    )(fn)


def _secret(env: str, prompt: str, *, confirm: bool = False) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise NotAuthenticated(f"no password given: set {env} or run the command in a terminal to be asked")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True))


def _policy() -> Policy:
    return policy_from(_settings())


def _session_file(store: Store) -> Path:
    """Where ``workbench login`` keeps this shell's session for this database (readable by its owner only)."""
    digest = hashlib.sha256(str(store.url).encode()).hexdigest()[:16]
    return Path(_settings().data_dir) / "sessions" / f"{digest}-{os.getppid()}.json"


def _cached_token(store: Store, user: str | None) -> str | None:
    token = os.environ.get("WORKBENCH_SESSION")
    if token:
        return token
    path = _session_file(store)
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if user and cached.get("user") != user:
        return None
    return str(cached.get("token") or "") or None


def _login(store: Store, user: str | None) -> AccessSession:
    """The acting member's session: a password login (--user with $WORKBENCH_PASSWORD or a prompt), or
    the session `workbench login` cached for this shell ($WORKBENCH_SESSION first)."""
    policy = _policy()
    if not (user and os.environ.get("WORKBENCH_PASSWORD")):
        token = _cached_token(store, user)
        if token:
            return resume(store, token, client="cli", policy=policy)
    if not user:
        raise NotAuthenticated(
            "say who you are with --user NAME (or set WORKBENCH_USER), or run workbench login"
        )
    session = login(
        store, user, _secret("WORKBENCH_PASSWORD", f"Password for {user}"), client="cli", policy=policy
    )
    # A password login lasts one command: its session ends when the command does.
    click.get_current_context().call_on_close(session.close)
    return session


def _emit(as_json: bool, data: Any, text: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        text()


@contextmanager
def _bar(total: int | None, desc: str, unit: str = "reads") -> Iterator[Callable[[int], None]]:
    from tqdm import tqdm

    # tqdm draws on standard error and only on a terminal: --json output stays clean.
    with tqdm(
        total=total, desc=desc, unit=unit, unit_scale=True, disable=None, file=sys.stderr, leave=False
    ) as bar:
        yield bar.update


@click.group(cls=WorkbenchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="alpr-workbench")
def main() -> None:
    """ALPR Workbench: audited investigation of automated license plate reader data.

    \b
    Example:
        workbench demo --reads 200000 && workbench info
    """


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
    store = _open(db, create=True)
    password = _secret("WORKBENCH_PASSWORD", f"New password for {admin}", confirm=True)
    info = init_database(store, admin, password)
    _emit(as_json, info, lambda: click.echo(f"Created {info['database']} with administrator {admin}."))


@main.command()
@click.option(
    "--reads",
    default=200_000,
    show_default=True,
    type=click.IntRange(1_000),
    help="How many reads the synthetic city gets.",
)
@click.option(
    "--seed", default=7, show_default=True, type=int, help="Seed: the same seed gives the same city."
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
    store = _open(db, create=True)
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

    def text() -> None:
        click.echo(
            f"Synthetic city ready in {info['database']}: {info['reads']:,} reads, "
            f"{info['plates']:,} plates, {info['cameras']} cameras."
        )
        click.echo("Members: " + ", ".join(f"{n} ({r})" for n, r in info["demo_users"].items()))

    _emit(as_json, info, text)


@main.command()
@db_option
@json_option
def info(db: str | None, as_json: bool) -> None:
    """Counts, date range and database of the workbench (no plate data).

    \b
    Example:
        workbench info --json
    """
    data = database_info(_open(db))

    def text() -> None:
        click.echo(f"database   {data['database']}{'  (synthetic)' if data['synthetic'] else ''}")
        for key in ("reads", "plates", "cameras", "users", "hotlist_entries", "alerts", "audit_entries"):
            click.echo(f"{key:<16}{data[key]:>12,}")
        click.echo("users by role   " + ", ".join(f"{k} {v}" for k, v in data["users_by_role"].items()))
        click.echo(f"reads from     {data['first_read']}  to  {data['last_read']}")

    _emit(as_json, data, text)


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
    from alpr_lib.errors import InvalidInput
    from alpr_lib.store.pg_roles import apply_grants, grant_statements

    store = _open(db)
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
@user_option
@db_option
@json_option
def backup(dest: Path, user: str | None, db: str | None, as_json: bool) -> None:
    """Make a consistent online copy of the database at DEST (administrators).

    The copy is one SQLite file and opens like any database: workbench info --db
    sqlite:///DEST. An SQLite database is copied whole; a PostgreSQL one from one snapshot,
    table by table, while it keeps running. To restore an SQLite database, stop the
    workbench and put the copy in place of the database file (see the admin guide).

    \b
    Example:
        workbench backup /backups/workbench-2026-11-29.db --user admin
    """
    store = _open(db)
    session = _login(store, user)
    with _bar(None, "copying", unit="rows") as step:
        path = session.backup(dest, progress=step)
    _emit(
        as_json,
        {"backup": str(path), "db": f"sqlite:///{path.resolve()}"},
        lambda: click.echo(f"Backed up to {path} (open with --db sqlite:///{path.resolve()})."),
    )


# -- sessions ---------------------------------------------------------------------------------


@main.command("login")
@user_option
@db_option
def login_cmd(user: str | None, db: str | None) -> None:
    """Log in once and keep the session for the commands of this shell.

    The session ends after 30 minutes without use, 12 hours at most, or at `workbench
    logout`. Only a random token is kept (in the data folder, readable by you only);
    set $WORKBENCH_SESSION to it to use the session from another shell.

    \b
    Example:
        workbench login --user analyst && workbench search plate 7ABC123 --purpose ...
    """
    store = _open(db)
    if not user:
        raise NotAuthenticated("say who you are with --user NAME (or set WORKBENCH_USER)")
    session = login(
        store, user, _secret("WORKBENCH_PASSWORD", f"Password for {user}"), client="cli", policy=_policy()
    )
    path = _session_file(store)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"user": session.name, "token": session.token}, fh)
    policy = _policy()
    click.echo(
        f"Logged in as {session.name} ({session.role}) for this shell; the session ends after "
        f"{policy.idle_minutes} minutes without use or at workbench logout."
    )


@main.command("logout")
@db_option
def logout_cmd(db: str | None) -> None:
    """End this shell's session (from `workbench login`).

    \b
    Example:
        workbench logout
    """
    store = _open(db)
    path = _session_file(store)
    token = _cached_token(store, None)
    path.unlink(missing_ok=True)
    if not token:
        click.echo("No session was open in this shell.")
        return
    try:
        resume(store, token, client="cli", policy=_policy()).logout()
    except NotAuthenticated:
        click.echo("The session had already ended.")
        return
    click.echo("Logged out.")


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
    store = _open(db)
    session = _login(store, user)
    password = _secret("WORKBENCH_NEW_PASSWORD", f"New password for {name}", confirm=True)
    session.add_user(name, role, password, full_name=full_name)
    click.echo(
        f"Added {name} ({role}). No data access until training is recorded: workbench users train {name}"
    )


@users.command("list")
@user_option
@db_option
@json_option
def users_list(user: str | None, db: str | None, as_json: bool) -> None:
    """List members with their role, state and training expiry.

    \b
    Example:
        workbench users list --user admin --json
    """
    frame = _login(_open(db), user).list_users()
    rows = frame.to_dicts()

    def text() -> None:
        for r in rows:
            flags = " ".join(f for f, on in (("disabled", r["disabled"]), ("locked", r["locked"])) if on)
            trained = f"trained until {r['trained_until']}" if r["trained_until"] else "not trained"
            click.echo(f"{r['name']:<20}{r['role']:<14}{trained:<28}{flags}")

    _emit(as_json, {"count": len(rows), "rows": rows}, text)


@users.command("train")
@click.argument("name")
@click.option("--course", default=None, help="Course name (default: the department's ALPR course).")
@click.option(
    "--completed", type=click.DateTime(["%Y-%m-%d"]), default=None, help="Completion date (default today)."
)
@click.option(
    "--valid-days",
    type=click.IntRange(1),
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
    """Record that member NAME completed department-approved ALPR training.

    \b
    Example:
        workbench users train jdoe --completed 2026-11-20 --user trainer
    """
    session = _login(_open(db), user)
    kwargs: dict[str, Any] = {"valid_days": valid_days or _settings().training_valid_days}
    if course:
        kwargs["course"] = course
    expires = session.record_training(name, completed_on=completed.date() if completed else None, **kwargs)
    click.echo(f"Recorded training for {name}; current until {expires}.")


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
    _login(_open(db), user).disable_user(name)
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
    _login(_open(db), user).unlock_user(name)
    click.echo(f"Unlocked {name}.")


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
    return Path(_settings().data_dir) / "audit-checkpoints" / f"{digest}.jsonl"


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

    store = _open(db)
    path = checkpoint or _default_checkpoint_file(store)
    latest = None
    if path.exists():
        lines = [ln for ln in path.read_text().splitlines() if ln.strip()]
        if lines:
            try:
                latest = Checkpoint(**json.loads(lines[-1]))
            except (ValueError, TypeError) as exc:
                raise InvalidInput(
                    f"the checkpoint file {path} is damaged; restore it from the supervisor's copy"
                ) from exc
    report, new = _login(store, user).verify_audit(latest)
    if report.ok:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a") as fh:
            fh.write(json.dumps(new.as_dict()) + "\n")
    data = {**report.as_dict(), "checkpoint_file": str(path)}
    _emit(
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
    settings = _settings()
    result = _login(_open(db), user).audit_report(
        since=_when(since), until=_when(until, end=True), user=member
    )
    flags = result.extra["flags"]
    head = result.extra["checkpoint"]
    data = {
        **result.to_dict(),
        "rows": [] if flags_only else _rows(result.frame),
        "flags": _rows(flags),
        "checkpoint": head.as_dict(),
    }

    def text() -> None:
        tz = zoneinfo.ZoneInfo(settings.timezone)
        if not flags_only:
            for r in result.frame.iter_rows(named=True):
                why = " ".join(x for x in (r["purpose"], r["case_number"]) if x)
                when = f"{r['ts'].astimezone(tz):%Y-%m-%d %H:%M:%S}"
                click.echo(
                    f"{when}  {r['user_name'] or '-':<14}{r['client']:<10}"
                    f"{r['operation']:<16}{r['outcome']:<7}{why:<28}{r['reason'] or r['detail'] or ''}"
                )
        if flags.height:
            click.echo(f"{flags.height} flag(s) of likely misuse to review:")
            for f in flags.iter_rows(named=True):
                ids = ", ".join(str(i) for i in f["entries"][:10])
                click.echo(f"  {f['flag']:<13}{f['user_name']:<14}{f['detail']} (entries {ids})")
        else:
            click.echo("No flags of likely misuse.")
        click.echo(
            f"Audit chain head (keep with this report): {head.rows} entries, "
            f"last {head.last_id}, hash {head.hash}"
        )

    _emit(as_json, data, text)


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

    text = quarter.strip().upper()
    if len(text) != 6 or text[4] != "Q" or not text[:4].isdigit() or text[5] not in "1234":
        raise InvalidInput("give the quarter as YYYYQN, e.g. 2026Q4")
    year, q = int(text[:4]), int(text[5])
    tz = zoneinfo.ZoneInfo(_settings().timezone)
    start = dt.datetime(year, 3 * q - 2, 1, tzinfo=tz)
    end = dt.datetime(year + (q == 4), (3 * q) % 12 + 1, 1, tzinfo=tz)
    result = _login(_open(db), user).audit_report(since=start, until=end)
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
    flags = result.extra["flags"]
    data = {
        "quarter": text,
        "since": start.isoformat(),
        "until": end.isoformat(),
        "searches": searches.height,
        "by_member": by_member.to_dicts(),
        "by_purpose": by_purpose.to_dicts(),
        "flags": _rows(flags),
        "checkpoint": result.extra["checkpoint"].as_dict(),
    }

    def text_out() -> None:
        click.echo(
            f"Audit of searches, {text} ({start:%Y-%m-%d} to {end:%Y-%m-%d}): {searches.height:,} searches"
        )
        for r in by_member.to_dicts():
            click.echo(
                f"  {r['user_name'] or '-':<16}{r['searches']:>7} searches, {r['refused']} refused, "
                f"{r['without_case']} without a case number"
            )
        for r in by_purpose.to_dicts():
            click.echo(f"  purpose {r['purpose'] or '(none)':<22}{r['searches']:>7}")
        click.echo(f"{flags.height} flag(s) of likely misuse" + (":" if flags.height else "."))
        for f in flags.to_dicts():
            click.echo(f"  {f['flag']:<13}{f['user_name']:<14}{f['detail']}")

    _emit(as_json, data, text_out)


# -- data -------------------------------------------------------------------------------------


def _when(value: str | None, *, end: bool = False) -> dt.datetime | None:
    """An ISO 8601 time; without an offset, the department's local time. A plain date that ends a window
    (``end``) is the end of that day."""
    if value is None:
        return None
    try:
        return local_time(value, _settings().timezone, end=end)
    except ValueError:
        raise InvalidInput(f"cannot read the time {value!r}: use ISO 8601, e.g. 2026-11-03T14:00") from None


def _rows(frame: Any) -> list[dict[str, Any]]:
    return [
        {k: v.isoformat() if isinstance(v, dt.datetime | dt.date) else v for k, v in row.items()}
        for row in frame.to_dicts()
    ]


def why_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--purpose, --case, --reason: why a data command is run (checked and audited by the door)."""
    fn = click.option("--reason", metavar="TEXT", help="Why, in a few words (required).")(fn)
    fn = click.option(
        "--case", "case", metavar="CASE", help="Case number (investigation, administrative), e.g. 26-01234."
    )(fn)
    return click.option(
        "--purpose",
        type=click.Choice(list(PURPOSES)),
        help="Purpose of the search (required).",
    )(fn)


def _data_result(result: Any, as_json: bool, columns: tuple[str, ...], extra: tuple[str, ...] = ()) -> None:
    """Print a door result: a table of ``columns`` (local times), or JSON with rows and ``extra`` frames."""
    tz = zoneinfo.ZoneInfo(_settings().timezone)

    def cell(v: Any) -> str:
        if isinstance(v, dt.datetime):
            return f"{v.astimezone(tz):%Y-%m-%d %H:%M:%S}"
        if isinstance(v, float):
            return f"{v:.6g}"
        if isinstance(v, list):
            return ",".join(str(x) for x in v)
        return "-" if v is None else str(v)

    def text() -> None:
        frame = result.frame.select([c for c in columns if c in result.frame.columns])
        if frame.height:
            click.echo("  ".join(frame.columns))
        for row in frame.iter_rows():
            click.echo("  ".join(cell(v) for v in row))
        more = " (capped: narrow the search or raise --limit)" if result.truncated else ""
        click.echo(f"{result.count:,} rows{more}; audit entry {result.audit_id}.", err=True)

    data = {**result.to_dict(), "rows": _rows(result.frame)}
    for key in extra:
        value = result.extra.get(key)
        data[key] = _rows(value) if hasattr(value, "to_dicts") else value
    _emit(as_json, data, text)


def data_options(*, window: bool = True, state: bool = True, limit: bool = True) -> Callable[..., Any]:
    """The options every data command takes: why (purpose, case, reason), who, where, JSON; and the
    time window, state and row limit where they apply."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in (json_option, db_option, user_option, why_options):
            fn = option(fn)
        if limit:
            fn = click.option(
                "--limit", type=click.IntRange(1), default=None, help="Most rows (default 10,000)."
            )(fn)
        if state:
            fn = click.option("--state", metavar="ST", help="Only plates of this state, e.g. OR.")(fn)
        if window:
            fn = click.option(
                "--to",
                "until",
                metavar="TIME",
                help="End of the time window (included; a date alone ends with its day).",
            )(fn)
            fn = click.option(
                "--from", "since", metavar="TIME", help="Start (ISO 8601, local time by default)."
            )(fn)
        return fn

    return wrap


def _door(kw: dict[str, Any]) -> tuple[AccessSession, dict[str, Any], bool]:
    """The session of a data command, its purpose keywords, and whether it prints JSON (``kw`` consumed)."""
    session = _login(_open(kw.pop("db")), kw.pop("user"))
    why = {"purpose": kw.pop("purpose"), "case": kw.pop("case"), "reason": kw.pop("reason")}
    for key in ("since", "until"):
        if key in kw:
            kw[key] = _when(kw[key], end=key == "until")
    return session, why, kw.pop("as_json")


def _floats(value: str, n: int, what: str) -> list[float]:
    parts = value.split(",")
    try:
        numbers = [float(p) for p in parts]
    except ValueError:
        numbers = []
    if len(numbers) != n:
        raise InvalidInput(
            f"{what} takes {n} numbers separated by commas, e.g. 43.97,-124.10" + (",500" if n == 3 else "")
        )
    return numbers


READ_COLUMNS = ("ts", "plate", "state", "camera", "lat", "lon", "confidence")


# -- retention --------------------------------------------------------------------------------


@main.command("purge")
@click.option("--dry-run", is_flag=True, help="Count what would be destroyed; destroy nothing.")
@click.option("--now", "now", metavar="TIME", default=None, help="Purge as of this time (default: now).")
@user_option
@db_option
@json_option
def purge_cmd(dry_run: bool, now: str | None, user: str | None, db: str | None, as_json: bool) -> None:
    """Destroy reads older than exactly NOW minus the retention period, unless a hold keeps them.

    Their image and crop files go too, and plates no read refers to any more; a destruction record
    (counts only) is kept. Safe to interrupt and to run again. Run it nightly (see the admin guide).

    \b
    Example:
        workbench purge --dry-run --user admin
    """
    session = _login(_open(db), user)
    when = _when(now) if now else None
    data = session.purge(now=when, retention_days=_settings().retention_days, dry_run=dry_run)
    verb = "would destroy" if dry_run else "destroyed"
    _emit(
        as_json,
        data,
        lambda: click.echo(
            f"Reads before {data['cutoff']}: {verb} {data['reads_destroyed']:,} reads, "
            f"{data['images_destroyed']:,} image files, {data['plates_destroyed']:,} plates; "
            f"kept {data['held_reads_kept']:,} held reads."
        ),
    )


@main.command("transparency")
@click.option(
    "--out", "out", type=click.Path(file_okay=False, path_type=Path), required=True, help="Folder to write."
)
@click.option("--since", metavar="TIME", default=None, help="Start of the period (default: 90 days ago).")
@click.option("--until", metavar="TIME", default=None, help="End of the period (default: now).")
@user_option
@db_option
@json_option
def transparency_cmd(
    out: Path, since: str | None, until: str | None, user: str | None, db: str | None, as_json: bool
) -> None:
    """Write the public transparency report (a static page, aggregate numbers only) into OUT.

    \b
    Example:
        workbench transparency --out /srv/www/alpr --since 2026-10-01 --until 2027-01-01 --user supervisor
    """
    from alpr_lib.access.transparency import transparency_html

    settings = _settings()
    end = _when(until) or dt.datetime.now(dt.UTC)
    start = _when(since) or end - dt.timedelta(days=90)
    figures = _login(_open(db), user).transparency(since=start, until=end)
    out.mkdir(parents=True, exist_ok=True)
    page = out / "index.html"
    page.write_text(
        transparency_html(
            figures, retention_days=settings.retention_days, program_title=settings.program_title
        )
    )
    _emit(
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
    _login(_open(db), user).add_agency(name, kind=kind, state=state, contact=contact)
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
    frame = _login(_open(db), user).agencies()
    _emit(
        as_json,
        {"count": frame.height, "rows": _rows(frame)},
        lambda: [click.echo(f"{r['name']:<40}{r['kind']:<17}{r['state']}") for r in frame.to_dicts()],
    )


@release.command("create")
@click.option("--agency", required=True, help="A registered agency.")
@click.option("--plate", default=None, help="Release this plate's reads (with --from/--to).")
@click.option("--from", "since", metavar="TIME", default=None)
@click.option("--to", "until", metavar="TIME", default=None)
@click.option("--read", "read_ids", multiple=True, type=int, help="Release this read (repeatable).")
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
    result = _login(_open(db), user).release(
        agency=agency,
        dest=out,
        plate=plate,
        since=_when(since),
        until=_when(until, end=True),
        read_ids=read_ids,
        purpose=purpose,
        case=case,
        reason=reason,
    )
    data = {"audit_id": result.audit_id, "count": result.count, **result.extra}
    _emit(as_json, data, lambda: click.echo(f"Released {result.count} reads to {agency}: {out}."))


@release.command("verify")
@click.argument("package", type=click.Path(exists=True, file_okay=False, path_type=Path))
@db_option
@json_option
def release_verify(package: Path, db: str | None, as_json: bool) -> None:
    """Check a release package: every file's SHA-256 against its manifest. Exits 1 when it does not verify.

    \b
    Example:
        workbench release verify ./pkg
    """
    from alpr_lib.access.release import verify_package

    problems = verify_package(package)
    _emit(
        as_json,
        {"ok": not problems, "problems": problems},
        lambda: click.echo("The package is whole." if not problems else "\n".join(problems)),
    )
    if problems:
        click.echo(f"Error: the package does not verify ({len(problems)} problem(s))", err=True)
        sys.exit(1)


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
@click.option("--read", "read_ids", multiple=True, type=int, help="Keep this read (repeatable).")
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
    session = _login(_open(db), user)
    hold_id = session.add_hold(
        case=case,
        reason=reason,
        plate=plate,
        since=_when(since),
        until=_when(until, end=True),
        read_ids=read_ids,
        review_on=review.date() if review else None,
    )
    _emit(as_json, {"hold_id": hold_id}, lambda: click.echo(f"Hold {hold_id} recorded."))


@hold.command("approve")
@click.argument("hold_id", type=int)
@user_option
@db_option
def hold_approve(hold_id: int, user: str | None, db: str | None) -> None:
    """Approve a requested hold (supervisors, administrators).

    \b
    Example:
        workbench hold approve 3 --user supervisor
    """
    _login(_open(db), user).approve_hold(hold_id)
    click.echo(f"Hold {hold_id} is active.")


@hold.command("release")
@click.argument("hold_id", type=int)
@user_option
@db_option
def hold_release(hold_id: int, user: str | None, db: str | None) -> None:
    """Release a hold: its reads fall back under the retention period.

    \b
    Example:
        workbench hold release 3 --user supervisor
    """
    _login(_open(db), user).release_hold(hold_id)
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
    frame = _login(_open(db), user).holds()
    _emit(
        as_json,
        {"count": frame.height, "rows": _rows(frame)},
        lambda: [
            click.echo(
                f"{r['hold_id']:>4}  {r['case']:<12}{r['plate'] or '(reads)':<10}"
                f"{r['status']:<10}{r['reason']}"
            )
            for r in frame.to_dicts()
        ],
    )


# -- data intake ------------------------------------------------------------------------------


def _parse_map(values: tuple[str, ...]) -> dict[str, str]:
    mapping = {}
    for value in values:
        ours, sep, theirs = value.partition("=")
        if not sep or not ours.strip() or not theirs:
            raise InvalidInput(
                f'--map takes OURS="Their column", e.g. --map plate="License Plate"; got {value!r}'
            )
        mapping[ours.strip()] = theirs
    return mapping


@main.command("import-reads")
@click.argument("file", type=click.Path(path_type=Path))
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar='OURS="THEIRS"',
    help='Map a vendor column to ours, e.g. --map plate="License Plate". Repeatable.',
)
@click.option(
    "--rejects",
    type=click.Path(path_type=Path),
    default=None,
    help="Where bad rows are written (default: FILE.rejects.csv).",
)
@user_option
@db_option
@json_option
def import_reads(
    file: Path,
    mapping: tuple[str, ...],
    rejects: Path | None,
    user: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Import reads from a vendor-style CSV (administrators).

    Columns plate, ts, lat, lon are required; source_id, state, camera, confidence, image
    are optional. Bad rows are reported by line and written to a rejects file; importing
    the same file again adds nothing.

    \b
    Example:
        workbench import-reads export.csv --map plate="License Plate" --map ts="Date/Time" --user admin
    """
    column_map = _parse_map(mapping)
    session = _login(_open(db), user)
    with _bar(None, "importing") as step:
        report = session.import_reads(file, column_map=column_map, rejects_path=rejects, progress=step)
    data = report.as_dict()
    if not as_json:
        for row in report.rejected:
            click.echo(f"line {row.line}: {row.reason}", err=True)
    _emit(
        as_json,
        data,
        lambda: click.echo(
            f"{report.rows:,} rows: {report.imported:,} imported, {report.duplicates:,} already present, "
            f"{len(report.rejected):,} rejected"
            + (f" (written to {report.rejects_file})" if report.rejects_file else "")
            + (f"; {report.alerts:,} new hotlist alerts to verify" if report.alerts else "")
            + "."
        ),
    )


# The other commands register themselves on `main` when their modules load.
from . import cli_media, cli_search  # noqa: E402, F401
