"""Servers: JupyterLab and the dashboards behind the login, the door for scripts, members' notebooks."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from alpr_lib import validate
from alpr_lib.errors import InvalidInput

from .common import (
    WorkbenchGroup,
    current_settings,
    db_option,
    door_policy,
    emit,
    json_option,
    login_member,
    main,
    open_store,
    user_option,
)

# -- servers ----------------------------------------------------------------------------------


def _server_options(default_port: int) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def wrap(fn: Callable[..., Any]) -> Callable[..., Any]:
        fn = click.option("--no-browser", is_flag=True, help="Do not open a browser.")(fn)
        fn = click.option(
            "--ip",
            default="127.0.0.1",
            show_default=True,
            help="Address to listen on (this machine only by default; anything else belongs behind HTTPS).",
        )(fn)
        return click.option("--port", type=click.IntRange(1, 65535), default=default_port, show_default=True)(
            fn
        )

    return wrap


def _project_dir(name: str) -> Path:
    here = Path.cwd() / name
    if here.is_dir():
        return here
    bundled = Path(__file__).resolve().parent.parent / name
    return bundled if bundled.is_dir() else Path.cwd()


def _server_options_common(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option(
        "--keyfile",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="The TLS certificate's private key (PEM), with --certfile.",
    )(fn)
    fn = click.option(
        "--certfile",
        type=click.Path(exists=True, dir_okay=False, path_type=Path),
        default=None,
        help="Serve over HTTPS with this certificate (PEM; the chain after it); the login cookie is then "
        "Secure. Behind a reverse proxy that ends TLS, leave it out (see trusted_proxies).",
    )(fn)
    return click.option(
        "--unprotected",
        is_flag=True,
        help="Single-user mode: kernels run without the sandbox (every audit entry says so). Only on a "
        "machine nobody else uses.",
    )(fn)


def _tls(certfile: Path | None, keyfile: Path | None) -> tuple[Path, Path] | None:
    if (certfile is None) != (keyfile is None):
        raise InvalidInput("HTTPS needs both --certfile and --keyfile")
    if certfile is None or keyfile is None:
        return None
    import ssl

    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(certfile, keyfile)
    except (ssl.SSLError, OSError) as exc:
        raise InvalidInput(f"the certificate and key cannot be used for HTTPS: {exc}") from None
    return certfile.resolve(), keyfile.resolve()


def _launch(
    client: str,
    db: str | None,
    folder: Path,
    *,
    ip: str,
    port: int,
    browser: bool,
    unprotected: bool,
    tls: tuple[Path, Path] | None = None,
) -> None:
    from ..basemap import open_basemap
    from ..config import purge_schedule
    from ..servers import launch

    settings = current_settings()
    basemap = open_basemap(settings.basemap, settings.data_dir)
    store = open_store(db)
    hidden = [Path(settings.data_dir), Path(settings.key_dir).expanduser()]
    config = os.environ.get("WORKBENCH_CONFIG")
    if config:
        hidden.append(Path(config))
    if store.url.get_backend_name() == "sqlite" and store.url.database not in (None, "", ":memory:"):
        database = Path(store.url.database).resolve()
        hidden += [
            database.parent,
            *(database.with_name(database.name + s) for s in ("", "-wal", "-shm", "-journal")),
        ]
    launch(
        client,
        store,
        folder,
        policy=door_policy(),
        data_dir=Path(settings.data_dir).resolve(),
        hidden=hidden,
        ip=ip,
        port=port,
        browser=browser,
        protected=not unprotected,
        kernel_user=settings.kernel_user,
        trusted_proxies=frozenset(p.strip() for p in str(settings.trusted_proxies).split(",") if p.strip()),
        purge_at=purge_schedule(settings.purge_at),
        display={"timezone": settings.timezone},
        basemap=basemap,
        tls=tls,
        ready_kernels=settings.ready_kernels if client == "dashboard" else 0,
    )


@main.command("lab")
@_server_options(8888)
@click.option(
    "--notebooks",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the shipped analyst and training notebooks (default: ./notebooks).",
)
@_server_options_common
@db_option
def lab(
    port: int,
    ip: str,
    no_browser: bool,
    notebooks: Path | None,
    unprotected: bool,
    certfile: Path | None,
    keyfile: Path | None,
    db: str | None,
) -> None:
    """Start JupyterLab behind the workbench login; every cell run is audited.

    Members log in with their workbench name and password. Each kernel runs in a sandbox
    with no way to the data but the door (workbench.connect() in a notebook); members reach
    only their own kernels and their own folder (members/NAME) besides the shipped
    notebooks (shipped/, read-only); notebooks are saved without outputs; terminals are off.

    \b
    Examples:
        workbench lab --port 8888 --no-browser
        workbench lab --ip 0.0.0.0 --certfile /etc/alpr/tls/cert.pem --keyfile /etc/alpr/tls/key.pem
    """
    _launch(
        "lab", db, notebooks or _project_dir("notebooks"), ip=ip, port=port, browser=not no_browser,
        unprotected=unprotected, tls=_tls(certfile, keyfile),
    )  # fmt: skip


@main.command("serve")
@_server_options(8866)
@click.option(
    "--apps",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of dashboards (default: ./voila_apps).",
)
@_server_options_common
@db_option
def serve(
    port: int,
    ip: str,
    no_browser: bool,
    apps: Path | None,
    unprotected: bool,
    certfile: Path | None,
    keyfile: Path | None,
    db: str | None,
) -> None:
    """Start the Voila dashboards behind the workbench login.

    Each dashboard's kernel runs in a sandbox with no way to the data but the door;
    sources are hidden, errors show no tracebacks, and idle dashboard kernels are culled.

    \b
    Examples:
        workbench serve --port 8866 --no-browser
        workbench serve --ip 0.0.0.0 --certfile /etc/alpr/tls/cert.pem --keyfile /etc/alpr/tls/key.pem
    """
    _launch(
        "dashboard", db, apps or _project_dir("voila_apps"), ip=ip, port=port, browser=not no_browser,
        unprotected=unprotected, tls=_tls(certfile, keyfile),
    )  # fmt: skip


@main.command("door", context_settings={"ignore_unknown_options": True})
@click.option(
    "--socket",
    "socket_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Where to listen (default: a private folder under the data folder).",
)
@click.argument("command", nargs=-1, type=click.UNPROCESSED)
@db_option
def door(socket_path: Path | None, command: tuple[str, ...], db: str | None) -> None:
    """Run the door as a service for notebooks outside the servers: scripts, nbval in CI.

    Clients log in with a member's name and password (WORKBENCH_USER and WORKBENCH_PASSWORD in
    their environment); the session lives on the client's connection alone. With a COMMAND,
    the door serves while it runs — with WORKBENCH_DOOR set and no database in its
    environment — and stops after, exiting with its status.

    \b
    Example:
        workbench door -- pytest --nbval notebooks
    """
    import shutil
    import signal
    import subprocess
    import tempfile

    from alpr_lib.access.service import DoorService

    settings = current_settings()
    store = open_store(db)
    private = Path(settings.data_dir) / "run"
    private.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = None if socket_path else Path(tempfile.mkdtemp(prefix="door-", dir=private))
    path = socket_path or folder / "door.sock"  # type: ignore[operator]
    service = DoorService(
        store, door_policy(), path, client="api", allow_password=True,
        display={"timezone": settings.timezone},
    )  # fmt: skip
    stop = {signal.SIGINT, signal.SIGTERM}
    if not command:  # blocked in every thread (they inherit it), delivered to sigwait: the socket is removed
        signal.pthread_sigmask(signal.SIG_BLOCK, stop)
    service.start()
    try:
        if command:
            env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_DB_URL", "WORKBENCH_CONFIG")}
            env["WORKBENCH_DOOR"] = str(path)
            status = subprocess.call(list(command), env=env)
            raise SystemExit(status)
        click.echo(f"The door is listening on {path} (Ctrl-C stops it).", err=True)
        signal.sigwait(stop)
    finally:
        service.stop()
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)


@main.group(cls=WorkbenchGroup)
def notebooks() -> None:
    """Members' own JupyterLab notebooks (supervisors review them; the review is audited).

    \b
    Example:
        workbench notebooks list --user supervisor
    """


@notebooks.command("list")
@click.option("--member", default=None, help="Only this member's notebooks.")
@user_option
@db_option
@json_option
def notebooks_list(member: str | None, user: str | None, db: str | None, as_json: bool) -> None:
    """List the notebooks members keep in their own JupyterLab folders: member, notebook, size, last saved.
    Notebooks are saved without outputs; open one with `workbench lab` as its member to re-run it.

    \b
    Example:
        workbench notebooks list --member analyst --user supervisor
    """
    folder = Path(current_settings().data_dir) / "lab" / "members"
    rows = login_member(open_store(db), user).review_notebooks(folder, member=member).to_dicts()

    def text() -> None:
        if not rows:
            click.echo("No member keeps a notebook yet.")
        for r in rows:
            saved = f"{r['saved']:%Y-%m-%d %H:%M} UTC"
            # A notebook's name is the member's to choose: shown, never obeyed by the terminal.
            line = f"{r['member']:<20}{r['notebook']:<40}{r['bytes']:>10,} bytes  saved {saved}"
            click.echo(validate.printable(line))

    emit(as_json, {"count": len(rows), "rows": rows}, text)
