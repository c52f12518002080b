"""Recognition: ingesting camera images and video, and measuring accuracy."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from .common import (
    COUNT,
    NUMBER,
    WorkbenchGroup,
    current_settings,
    db_option,
    emit,
    json_option,
    login_member,
    main,
    open_store,
    parse_floats,
    parse_when,
    progress_bar,
    user_option,
)

# -- recognition --------------------------------------------------------------------------------


@main.group(cls=WorkbenchGroup)
def ingest() -> None:
    """Recognise plates in camera images or video and store them as reads (administrators).

    \b
    Example:
        workbench ingest images /evidence/cam7 --camera US101N-07 --user admin
    """


def _engine(
    name: str | None = None, *, reader_model: Path | None = None, detector_model: Path | None = None
) -> Any:
    """The OCR engine the settings name (``ocr_engine``, ``easyocr_model_dir``), or ``name``."""
    from alpr_lib.recognition.ocr import default_engine

    settings = current_settings()
    return default_engine(
        name or settings.ocr_engine,
        model_dir=settings.easyocr_model_dir or None,
        reader_model=reader_model,
        detector_model=detector_model,
    )


def _at(value: str | None) -> tuple[float, float] | None:
    if not value:
        return None
    lat, lon = parse_floats(value, 2, "--at")
    return lat, lon


@ingest.command("images")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--camera", required=True, help="The camera that took them (known, or placed with --at).")
@click.option("--at", "at", metavar="LAT,LON", default=None, help="The camera's place, if it is new.")
@click.option(
    "--start", metavar="TIME", default=None, help="Time of the first image without EXIF or dated name."
)
@click.option(
    "--every", "every_s", type=NUMBER, default=1.0, show_default=True, help="Seconds between such images."
)
@user_option
@db_option
@json_option
def ingest_images_cmd(
    folder: Path,
    camera: str,
    at: str | None,
    start: str | None,
    every_s: float,
    user: str | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Read the plates in every image of FOLDER, and the state a plate's lettering names where it is legible;
    corrupt, empty or non-image files are skipped and listed.

    \b
    Example:
        workbench ingest images ./stills --camera PORT-02 --start 2026-11-03T14:00 --every 2 --user admin
    """
    session = login_member(open_store(db), user)
    with progress_bar(None, "reading images", unit="files") as step:
        data = session.ingest_media(
            "images", folder, engine=_engine(), camera=camera, at=_at(at),
            start=parse_when(start, clamp=False), every_s=every_s, progress=step,
        )  # fmt: skip
    _report_intake(data, as_json)


@ingest.command("video")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--camera", required=True, help="The camera that filmed it (known, or placed with --at).")
@click.option("--at", "at", metavar="LAT,LON", default=None, help="The camera's place, if it is new.")
@click.option("--start", metavar="TIME", required=True, help="When the video starts (ISO 8601).")
@user_option
@db_option
@json_option
def ingest_video_cmd(
    file: Path, camera: str, at: str | None, start: str, user: str | None, db: str | None, as_json: bool
) -> None:
    """One read per vehicle pass in a video FILE (plates tracked across frames, texts and states voted).

    \b
    Example:
        workbench ingest video dashcam.mp4 --camera PATROL-3 --at 43.97,-124.10 \\
            --start 2026-11-03T14:00 --user admin
    """
    session = login_member(open_store(db), user)
    when = parse_when(start, clamp=False)
    assert when is not None
    with progress_bar(None, "reading video", unit="frames") as step:
        data = session.ingest_media(
            "video", file, engine=_engine(), camera=camera, at=_at(at), start=when,
            progress=step,
        )  # fmt: skip
    _report_intake(data, as_json)


def _report_intake(data: dict[str, Any], as_json: bool) -> None:
    if not as_json:
        for item in data["skipped"]:
            click.echo(f"{item['file']}: {item['reason']}", err=True)
    emit(
        as_json,
        data,
        lambda: click.echo(
            f"{data['files']} files: {data['plates']} plates read, {data['imported']} new reads, "
            f"{len(data['skipped'])} skipped"
            + (f"; {data['alerts']} hotlist alerts to verify" if data["alerts"] else "")
            + "."
        ),
    )


# -- evaluation --------------------------------------------------------------------------------


@main.command("evaluate")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--limit", type=COUNT, default=None, help="Only the first N labelled images.")
@click.option(
    "--crops",
    "crops_csv",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help=(
        "OCR only: FOLDER holds plate crops, this CSV their truths (file,state,PLATE); "
        "the state read on each is scored too."
    ),
)
@click.option(
    "--engine",
    type=click.Choice(["plate", "rapidocr", "easyocr"]),
    default=None,
    help="The OCR engine to measure (default: the ocr_engine setting).",
)
@click.option(
    "--fold",
    "--half",
    "fold",
    type=click.IntRange(0, 1_000),
    default=None,
    help="Only every --folds-th image in file-name order, from image number K (0 is the first): the fold a "
    "plate reader or detector trained with --leave-out K --folds N did not see.",
)
@click.option(
    "--folds",
    type=click.IntRange(2, 1_000),
    default=2,
    show_default=True,
    help="How many folds the images are split into for --fold (2: halves).",
)
@click.option(
    "--reader",
    "reader_model",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The plate reader's ONNX model to measure (default: the one shipped).",
)
@click.option(
    "--detector",
    "detector_model",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="The plate detector's ONNX model to measure (default: the one shipped).",
)
@db_option
@json_option
def evaluate_cmd(
    folder: Path,
    limit: int | None,
    crops_csv: Path | None,
    engine: str | None,
    fold: int | None,
    folds: int,
    reader_model: Path | None,
    detector_model: Path | None,
    db: str | None,
    as_json: bool,
) -> None:
    """Recognition accuracy on FOLDER in the openalpr benchmark format (NAME.jpg + NAME.txt).

    Reports plates detected (IoU > 0.4), exact top-1, top-N, top-1 with look-alike characters
    counted equal, and milliseconds per image. Reads no database (--db is accepted and unused).

    \b
    Example:
        workbench evaluate ../shared/datasets/openalpr/endtoend/us --json
    """
    from alpr_lib.recognition.evaluate import evaluate_crops, evaluate_folder

    if fold is not None and fold >= folds:
        raise click.BadParameter(f"a fold from 0 to {folds - 1}", param_hint="--fold")
    ocr = _engine(engine, reader_model=reader_model, detector_model=detector_model)
    if crops_csv is not None:
        with progress_bar(None, "evaluating", unit="crops") as step:
            crops = evaluate_crops(folder, crops_csv, ocr, limit=limit, progress=step)
        emit(as_json, crops, lambda: click.echo(json.dumps(crops)))
        return
    with progress_bar(None, "evaluating", unit="images") as step:
        result = evaluate_folder(folder, ocr, limit=limit, fold=fold, folds=folds, progress=step)
    data = result.as_dict()

    def text() -> None:
        click.echo(
            f"{data['images']} images: detected {data['detected']:.1%}, top-1 {data['top1']:.1%}, "
            f"top-N {data['topn']:.1%}, top-1 with look-alikes equal {data['top1_loose']:.1%}; "
            f"{data['ms_median']:.0f} ms median, {data['ms_p95']:.0f} ms p95 per image ({data['engine']})."
        )

    emit(as_json, data, text)
