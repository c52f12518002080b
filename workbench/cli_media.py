"""Recognition and server commands: ingest images and video, evaluate, JupyterLab and the dashboards."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from .cli import (
    WorkbenchGroup,
    _bar,
    _emit,
    _floats,
    _login,
    _open,
    _policy,
    _settings,
    _when,
    db_option,
    json_option,
    main,
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

    settings = _settings()
    return default_engine(
        name or settings.ocr_engine,
        model_dir=settings.easyocr_model_dir or None,
        reader_model=reader_model,
        detector_model=detector_model,
    )


def _at(value: str | None) -> tuple[float, float] | None:
    if not value:
        return None
    lat, lon = _floats(value, 2, "--at")
    return lat, lon


@ingest.command("images")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--camera", required=True, help="The camera that took them (known, or placed with --at).")
@click.option("--at", "at", metavar="LAT,LON", default=None, help="The camera's place, if it is new.")
@click.option(
    "--start", metavar="TIME", default=None, help="Time of the first image without EXIF or dated name."
)
@click.option(
    "--every", "every_s", type=float, default=1.0, show_default=True, help="Seconds between such images."
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
    session = _login(_open(db), user)
    with _bar(None, "reading images", unit="files") as step:
        data = session.ingest_media(
            "images", folder, engine=_engine(), camera=camera, at=_at(at), start=_when(start),
            every_s=every_s, crops_dir=Path(_settings().data_dir) / "crops", progress=step,
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
    session = _login(_open(db), user)
    when = _when(start)
    assert when is not None
    with _bar(None, "reading video", unit="frames") as step:
        data = session.ingest_media(
            "video", file, engine=_engine(), camera=camera, at=_at(at), start=when,
            crops_dir=Path(_settings().data_dir) / "crops", progress=step,
        )  # fmt: skip
    _report_intake(data, as_json)


def _report_intake(data: dict[str, Any], as_json: bool) -> None:
    if not as_json:
        for item in data["skipped"]:
            click.echo(f"{item['file']}: {item['reason']}", err=True)
    _emit(
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
@click.option("--limit", type=click.IntRange(1), default=None, help="Only the first N labelled images.")
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
    type=click.IntRange(min=0),
    default=None,
    help="Only every --folds-th image in file-name order, from image number K (0 is the first): the fold a "
    "plate reader or detector trained with --leave-out K --folds N did not see.",
)
@click.option(
    "--folds",
    type=click.IntRange(min=2),
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
        with _bar(None, "evaluating", unit="crops") as step:
            crops = evaluate_crops(folder, crops_csv, ocr, limit=limit, progress=step)
        _emit(as_json, crops, lambda: click.echo(json.dumps(crops)))
        return
    with _bar(None, "evaluating", unit="images") as step:
        result = evaluate_folder(folder, ocr, limit=limit, fold=fold, folds=folds, progress=step)
    data = result.as_dict()

    def text() -> None:
        click.echo(
            f"{data['images']} images: detected {data['detected']:.1%}, top-1 {data['top1']:.1%}, "
            f"top-N {data['topn']:.1%}, top-1 with look-alikes equal {data['top1_loose']:.1%}; "
            f"{data['ms_median']:.0f} ms median, {data['ms_p95']:.0f} ms p95 per image ({data['engine']})."
        )

    _emit(as_json, data, text)


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
    return click.option(
        "--unprotected",
        is_flag=True,
        help="Single-user mode: kernels run without the sandbox (every audit entry says so). Only on a "
        "machine nobody else uses.",
    )(fn)


def _launch(
    client: str, db: str | None, folder: Path, *, ip: str, port: int, browser: bool, unprotected: bool
) -> None:
    from .servers import launch

    settings = _settings()
    store = _open(db)
    hidden = [Path(settings.data_dir)]
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
        policy=_policy(),
        data_dir=Path(settings.data_dir).resolve(),
        hidden=hidden,
        ip=ip,
        port=port,
        browser=browser,
        protected=not unprotected,
        kernel_user=settings.kernel_user,
        display={"basemap_url": settings.basemap_url, "timezone": settings.timezone},
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
    port: int, ip: str, no_browser: bool, notebooks: Path | None, unprotected: bool, db: str | None
) -> None:
    """Start JupyterLab behind the workbench login; every cell run is audited.

    Members log in with their workbench name and password. Each kernel runs in a sandbox
    with no way to the data but the door (workbench.connect() in a notebook); members reach
    only their own kernels and their own folder (members/NAME) besides the shipped
    notebooks (shipped/, read-only); notebooks are saved without outputs; terminals are off.

    \b
    Example:
        workbench lab --port 8888 --no-browser
    """
    _launch(
        "lab", db, notebooks or _project_dir("notebooks"), ip=ip, port=port, browser=not no_browser,
        unprotected=unprotected,
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
def serve(port: int, ip: str, no_browser: bool, apps: Path | None, unprotected: bool, db: str | None) -> None:
    """Start the Voila dashboards behind the workbench login.

    Each dashboard's kernel runs in a sandbox with no way to the data but the door;
    sources are hidden, errors show no tracebacks, and idle dashboard kernels are culled.

    \b
    Example:
        workbench serve --port 8866 --no-browser
    """
    _launch(
        "dashboard", db, apps or _project_dir("voila_apps"), ip=ip, port=port, browser=not no_browser,
        unprotected=unprotected,
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
    import signal
    import subprocess
    import tempfile

    from alpr_lib.access.service import DoorService

    settings = _settings()
    store = _open(db)
    private = Path(settings.data_dir) / "run"
    private.mkdir(parents=True, exist_ok=True, mode=0o700)
    folder = None if socket_path else Path(tempfile.mkdtemp(prefix="door-", dir=private))
    path = socket_path or folder / "door.sock"  # type: ignore[operator]
    service = DoorService(
        store, _policy(), path, client="api", allow_password=True,
        display={"basemap_url": settings.basemap_url, "timezone": settings.timezone},
    )  # fmt: skip
    service.start()
    try:
        if command:
            env = {k: v for k, v in os.environ.items() if k not in ("WORKBENCH_DB_URL", "WORKBENCH_CONFIG")}
            env["WORKBENCH_DOOR"] = str(path)
            status = subprocess.call(list(command), env=env)
            raise SystemExit(status)
        click.echo(f"The door is listening on {path} (Ctrl-C stops it).", err=True)
        signal.sigwait({signal.SIGINT, signal.SIGTERM})
    finally:
        service.stop()
        if folder is not None:
            import shutil

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
    folder = Path(_settings().data_dir) / "lab" / "members"
    rows = _login(_open(db), user).review_notebooks(folder, member=member).to_dicts()

    def text() -> None:
        if not rows:
            click.echo("No member keeps a notebook yet.")
        for r in rows:
            saved = f"{r['saved']:%Y-%m-%d %H:%M} UTC"
            click.echo(f"{r['member']:<20}{r['notebook']:<40}{r['bytes']:>10,} bytes  saved {saved}")

    _emit(as_json, {"count": len(rows), "rows": rows}, text)
