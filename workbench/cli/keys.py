"""The department's signing keys: what they are, their public halves for an auditor, rotation."""

from __future__ import annotations

import json
from pathlib import Path

import click

from alpr_lib.errors import InvalidInput
from alpr_lib.media import write_private

from .common import (
    WorkbenchGroup,
    current_settings,
    db_option,
    emit,
    json_option,
    login_member,
    main,
    open_store,
    user_option,
)


@main.group(cls=WorkbenchGroup)
def keys() -> None:
    """The department's signing key: it signs every audit entry, checkpoint and release manifest.

    \b
    Example:
        workbench keys export department-keys.json --user supervisor
    """


@keys.command("show")
@user_option
@db_option
@json_option
def keys_show(user: str | None, db: str | None, as_json: bool) -> None:
    """The key the database signs with now, and every key it has had (supervisors, administrators, the
    custodian). No secret is shown.

    \b
    Example:
        workbench keys show --user admin
    """
    bundle = login_member(open_store(db), user).signing_keys(current_settings().department_name)

    def text() -> None:
        click.echo(f"database   {bundle['database_id']}\nkey folder {bundle['key_dir']}")
        for k in bundle["keys"]:
            span = f"entries {k['first_entry']}–{k['last_entry'] if k['last_entry'] is not None else ''}"
            state = (
                "signing now" if k["key_id"] == bundle["signing_key"] else f"retired {k['retired_at'] or ''}"
            )
            click.echo(f"{k['key_id']}  {k['algorithm']}  created {k['created_at']}  {span}  {state}")

    emit(as_json, bundle, text)


@keys.command("export")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@user_option
@db_option
def keys_export(out: Path, user: str | None, db: str | None) -> None:
    """Write the public halves of the department's keys to OUT, for an outside auditor (`workbench audit
    verify --log … --key OUT`) or an agency receiving a release (`workbench release verify PACKAGE --key
    OUT`). Hand it over on a separate channel from what it verifies.

    \b
    Example:
        workbench keys export department-keys.json --user supervisor
    """
    if out.exists():
        raise InvalidInput(f"{out} already exists; choose a new file name")
    bundle = login_member(open_store(db), user).signing_keys(current_settings().department_name)
    bundle.pop("key_dir")
    write_private(out, json.dumps(bundle, indent=2).encode())
    click.echo(f"The public keys ({len(bundle['keys'])}) written to {out}.")


@keys.command("create")
@user_option
@db_option
@json_option
def keys_create(user: str | None, db: str | None, as_json: bool) -> None:
    """Give a database made before signing keys its key (administrators): every entry from now on is signed,
    and the first signed entry vouches, through the hash chain, for those before it.

    \b
    Example:
        workbench keys create --user admin
    """
    record = login_member(open_store(db), user).create_key()
    emit(
        as_json,
        record,
        lambda: click.echo(f"Created signing key {record['key_id']}; back it up (admin guide)."),
    )


@keys.command("rotate")
@user_option
@db_option
@json_option
def keys_rotate(user: str | None, db: str | None, as_json: bool) -> None:
    """Replace the signing key (administrators): a new key signs from this entry on; the old key's private
    half is destroyed and its public half kept, so what it signed still verifies. Export the public keys
    again for the auditor afterwards.

    \b
    Example:
        workbench keys rotate --user admin
    """
    result = login_member(open_store(db), user).rotate_key()
    emit(
        as_json,
        result,
        lambda: click.echo(
            f"Signing key {result['retired']} retired; {result['key_id']} signs from entry "
            f"{result['first_entry']} on. Back up the key folder and export the public keys again."
        ),
    )
