"""Reads in bulk: vendor CSV exports."""

from __future__ import annotations

from pathlib import Path

import click

from alpr_lib.errors import InvalidInput
from alpr_lib.vendors import FORMATS

from .common import (
    db_option,
    emit,
    json_option,
    login_member,
    main,
    open_store,
    parse_floats,
    progress_bar,
    user_option,
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
    "--format",
    "fmt",
    type=click.Choice(FORMATS, case_sensitive=False),
    default=None,
    help="The export's format: a reads CSV, Genetec AutoVu XML, OpenALPR/Rekor agent JSON or Plate "
    "Recognizer JSON (recognised from the file when not given).",
)
@click.option(
    "--map",
    "mapping",
    multiple=True,
    metavar='OURS="THEIRS"',
    help='Map a vendor column (or an AutoVu template tag) to ours, e.g. --map plate="License Plate". '
    "Repeatable.",
)
@click.option(
    "--at",
    "at",
    metavar="LAT,LON",
    default=None,
    help="Where reads without a position were made, when their camera is not yet known.",
)
@click.option(
    "--rejects",
    type=click.Path(path_type=Path),
    default=None,
    help="Where bad rows are written: a new file (default: FILE.rejects.csv, or FILE.rejects-2.csv ...).",
)
@click.option(
    "--images",
    "image_folder",
    type=click.Path(exists=True, file_okay=False, path_type=Path),
    default=None,
    help="The export's image folder: the image column is relative to it, and each image is copied into the "
    "workbench's image store (without it, the column names files already in the store).",
)
@user_option
@db_option
@json_option
def import_reads(
    file: Path,
    fmt: str | None,
    mapping: tuple[str, ...],
    at: str | None,
    rejects: Path | None,
    image_folder: Path | None,
    user: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Import reads from a reads CSV or a camera system's export (administrators).

    A CSV's columns plate, ts, lat, lon are required; source_id, state, camera, confidence,
    image, make, model, color, body, direction and alternatives are optional. Genetec AutoVu
    XML, OpenALPR/Rekor agent JSON and Plate Recognizer JSON are read as their vendors
    document them (the admin guide lists which field maps to what). Bad records are reported
    by line and written to a new rejects file; importing the same file again adds nothing.
    With --images, each row's image is copied from the export's image folder into the
    workbench's image store; a name leading outside that folder rejects the row.

    \b
    Example:
        workbench import-reads export.csv --map plate="License Plate" --map ts="Date/Time" --user admin
        workbench import-reads export/reads.csv --images export/images --user admin
        workbench import-reads autovu-reads.xml --user admin
        workbench import-reads scout-groups.jsonl --format alprd --user admin
    """
    column_map = _parse_map(mapping)
    place = None
    if at:
        lat, lon = parse_floats(at, 2, "--at")
        place = (lat, lon)
    session = login_member(open_store(db), user)
    with progress_bar(None, "importing") as step:
        report = session.import_reads(
            file,
            format=fmt.lower() if fmt else None,
            column_map=column_map,
            rejects_path=rejects,
            image_folder=image_folder,
            at=place,
            progress=step,
        )
    data = report.as_dict()
    if not as_json:
        for row in report.rejected:
            click.echo(f"line {row.line}: {row.reason}", err=True)
    emit(
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
