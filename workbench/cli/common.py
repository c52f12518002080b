"""What every command shares: the ``main`` group, the common options, the member's session, output.

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

from alpr_lib import validate
from alpr_lib.access import AccessSession, login, resume
from alpr_lib.access.purpose import PURPOSES, Policy
from alpr_lib.access.results import beyond_9999_as_text, retention_note
from alpr_lib.errors import AlprError, InvalidInput, NotAuthenticated, SecondFactorNeeded
from alpr_lib.keys import KeyRing
from alpr_lib.store import Store
from alpr_lib.vehicles import shown_reads

from ..config import load_settings, local_time, policy_from

__all__ = [
    "COUNT",
    "NUMBER",
    "READ_COLUMNS",
    "ROW_ID",
    "WorkbenchGroup",
    "authenticator_code",
    "cached_token",
    "current_settings",
    "data_options",
    "db_option",
    "door_policy",
    "door_session",
    "emit",
    "frame_rows",
    "json_option",
    "key_ring",
    "login_member",
    "main",
    "open_store",
    "parse_floats",
    "parse_when",
    "password_login",
    "print_result",
    "progress_bar",
    "public_keys_option",
    "secret_from",
    "session_file",
    "user_option",
    "why_options",
]


#: The library names parameters (the dashboards show its messages too); the command line names its options.
_FLAGS = {"max_edits": "--max-edits", "min_scenes": "--min", "min_times": "--min-times"}


def as_flags(message: str) -> str:
    """A library message with parameter names given as the command line's options."""
    for name, flag in _FLAGS.items():
        message = message.replace(name, flag)
    return message


