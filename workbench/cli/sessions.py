"""Logging in and out of the command line: a session cached for this shell."""

from __future__ import annotations

import json
import os

import click

from alpr_lib.access import resume
from alpr_lib.errors import NotAuthenticated

from .common import (
    cached_token,
    db_option,
    door_policy,
    main,
    open_store,
    password_login,
    session_file,
    user_option,
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
    store = open_store(db)
    if not user:
        raise NotAuthenticated("say who you are with --user NAME (or set WORKBENCH_USER)")
    session = password_login(store, user)
    path = session_file(store)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({"user": session.name, "token": session.token}, fh)
    policy = door_policy()
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
    store = open_store(db)
    path = session_file(store)
    token = cached_token(store, None)
    path.unlink(missing_ok=True)
    if not token:
        click.echo("No session was open in this shell.")
        return
    try:
        resume(store, token, client="cli", policy=door_policy()).logout()
    except NotAuthenticated:
        click.echo("The session had already ended.")
        return
    click.echo("Logged out.")