class WorkbenchGroup(click.Group):
    """A click group that turns library errors, and usage errors, into one line on standard error."""

    def main(self, *args: Any, standalone_mode: bool = True, **kwargs: Any) -> Any:
        if not standalone_mode:
            return super().main(*args, standalone_mode=False, **kwargs)
        argv = args[0] if args else kwargs.get("args")
        if argv and any("\x00" in str(a) for a in argv):  # a shell cannot pass one; a program could
            click.echo("Error: an argument holds a NUL character", err=True)
            sys.exit(2)
        try:
            code = super().main(*args, standalone_mode=False, **kwargs)
        except click.UsageError as exc:
            command = exc.ctx.command_path if exc.ctx else "workbench"
            message = validate.printable(" ".join(exc.format_message().split()))
            click.echo(f"Error: {message} (see {command} --help)", err=True)
            sys.exit(exc.exit_code)
        except click.ClickException as exc:
            click.echo(f"Error: {validate.printable(exc.format_message())}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("Aborted.", err=True)
            sys.exit(1)
        sys.exit(code if isinstance(code, int) else 0)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except AlprError as exc:
            click.echo(f"Error: {validate.printable(' '.join(as_flags(str(exc)).split()))}", err=True)
            ctx.exit(1)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:
            # The reader went away (``| head``): stop quietly, as Unix tools do.
            sys.stderr = open(os.devnull, "w")  # noqa: SIM115
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(0)
        except OSError as exc:
            # A file or folder named on the command line that cannot be used as asked.
            where = f" {exc.filename}" if exc.filename else ""
            click.echo(validate.printable(f"Error: cannot use{where}: {exc.strerror or exc}"), err=True)
            ctx.exit(1)
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


class _Finite(click.ParamType):
    """A number that is neither NaN nor infinite."""

    name = "number"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> float:
        try:
            return validate.finite(value, "the value")
        except InvalidInput as exc:
            self.fail(str(exc), param, ctx)


#: Click types for the values a command takes: a finite number, a row id, a count or number of days.
NUMBER = _Finite()
ROW_ID = click.IntRange(1, validate.MAX_ID)
COUNT = click.IntRange(1, validate.MAX_COUNT)


def current_settings() -> Any:
    return load_settings()


def key_ring() -> KeyRing:
    """The department's key folder (the ``key_dir`` setting)."""
    return KeyRing(Path(current_settings().key_dir).expanduser())


def open_store(db: str | None, *, create: bool = False) -> Store:
    store = Store(db or current_settings().db_url, create=create, keys=key_ring())
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


def public_keys_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """``--key FILE``: the department's public keys (``workbench keys export``), passed as ``key_file``."""
    return click.option(
        "--key",
        "key_file",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="The department's public keys (`workbench keys export`) to verify with; default: this "
        "workbench's key folder.",
    )(fn)


def user_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option(
        "--user",
        envvar="WORKBENCH_USER",
        metavar="NAME",
        help="Acting member (default: $WORKBENCH_USER); password from $WORKBENCH_PASSWORD or a prompt.",
    )(fn)


def secret_from(env: str, prompt: str, *, confirm: bool = False) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise NotAuthenticated(f"no password given: set {env} or run the command in a terminal to be asked")
    return str(click.prompt(prompt, hide_input=True, confirmation_prompt=confirm, err=True))


def door_policy() -> Policy:
    return policy_from(current_settings())


def session_file(store: Store) -> Path:
    """Where ``workbench login`` keeps this shell's session for this database (readable by its owner only)."""
    digest = hashlib.sha256(str(store.url).encode()).hexdigest()[:16]
    return Path(current_settings().data_dir) / "sessions" / f"{digest}-{os.getppid()}.json"


def cached_token(store: Store, user: str | None) -> str | None:
    token = os.environ.get("WORKBENCH_SESSION")
    if token:
        return token
    path = session_file(store)
    try:
        cached = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if user and cached.get("user") != user:
        return None
    return str(cached.get("token") or "") or None


def login_member(store: Store, user: str | None) -> AccessSession:
    """The acting member's session: a password login (--user with $WORKBENCH_PASSWORD or a prompt), or
    the session `workbench login` cached for this shell ($WORKBENCH_SESSION first)."""
    policy = door_policy()
    if not (user and os.environ.get("WORKBENCH_PASSWORD")):
        token = cached_token(store, user)
        if token:
            return resume(store, token, client="cli", policy=policy)
    if not user:
        raise NotAuthenticated(
            "say who you are with --user NAME (or set WORKBENCH_USER), or run workbench login"
        )
    session = password_login(store, user)
    # A password login lasts one command: its session ends when the command does.
    click.get_current_context().call_on_close(session.close)
    return session


def authenticator_code(*, asked: bool) -> str | None:
    """The authenticator's code: $WORKBENCH_OTP, else — when ``asked`` — a prompt in a terminal (or a plain
    refusal without one); None when not asked and not given."""
    code = os.environ.get("WORKBENCH_OTP") or None
    if code or not asked:
        return code
    if not sys.stdin.isatty():
        raise InvalidInput("give the authenticator's code in WORKBENCH_OTP, or run the command in a terminal")
    return str(click.prompt("Code from your authenticator app", err=True))


def password_login(store: Store, user: str, password: str | None = None) -> AccessSession:
    """Log ``user`` in with ``password`` (default: $WORKBENCH_PASSWORD or a prompt) and, for a member who
    enrolled an authenticator, its code (:func:`authenticator_code`, asked once the password is accepted)."""
    if password is None:
        password = secret_from("WORKBENCH_PASSWORD", f"Password for {user}")
    policy = door_policy()
    try:
        return login(store, user, password, otp=authenticator_code(asked=False), client="cli", policy=policy)
    except SecondFactorNeeded as needed:
        if not sys.stdin.isatty():
            raise
        code = authenticator_code(asked=True)
        return login(store, user, "", otp=code, proof=needed.proof, client="cli", policy=policy)


def emit(as_json: bool, data: Any, text: Callable[[], None]) -> None:
    if as_json:
        click.echo(json.dumps(data, indent=2, default=str))
    else:
        text()


@contextmanager
def progress_bar(total: int | None, desc: str, unit: str = "reads") -> Iterator[Callable[[int], None]]:
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
        workbench demo --reads 200000 && workbench info --user analyst
    """
    # Every file a command creates — database, images, crops, rejects, packages, backups, the servers'
    # notebooks — is its owner's alone, whatever the shell's umask.
    os.umask(0o077)


# -- data -------------------------------------------------------------------------------------


def parse_when(value: str | None, *, end: bool = False, clamp: bool = True) -> dt.datetime | None:
    """An ISO 8601 time; without an offset, the department's local time. A plain date that ends a window
    (``end``) is the end of that day. With ``clamp`` (a window's end), a time before 1990 or after tomorrow
    is taken as 1990 or tomorrow — no read lies outside them; without, it is given as typed, for the
    command to refuse or question (a read's time, a purge's --now)."""
    if value is None:
        return None
    try:
        when = local_time(value, current_settings().timezone, end=end)
        if clamp:
            when = validate.clamp(when)
    except (ValueError, OverflowError):
        raise InvalidInput(
            f"cannot read the time {validate.printable(value)[:40]!r}: use ISO 8601, e.g. 2026-11-03T14:00"
        ) from None
    return when


def frame_rows(frame: Any) -> list[dict[str, Any]]:
    return [
        {k: v.isoformat() if isinstance(v, dt.datetime | dt.date) else v for k, v in row.items()}
        for row in beyond_9999_as_text(frame).to_dicts()
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


def print_result(result: Any, as_json: bool, columns: tuple[str, ...], extra: tuple[str, ...] = ()) -> None:
    """Print a door result: a table of ``columns`` (local times), or JSON with rows and ``extra`` frames."""
    tz = zoneinfo.ZoneInfo(current_settings().timezone)

    def cell(v: Any) -> str:
        if isinstance(v, dt.datetime):
            try:
                return f"{v.astimezone(tz):%Y-%m-%d %H:%M:%S}"
            except OverflowError:  # a read stored before times were checked at import
                return f"{v:%Y-%m-%d %H:%M:%S} UTC"
        if isinstance(v, float):
            return f"{v:.6g}"
        if isinstance(v, list):
            return ",".join(str(x) for x in v)
        return "-" if v is None else str(v)

    def text() -> None:
        shown = shown_reads(result.frame)
        frame = beyond_9999_as_text(shown.select([c for c in columns if c in shown.columns]))
        if frame.height:
            click.echo("  ".join(frame.columns))
        for row in frame.iter_rows():
            click.echo(validate.printable("  ".join(cell(v) for v in row)))
        if result.total is not None:  # a page of a paged search
            said = result.summary(next_hint="--page {page}").replace(" · ", "; ")
        else:
            said = f"{result.count:,} rows" + (
                " (capped: narrow the search or raise --limit)" if result.truncated else ""
            )
            if result.past_retention:
                said += f"; {retention_note(result.past_retention)}"
        click.echo(f"{said}; audit entry {result.audit_id}.", err=True)

    data = {**result.to_dict(), "rows": frame_rows(result.frame)}
    for key in extra:
        value = getattr(result, key, None)
        data[key] = frame_rows(value) if hasattr(value, "to_dicts") else value
    emit(as_json, data, text)


def parse_quarter(quarter: str) -> tuple[str, dt.datetime, dt.datetime]:
    """``2026Q4`` as its text and the start and end of that quarter in the department's time zone."""
    text = quarter.strip().upper()
    if (
        len(text) != 6
        or text[4] != "Q"
        or not text[:4].isascii()
        or not text[:4].isdigit()
        or text[5] not in "1234"
    ):
        raise InvalidInput("give the quarter as YYYYQN, e.g. 2026Q4")
    year, q = int(text[:4]), int(text[5])
    if not validate.EARLIEST.year <= year <= validate.latest().year:
        raise InvalidInput(f"give a quarter from {validate.EARLIEST.year} to this year")
    tz = zoneinfo.ZoneInfo(current_settings().timezone)
    start = dt.datetime(year, 3 * q - 2, 1, tzinfo=tz)
    end = dt.datetime(year + (q == 4), (3 * q) % 12 + 1, 1, tzinfo=tz)
    return text, start, end


def data_options(*, window: bool = True, state: bool = True, limit: bool = True) -> Callable[..., Any]:
    """The options every data command takes: why (purpose, case, reason), who, where, JSON; and the
    time window, state and row limit where they apply."""

    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in (json_option, db_option, user_option, why_options):
            fn = option(fn)
        if limit:
            fn = click.option("--limit", type=COUNT, default=None, help="Most rows (default 10,000).")(fn)
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


def door_session(kw: dict[str, Any]) -> tuple[AccessSession, dict[str, Any], bool]:
    """The session of a data command, its purpose keywords, and whether it prints JSON (``kw`` consumed)."""
    session = login_member(open_store(kw.pop("db")), kw.pop("user"))
    why = {"purpose": kw.pop("purpose"), "case": kw.pop("case"), "reason": kw.pop("reason")}
    for key in ("since", "until"):
        if key in kw:
            kw[key] = parse_when(kw[key], end=key == "until")
    return session, why, kw.pop("as_json")


def parse_floats(value: str, n: int, what: str) -> list[float]:
    parts = value.split(",")
    try:
        numbers = [validate.finite(p, what) for p in parts]
    except InvalidInput:
        numbers = []
    if len(numbers) != n:
        raise InvalidInput(
            f"{what} takes {n} numbers separated by commas, e.g. 43.97,-124.10" + (",500" if n == 3 else "")
        )
    return numbers


READ_COLUMNS = ("ts", "plate", "state", "camera", "lat", "lon", "confidence", "vehicle", "reading")
