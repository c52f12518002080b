"""Recognition: the pipeline's logic with a fake engine, and the real engine on real plate photos."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from alpr_lib.media import ImageStore
from alpr_lib.recognition import FakeEngine, TextBox, pipeline, read_plates
from alpr_lib.recognition.evaluate import evaluate_folder, iou, labelled_images
from alpr_lib.recognition.pipeline import PHOTO_MARGINS, resolve_by_format
from alpr_lib.store import Store

from .conftest import train_admin

# The public benchmark data sits beside the checkout (../shared/datasets/openalpr), never inside it.
DATASET = Path(
    os.environ.get("OPENALPR_DATA")
    or Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "openalpr"
)


def box(x: float, y: float, w: float, h: float, text: str, score: float = 0.9) -> TextBox:
    return TextBox(((x, y), (x + w, y), (x + w, y + h), (x, y + h)), text, score)


IMAGE = np.zeros((480, 640, 3), dtype=np.uint8)


def test_the_plate_beats_the_slogan_and_a_split_plate_is_joined() -> None:
    engine = FakeEngine(
        lambda _img: [
            box(200, 100, 240, 20, "California", 0.99),
            box(220, 140, 90, 50, "7ABC", 0.95),
            box(318, 141, 80, 49, "-123", 0.93),
            box(240, 210, 160, 14, "dmv.ca.gov", 0.97),
        ]
    )
    best = read_plates(IMAGE, engine)[0]
    assert best.plate == "7ABC123"
    assert best.states == ("CA",)
    assert iou(best.bbox, (220, 140, 178, 50)) > 0.9


def test_look_alikes_are_resolved_by_the_state_format() -> None:
    assert ("7ABC123", "CA") in resolve_by_format("7A8C1Z3")
    assert ("123ABC", "OR") in resolve_by_format("I23A8C")
    assert resolve_by_format("ZZZZZZZZ") == []
    engine = FakeEngine(lambda _img: [box(100, 100, 200, 60, "7A8C1Z3", 0.9)])
    best = read_plates(IMAGE, engine)[0]
    # As read first (other states' plates must not be forced into ours), the format's reading next.
    assert best.plate == "7A8C1Z3" and best.alternatives[0][0] == "7ABC123"


def test_no_text_no_reading() -> None:
    assert read_plates(IMAGE, FakeEngine(lambda _img: [])) == []
    assert read_plates(IMAGE, FakeEngine(lambda _img: [box(0, 0, 50, 20, "STOP")])) == []
    # A camera's date stamp is not a plate, however large its text.
    stamped = [box(10, 10, 300, 60, "2014-05-09", 0.99), box(200, 300, 90, 20, "7ABC123")]
    stamp = FakeEngine(lambda _img: stamped)
    assert read_plates(IMAGE, stamp)[0].plate == "7ABC123"


def test_evaluation_counts_against_the_truth(tmp_path: Path) -> None:
    import cv2

    for name, plate in (("a", "7ABC123"), ("b", "XYZ987")):
        cv2.imwrite(str(tmp_path / f"{name}.jpg"), IMAGE)
        (tmp_path / f"{name}.txt").write_text(f"{name}.jpg\t100\t100\t200\t60\t{plate}\n")
    engine = FakeEngine(lambda _img: [box(100, 100, 200, 60, "7ABC123")])
    result = evaluate_folder(tmp_path, engine).as_dict()
    assert (result["images"], result["detected"], result["top1"]) == (2, 1.0, 0.5)


@pytest.mark.slow
def test_the_real_engine_reads_real_plates() -> None:
    folder = DATASET / "endtoend" / "us"
    if not folder.is_dir():
        pytest.fail(
            f"the openalpr benchmark data is missing at {folder} (see shared/datasets/openalpr/README.md)"
        )
    from alpr_lib.recognition.ocr import default_engine

    result = evaluate_folder(folder, default_engine(), limit=25)
    # The default engine reads all 25 exactly. The shipped plate reader and detector trained on these photos
    # (ACCURACY.md), so this guards the whole pipeline's wiring and models against a regression; accuracy on
    # photos they have not seen is measured by cross-validation (ACCURACY.md) and by the held-out crops below.
    assert result.detected >= 0.8, json.dumps(result.as_dict())
    assert result.top1 >= 0.92, json.dumps(result.as_dict())


# Two photos this pipeline reads exactly (see ACCURACY.md): YG9X2G and SL7C6S.
KNOWN = {
    "0b86cecf-67d1-4fc0-87c9-b36b0ee228bb.jpg": "YG9X2G",
    "22e54a62-57a8-4a0a-88c1-4b9758f67651.jpg": "SL7C6S",
}


def _known_photos() -> list[Path]:
    folder = DATASET / "endtoend" / "us"
    photos = [folder / name for name in KNOWN]
    if not all(p.exists() for p in photos):
        pytest.fail(
            f"the openalpr benchmark data is missing at {folder} (see shared/datasets/openalpr/README.md)"
        )
    return photos


@pytest.mark.slow
def test_ingest_images_reads_plates_skips_bad_files_and_is_idempotent(run, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'w.db'}"
    env = {"WORKBENCH_PASSWORD": "first-admin-pass-2026"}
    run("init", "--db", db, env=env)
    folder = tmp_path / "stills"
    folder.mkdir()
    for i, photo in enumerate(_known_photos()):
        shutil.copy(photo, folder / f"cam_2026-11-03_14-0{i}-00.jpg")  # the time is in the name
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    (folder / "empty.png").write_bytes(b"")
    (folder / "notes.txt").write_text("shift notes")
    args = [
        "ingest",
        "images",
        str(folder),
        "--camera",
        "PORT-09",
        "--at",
        "43.97,-124.10",
        "--user",
        "admin",
    ]
    out = json.loads(run(*args, "--db", db, "--json", env=env).stdout)
    assert (out["files"], out["plates"], out["imported"]) == (5, 2, 2)
    assert {s["file"]: s["reason"] for s in out["skipped"]} == {
        "broken.jpg": "corrupt or unreadable image",
        "empty.png": "empty file",
        "notes.txt": "not an image file",
    }
    again = json.loads(run(*args, "--db", db, "--json", env=env).stdout)
    assert again["imported"] == 0  # the same files add nothing
    with Store(db).read() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT p.plate, r.image_path, r.crop_path FROM reads r JOIN plates p ON p.id = r.plate_id"
            )
        ).all()
    assert sorted(r[0] for r in rows) == sorted(KNOWN.values())
    with Store(db).read() as conn:  # the reader's other readings are kept with the read, best first
        others = conn.execute(
            sa.text(
                "SELECT a.read_id, a.rank, a.confidence FROM read_alternatives a ORDER BY a.read_id, a.rank"
            )
        ).all()
    assert others and all(0 <= c <= 1 for _, _, c in others)
    assert {r for _, r, _ in others} == set(range(1, max(r for _, r, _ in others) + 1))
    # The image and its crop are copies in the image store, private to their owner; the folder the images
    # came from is the department's, and no purge will ever touch it.
    images = tmp_path / "data" / "images"
    for _, image, crop in rows:
        assert image.startswith("intake/") and crop.startswith("crops/")
        for kept in (images / image, images / crop):
            assert kept.is_file() and kept.stat().st_mode & 0o077 == 0
    # the alert verifier sees the crop, through the door
    from alpr_lib.access import Policy, login

    admin = login(Store(db), "admin", "first-admin-pass-2026", policy=Policy(image_store=str(images)))
    train_admin(admin)
    with Store(db).read() as conn:
        read_id = conn.execute(sa.text("SELECT MIN(id) FROM reads")).scalar_one()
    crop = admin.crop(read_id, purpose="hit-verification", reason="verifying a hotlist hit").crop
    assert crop is not None and crop[:2] == b"\xff\xd8"  # a JPEG


@pytest.mark.slow
def test_a_video_gives_one_read_per_pass(tmp_path: Path) -> None:
    import cv2

    from alpr_lib.recognition.ocr import default_engine
    from alpr_lib.recognition.video import passes

    width, height = 960, 720
    video = tmp_path / "pass.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (width, height))
    road = np.full((height, width, 3), 40, np.uint8)
    for photo in _known_photos():
        car = cv2.resize(cv2.imread(str(photo)), (width, height))
        for i in range(10):  # one second of the car passing
            writer.write(np.roll(car, i * 4, axis=1))
        for _ in range(25):  # then empty road
            writer.write(road)
    writer.release()
    found = passes(video, default_engine(), every_s=0.2)
    assert [p.plate for p in found] == list(KNOWN.values())
    assert all(p.frames >= 3 for p in found)  # each pass was seen in several frames, and read once


def test_reads_from_stills_and_video_keep_the_state_their_plate_names(
    admin_store: Store, tmp_path: Path
) -> None:
    """The state read on the plate goes into the read (the alert verifier compares it with the hotlist's);
    a video pass takes the state its frames name."""
    import cv2

    from alpr_lib.recognition.video import passes
    from alpr_lib.recognition_intake import ingest_images

    lettered = FakeEngine(lambda _img: [box(240, 100, 140, 20, "OREGON"), box(220, 140, 180, 50, "7ABC123")])
    folder = tmp_path / "stills"
    folder.mkdir()
    cv2.imwrite(str(folder / "cam_2026-11-03_14-00-00.jpg"), IMAGE)
    report = ingest_images(
        admin_store,
        folder,
        camera="PORT-09",
        engine=lettered,
        images=ImageStore(tmp_path / "images"),
        at=(43.97, -124.1),
    )
    assert report.imported == 1
    with admin_store.read() as conn:
        stored = conn.execute(
            sa.text("SELECT p.plate, p.state FROM reads r JOIN plates p ON p.id = r.plate_id")
        )
        assert stored.all() == [("7ABC123", "OR")]
    video = tmp_path / "pass.avi"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for _ in range(10):
        writer.write(IMAGE)
    writer.release()
    (found,) = passes(video, lettered, every_s=0.2)
    assert (found.plate, found.state) == ("7ABC123", "OR")
    unlettered = FakeEngine(lambda _img: [box(220, 140, 180, 50, "7ABC123")])
    assert passes(video, unlettered, every_s=0.2)[0].state == ""


class _UnsureReader:
    """A plate reader reading every region as 7ABC123, sure of all its characters but the second."""

    def read(self, crops: list[np.ndarray]) -> list:
        from alpr_lib.recognition.reader import LineReading

        return [LineReading("7ABC123", 0.95, (0.99, 0.41, 0.98, 0.97, 0.99, 0.99, 0.995), ()) for _c in crops]


def test_a_recognised_read_keeps_its_confidence_per_character_for_the_alert_verifier(
    admin_store: Store, tmp_path: Path
) -> None:
    import cv2
    import polars as pl

    from alpr_lib.hotlists import add_entries, alerts_frame
    from alpr_lib.plates import unsure_characters
    from alpr_lib.recognition_intake import ingest_images
    from workbench.ui.dashboards import _marked

    with admin_store.atomic() as conn:
        add_entries(
            conn,
            pl.DataFrame(
                {"hotlist": ["Stolen"], "plate": ["7ABC123"], "state": [""], "kind": ["stolen-vehicle"]}
            ),
        )
    engine = FakeEngine(lambda _img: [box(220, 140, 180, 50, "7ABC123")])
    engine.reader = _UnsureReader()  # type: ignore[attr-defined]
    folder = tmp_path / "stills"
    folder.mkdir()
    cv2.imwrite(str(folder / "cam_2026-11-03_14-00-00.jpg"), IMAGE)
    report = ingest_images(
        admin_store,
        folder,
        camera="PORT-09",
        engine=engine,
        images=ImageStore(tmp_path / "images"),
        at=(43.97, -124.1),
    )
    assert (report.imported, report.alerts) == (1, 1)
    with admin_store.read() as conn:
        (alert,) = alerts_frame(conn).to_dicts()
    assert alert["read_plate"] == "7ABC123" and alert["char_confidence"] == "99 41 98 97 99 99 100"
    assert unsure_characters(alert["char_confidence"], alert["read_plate"]) == [1]  # the A
    assert _marked("7ABC123", [1]).count("<u") == 1 and ">A</u>" in _marked("7ABC123", [1])
    assert unsure_characters(None, "7ABC123") == [] and unsure_characters("99 41", "7ABC123") == []


def test_the_easyocr_engine_says_how_to_get_its_models(tmp_path: Path) -> None:
    from alpr_lib.errors import ConfigError
    from alpr_lib.recognition.ocr import make_engine

    with pytest.raises(ConfigError, match="craft_mlt_25k.pth, english_g2.pth are not in"):
        make_engine("easyocr", model_dir=tmp_path)
    with pytest.raises(ConfigError, match="easyocr_model_dir"):
        make_engine("easyocr")
    with pytest.raises(ConfigError, match="unknown OCR engine"):
        make_engine("tesseract")


@pytest.mark.slow
def test_image_time_comes_from_exif(tmp_path: Path) -> None:
    import datetime as dt

    from PIL import Image

    from alpr_lib.recognition_intake import _exif_time

    path = tmp_path / "shot.jpg"
    image = Image.new("RGB", (64, 32))
    exif = image.getexif()
    exif[306] = "2026:11:03 14:05:09"
    image.save(path, exif=exif)
    tz = dt.timezone(dt.timedelta(hours=-8))
    assert _exif_time(path, tz) == dt.datetime(2026, 11, 3, 14, 5, 9, tzinfo=tz)


# --- the plate reader ---------------------------------------------------------------------------------------


def _probs(path: str, runner_up: dict[int, str] | None = None) -> np.ndarray:
    """A (T, classes) matrix spelling ``path`` one time step per character (``-`` is CTC's blank)."""
    from alpr_lib.recognition.reader import ALPHABET

    probs = np.full((len(path), len(ALPHABET) + 1), 0.001)
    for t, ch in enumerate(path):
        probs[t, 0 if ch == "-" else ALPHABET.index(ch) + 1] = 0.9
        if runner_up and t in runner_up:
            probs[t, ALPHABET.index(runner_up[t]) + 1] = 0.08
    return probs / probs.sum(axis=1, keepdims=True)


def test_ctc_decoding_collapses_repeats_and_offers_look_alikes() -> None:
    from alpr_lib.recognition.reader import decode

    r = decode(_probs("-77-A-BB-C1-1-2-3", runner_up={10: "I"}))
    assert r.text == "7ABC1123"  # repeats merge unless a blank separates them
    assert len(r.char_confidence) == 8 and all(0.85 < c < 0.99 for c in r.char_confidence)
    assert r.alternatives[0][0] == "7ABCI123"  # the least sure character's runner-up
    assert 0 < r.confidence < min(r.char_confidence)  # the whole reading is less sure than any character
    assert decode(_probs("----")).text == ""


class _Reader:
    """A plate reader answering one reading (for the pipeline's logic)."""

    def __init__(self, text: str, confidence: float) -> None:
        self.text, self.confidence, self.seen = text, confidence, []

    def read(self, crops: list[np.ndarray]) -> list:
        from alpr_lib.recognition.reader import LineReading

        self.seen.extend(c.shape for c in crops)
        chars = tuple(0.97 for _ in self.text)
        return [LineReading(self.text, self.confidence, chars, (("7A8C123", 0.01),))]


def test_a_sure_plate_reader_overrules_the_general_recognizer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "_quick_look", lambda *_a: (None, []))  # no quick look: steps 1-6 alone
    boxes = lambda _img: [box(200, 100, 240, 20, "California", 0.99), box(220, 140, 178, 50, "7ABCI23", 0.95)]  # noqa: E731
    engine = FakeEngine(boxes)
    engine.reader = _Reader("7ABC123", 0.93)  # type: ignore[attr-defined]
    best = read_plates(IMAGE, engine)[0]
    assert best.plate == "7ABC123" and best.char_confidence == (0.97,) * 7
    mx, my = PHOTO_MARGINS
    assert engine.reader.seen == [(round(50 * (1 + 2 * my)), round(178 * (1 + 2 * mx)), 3)]  # one read: the
    # chosen region and its margin
    alternatives = [t for t, _s in best.alternatives]
    assert "7ABCI23" in alternatives and "7A8C123" in alternatives
    unsure = FakeEngine(boxes)
    unsure.reader = _Reader("7ABC123", 0.5)  # type: ignore[attr-defined]
    best = read_plates(IMAGE, unsure)[0]
    assert best.plate == "7ABCI23" and "7ABC123" in [t for t, _s in best.alternatives]


class _Readers:
    """A plate reader answering one reading per call, in turn."""

    def __init__(self, *answers: tuple[str, float]) -> None:
        self.answers = list(answers)

    def read(self, crops: list[np.ndarray]) -> list:
        from alpr_lib.recognition.reader import LineReading

        out = []
        for _crop in crops:
            text, confidence = self.answers.pop(0) if self.answers else ("", 0.0)
            out.append(LineReading(text, confidence, tuple(0.99 for _ in text), ()))
        return out


def test_a_plate_both_readers_agree_on_beats_large_lettering_the_reader_doubts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(pipeline, "_quick_look", lambda *_a: (None, []))  # no quick look: steps 1-6 alone
    lettering = [box(100, 100, 300, 80, "PENSKE", 0.99), box(200, 300, 120, 40, "1049338", 0.9)]
    engine = FakeEngine(lambda _img: lettering)
    assert read_plates(IMAGE, engine)[0].plate == "PENSKE"  # the general recognizer alone: size wins
    engine.reader = _Readers(("", 0.9), ("1049338", 0.99))  # type: ignore[attr-defined]
    assert read_plates(IMAGE, engine)[0].plate == "1049338"
    engine.reader = _Readers(("", 0.9), ("1049388", 0.99))  # type: ignore[attr-defined]  # they disagree
    assert read_plates(IMAGE, engine)[0].plate == "PENSKE"


def test_rendered_plates_are_labelled_where_they_are() -> None:
    from alpr_lib.recognition.synthplates import damage, render_plate

    rng = np.random.default_rng(3)
    for _ in range(20):
        plate = render_plate(rng)
        assert 2 <= len(plate.text) <= 8 and plate.text.isalnum() and plate.text == plate.text.upper()
        image, (x, y, w, h) = damage(plate.image, plate.box, rng)
        assert 0 <= x and 0 <= y and x + w <= image.shape[1] + 1 and y + h <= image.shape[0] + 1
        assert 12 * 0.8 <= h <= 60 * 1.3  # shrunk to street-camera sizes


@pytest.mark.slow
def test_the_shipped_plate_reader_reads_real_crops_it_was_not_trained_on() -> None:
    """The reader on the fifth of the openalpr crops held out of its training (train.py's split)."""
    import csv

    import cv2

    from alpr_lib.recognition.reader import PlateReader
    from alpr_lib.recognition.train import HOLDOUT_EVERY

    truth = DATASET / "seg_and_ocr" / "groundtruth.csv"
    if not truth.exists():
        pytest.fail(f"the openalpr benchmark data is missing at {truth.parent}")
    with truth.open(newline="") as fh:
        rows = [r for i, r in enumerate(sorted(csv.reader(fh))) if i % HOLDOUT_EVERY == 0]
    reader = PlateReader()
    crops = [cv2.imread(str(truth.parent / "usimages" / name)) for name, _s, _p in rows]
    read = reader.read(crops)
    exact = sum(r.text == plate for r, (_n, _s, plate) in zip(read, rows, strict=True)) / len(rows)
    # The shipped reader reads 90.1% of these crops (alpr_lib/recognition/models/plate_reader.json); a little
    # under it so that a worse model fails the build.
    assert exact >= 0.88, f"{exact:.1%} of {len(rows)} held-out crops read exactly"


@pytest.mark.slow
def test_the_real_engine_reads_the_state_on_real_plates(tmp_path: Path) -> None:
    """The pipeline on real plate crops (every other one of the fifth held out of the reader's training) reads
    the state their lettering names for most, and rightly: a wrong state is worse than none."""
    import csv

    from alpr_lib.recognition.evaluate import evaluate_crops
    from alpr_lib.recognition.ocr import default_engine
    from alpr_lib.recognition.train import HOLDOUT_EVERY

    truth = DATASET / "seg_and_ocr" / "groundtruth.csv"
    if not truth.exists():
        pytest.fail(f"the openalpr benchmark data is missing at {truth.parent}")
    with truth.open(newline="") as fh:
        rows = [r for i, r in enumerate(sorted(csv.reader(fh))) if i % (2 * HOLDOUT_EVERY) == 0]
    subset = tmp_path / "truth.csv"
    with subset.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    result = evaluate_crops(truth.parent / "usimages", subset, default_engine())
    # The pipeline reads a state on 84% of these 76 crops, all of them right (83% of all 151 held out;
    # ACCURACY.md, "The state"); the plate's format alone guesses a state for 42% of them, rightly for 3%.
    assert result["state_read"] >= 0.7, json.dumps(result)
    assert result["state_read_right"] >= 0.97, json.dumps(result)


def _scaling_engine(width: int, plate_from: int = 0, at: tuple[int, int] = (800, 500)) -> FakeEngine:
    """A fake engine over an image ``width`` pixels wide whose plate (180 x 50 at ``at`` there) is found only
    in an image at least ``plate_from`` pixels wide; it records the widths it was shown."""

    def boxes(img: np.ndarray) -> list[TextBox]:
        engine.widths.append(img.shape[1])  # type: ignore[attr-defined]
        s = img.shape[1] / width
        found = [box(100 * s, 80 * s, 300 * s, 60 * s, "OPEN", 0.95)]  # a word, not a plate
        if img.shape[1] >= plate_from:
            found.append(box(at[0] * s, at[1] * s, 180 * s, 50 * s, "7ABC123", 0.9))
        return found

    engine = FakeEngine(boxes)
    engine.widths = []  # type: ignore[attr-defined]
    return engine


class _PlateSizedReader:
    """A plate reader that reads regions narrower than 250 px (the plate) as 7ABC123, others as nothing."""

    def __init__(self, confidence: float, text: str = "7ABC123") -> None:
        self.confidence, self.text = confidence, text

    def read(self, crops: list[np.ndarray]) -> list:
        from alpr_lib.recognition.reader import LineReading

        def one(crop: np.ndarray) -> LineReading:
            if crop.shape[1] < 250:
                return LineReading(self.text, self.confidence, (0.99,) * 7, (("7A8C123", 0.01),))
            return LineReading("", 0.99, (), ())

        return [one(c) for c in crops]


def test_a_quick_look_answers_when_the_reader_is_very_sure() -> None:
    from alpr_lib.recognition.pipeline import QUICK_SIDE

    image = np.zeros((1080, 1920, 3), dtype=np.uint8)
    sure = _scaling_engine(1920)
    sure.reader = _PlateSizedReader(0.97)  # type: ignore[attr-defined]
    (best,) = read_plates(image, sure)
    assert best.plate == "7ABC123" and sure.widths == [QUICK_SIDE]  # type: ignore[attr-defined]  # one look
    x, y, w, h = best.bbox
    assert abs(x - 800) <= 2 and abs(y - 500) <= 2 and abs(w - 180) <= 2 and abs(h - 50) <= 2  # its pixels
    assert best.char_confidence == (0.99,) * 7 and [t for t, _p in best.alternatives] == ["7A8C123"]
    lookalike = _scaling_engine(1920)  # a reading that fits a state's format once look-alikes are resolved
    lookalike.reader = _PlateSizedReader(0.97, "7ABCI23")  # type: ignore[attr-defined]
    (best,) = read_plates(image, lookalike)
    assert best.plate == "7ABCI23" and "7ABC123" in [t for t, _p in best.alternatives]
    doubtful = _scaling_engine(1920)
    doubtful.reader = _PlateSizedReader(0.7)  # type: ignore[attr-defined]  # sure enough to overrule only
    assert read_plates(image, doubtful)[0].plate == "7ABC123"
    assert doubtful.widths == [QUICK_SIDE, 1920]  # type: ignore[attr-defined]  # then steps 1-6, full size
    alone = _scaling_engine(1920)  # without the plate reader: no quick look
    assert read_plates(image, alone)[0].plate == "7ABC123" and alone.widths == [1920]  # type: ignore[attr-defined]
    small = _scaling_engine(640, at=(300, 200))  # a small image is looked at in its own size
    small.reader = _PlateSizedReader(0.97)  # type: ignore[attr-defined]
    assert read_plates(IMAGE, small)[0].plate == "7ABC123" and small.widths == [640]  # type: ignore[attr-defined]


def test_the_state_is_read_from_the_plates_lettering() -> None:
    """The state the plate's lettering names leads the reading's states, before the states whose format fits
    its number; lettering away from the plate (a sign, another vehicle) is not the plate's."""
    plate = box(220, 140, 180, 50, "7ABC123", 0.95)
    engine = FakeEngine(
        lambda _img: [
            box(240, 100, 140, 20, "Oregon", 0.99),  # above the plate's number
            plate,
            box(250, 200, 120, 14, "Pacific Wonderland", 0.9),  # no state's word
            box(500, 20, 120, 30, "NEVADA", 0.99),  # a sign, away from the plate
        ]
    )
    best = read_plates(IMAGE, engine)[0]
    assert best.plate == "7ABC123" and best.state == "OR" and best.states == ("OR", "CA")
    unnamed = FakeEngine(lambda _img: [plate, box(500, 20, 120, 30, "NEVADA", 0.99)])
    best = read_plates(IMAGE, unnamed)[0]
    assert best.state == "" and best.states == ("CA",)  # the format's guess alone

    # Where the look that read the plate found the lettering's lines without reading them (the quick look),
    # the general recognizer reads them; the nearest lines vote.
    image = np.zeros((1080, 1920, 3), dtype=np.uint8)
    lines = [
        box(800, 500, 180, 50, ""),  # the plate's number
        box(820, 460, 140, 22, ""),  # its lettering
        box(1000, 505, 30, 30, ""),  # a sticker: too short for a state's word
        box(1500, 100, 200, 40, ""),  # away from the plate
    ]
    read: list[tuple[int, int]] = []

    def line(crop: np.ndarray) -> tuple[str, float]:
        read.append(crop.shape[:2])
        return ("IDAHO", 0.9) if crop.shape[1] < 200 else ("UTAH", 0.9)

    quick = FakeEngine(lambda img: [_scaled(b, img.shape[1] / 1920) for b in lines], line)
    quick.reader = _PlateSizedReader(0.97)  # type: ignore[attr-defined]
    (best,) = read_plates(image, quick)
    assert best.plate == "7ABC123" and best.state == "ID" and best.states[0] == "ID"
    assert len(read) == 1  # the lettering above the plate only: not the plate, the sticker or the far line


def _scaled(b: TextBox, s: float) -> TextBox:
    return TextBox(tuple((x * s, y * s) for x, y in b.points), b.text, b.score)


def test_an_image_without_a_plate_like_text_is_searched_again_enlarged() -> None:
    from alpr_lib.recognition.pipeline import LOOK_CLOSER

    image = np.zeros((480, 640, 3), dtype=np.uint8)
    engine = _scaling_engine(640, plate_from=700, at=(300, 200))
    engine.reader = _PlateSizedReader(0.97)  # type: ignore[attr-defined]
    (best,) = read_plates(image, engine)
    enlarged = round(640 * LOOK_CLOSER)
    assert best.plate == "7ABC123" and engine.widths == [640, 640, enlarged]  # type: ignore[attr-defined]
    assert abs(best.bbox[0] - 300) <= 2 and abs(best.bbox[1] - 200) <= 2  # in the image's own pixels
    alone = _scaling_engine(640, plate_from=700, at=(300, 200))  # the general recognizer alone: one search
    assert read_plates(image, alone) == [] and alone.widths == [640]  # type: ignore[attr-defined]


def test_evaluation_can_take_one_fold_of_the_images(tmp_path: Path, run) -> None:
    import cv2

    for name in "abcde":
        cv2.imwrite(str(tmp_path / f"{name}.jpg"), IMAGE)
        (tmp_path / f"{name}.txt").write_text(f"{name}.jpg\t100\t100\t200\t60\t7ABC123\n")
    seen: list[int] = []
    engine = FakeEngine(lambda img: seen.append(1) or [box(100, 100, 200, 60, "7ABC123")])
    assert evaluate_folder(tmp_path, engine, fold=0).images == 3  # halves by default: a, c, e
    assert evaluate_folder(tmp_path, engine, fold=1).images == 2 and len(seen) == 5
    assert evaluate_folder(tmp_path, engine, fold=1, folds=4).images == 1  # quarters: b
    assert evaluate_folder(tmp_path, engine, fold=0, folds=4).images == 2  # a, e
    refused = run("evaluate", str(tmp_path), "--fold", "4", "--folds", "4", ok=False)
    assert refused.exit_code == 2 and "a fold from 0 to 3" in refused.output


def test_the_plate_detector_marks_plates_in_cells_and_drops_specks() -> None:
    from alpr_lib.recognition.detect import MULTIPLE, SIDE, STRIDE, prepare_image, regions_from_heat

    x, scale = prepare_image(np.full((530, 1000, 3), 255, dtype=np.uint8))
    assert scale == SIDE / 1000 and x.shape[0] == 3 and x.shape[2] == SIDE
    assert x.shape[1] % MULTIPLE == 0 and x.shape[1] >= round(530 * scale)  # padded below, not stretched
    assert x[:, :339].max() == 1.0 and x[:, 339:].max() == -1.0  # white image, black padding, in [-1, 1]
    heat = np.zeros((40, 60), dtype=np.float32)
    heat[10:14, 20:32] = 0.8  # a plate: 12 x 4 cells
    heat[11, 25] = 0.97
    heat[30, 50] = 0.99  # one hot cell: a speck, not a plate
    heat[30:32, 5:7] = 0.3  # below the threshold
    (found,) = regions_from_heat(heat, 0.5)
    assert found.score == pytest.approx(0.97)
    assert found.bbox == pytest.approx(
        (20 * STRIDE / 0.5, 10 * STRIDE / 0.5, 12 * STRIDE / 0.5, 4 * STRIDE / 0.5)
    )


class _Detector:
    """A plate detector that finds one plate at a given box (x, y, w, h in the image's pixels)."""

    def __init__(self, *boxes: tuple[float, float, float, float]) -> None:
        self.boxes = boxes

    def find(self, image: np.ndarray, *, limit: int = 4) -> list:
        from alpr_lib.recognition.detect import PlateRegion

        return [PlateRegion(b, 0.99) for b in self.boxes][:limit]


def _focusing_engine(plate: tuple[float, float, float, float], *, seen_whole: bool = True) -> FakeEngine:
    """A fake engine over a 1920 x 1080 photo whose plate's text (at ``plate``) is found in the plate's
    surroundings enlarged (as the focused look enlarges them), and nothing in other parts; the whole photo
    shows a word and the plate (only the word when not ``seen_whole``). It records the image sizes it was
    shown."""
    from alpr_lib.recognition.pipeline import FOCUS_MARGINS, FOCUS_WIDTH

    x, y, w, h = plate
    x0, y0 = int(x - FOCUS_MARGINS[0] * w), int(y - FOCUS_MARGINS[1] * h)
    area_height = int(y + h + FOCUS_MARGINS[1] * h) - y0

    def boxes(img: np.ndarray) -> list[TextBox]:
        engine.shapes.append(img.shape[:2])  # type: ignore[attr-defined]
        if img.shape[1] <= FOCUS_WIDTH:  # a part of the photo, enlarged: the plate's (white) or another
            if not img.any():
                return []
            s = img.shape[0] / area_height
            return [box((x - x0) * s, (y - y0) * s, w * s, h * s, "7ABC123", 0.9)]
        s = img.shape[1] / 1920
        return [
            box(100 * s, 80 * s, 300 * s, 60 * s, "OPEN", 0.95),
            *([box(x * s, y * s, w * s, h * s, "7ABC123")] if seen_whole else []),
        ]

    engine = FakeEngine(boxes)
    engine.shapes = []  # type: ignore[attr-defined]
    return engine


def test_a_focused_look_reads_the_plates_the_plate_detector_finds() -> None:
    from alpr_lib.recognition.pipeline import FOCUS_HEIGHT, FOCUS_MARGINS, FOCUS_WIDTH, QUICK_SIDE

    image = np.zeros((1080, 1920, 3), dtype=np.uint8)
    image[500:550, 800:980] = 255  # the plate
    plate = (800.0, 500.0, 180.0, 50.0)
    sure = _focusing_engine(plate)
    sure.reader, sure.detector = _PlateSizedReader(0.97), _Detector(plate)  # type: ignore[attr-defined]
    (best,) = read_plates(image, sure)
    assert best.plate == "7ABC123" and len(sure.shapes) == 1  # type: ignore[attr-defined]  # one look
    area = (180 * (1 + 2 * FOCUS_MARGINS[0]), 50 * (1 + 2 * FOCUS_MARGINS[1]))  # the plate and its margins
    scale = min(FOCUS_HEIGHT / area[1], FOCUS_WIDTH / area[0])
    assert sure.shapes[0] == (round(area[1] * scale), round(area[0] * scale))  # type: ignore[attr-defined]
    x, y, w, h = best.bbox
    assert abs(x - 800) <= 2 and abs(y - 500) <= 2 and abs(w - 180) <= 2 and abs(h - 50) <= 2  # its pixels
    assert best.char_confidence == (0.99,) * 7 and [t for t, _p in best.alternatives] == ["7A8C123"]
    elsewhere = _focusing_engine(plate)  # the detector takes a sign for a plate: the quick look follows
    elsewhere.reader = _PlateSizedReader(0.97)  # type: ignore[attr-defined]
    elsewhere.detector = _Detector((100.0, 80.0, 300.0, 60.0))  # type: ignore[attr-defined]
    assert read_plates(image, elsewhere)[0].plate == "7ABC123"
    assert [s[1] for s in elsewhere.shapes] == [FOCUS_WIDTH, QUICK_SIDE]  # type: ignore[attr-defined]
    nothing = _focusing_engine(plate)  # no plate found: the quick look, as without a detector
    nothing.reader, nothing.detector = _PlateSizedReader(0.97), _Detector()  # type: ignore[attr-defined]
    assert read_plates(image, nothing)[0].plate == "7ABC123"
    assert [s[1] for s in nothing.shapes] == [QUICK_SIDE]  # type: ignore[attr-defined]
    doubtful = _focusing_engine(plate)  # the reader is not very sure: the quick look, then steps 1-6
    doubtful.reader, doubtful.detector = _PlateSizedReader(0.7), _Detector(plate)  # type: ignore[attr-defined]
    assert read_plates(image, doubtful)[0].plate == "7ABC123"
    assert [s[1] for s in doubtful.shapes][1:] == [QUICK_SIDE, 1920]  # type: ignore[attr-defined]


def test_a_plate_the_reader_doubts_is_answered_rather_than_none() -> None:
    """Only the focused look sees the plate (faint at the photo's size) and the reader doubts it: its reading
    is the answer, with the reader's low confidence — without the detector there is none."""
    image = np.zeros((1080, 1920, 3), dtype=np.uint8)
    image[500:550, 800:980] = 255
    plate = (800.0, 500.0, 180.0, 50.0)
    faint = _focusing_engine(plate, seen_whole=False)
    faint.reader, faint.detector = _PlateSizedReader(0.7), _Detector(plate)  # type: ignore[attr-defined]
    (best,) = read_plates(image, faint)
    assert best.plate == "7ABC123" and best.confidence == 0.7
    assert abs(best.bbox[0] - 800) <= 2 and abs(best.bbox[2] - 180) <= 2
    unaided = _focusing_engine(plate, seen_whole=False)
    unaided.reader = _PlateSizedReader(0.7)  # type: ignore[attr-defined]
    assert read_plates(image, unaided) == []


class _ShadeReader:
    """A plate reader that reads a region by its shade: white (the plate) as 7ABC123, 70% sure; grey (another
    vehicle's number) as 8XYZ987, 99% sure; anything else as nothing."""

    def read(self, crops: list[np.ndarray]) -> list:
        from alpr_lib.recognition.reader import LineReading

        def one(crop: np.ndarray) -> LineReading:
            shade = float(np.median(crop))
            if shade > 200:
                return LineReading("7ABC123", 0.7, (0.95,) * 7, ())
            if shade > 100:
                return LineReading("8XYZ987", 0.99, (0.99,) * 7, ())
            return LineReading("", 0.99, (), ())

        return [one(c) for c in crops]


def test_text_away_from_every_plate_found_does_not_beat_the_plate_the_reader_doubts() -> None:
    """The reader doubts the plate the detector found; the quick look then reads another vehicle's number,
    surely, where the detector found no plate: the plate's doubtful reading is the answer."""
    image = np.zeros((1080, 1920, 3), dtype=np.uint8)
    image[500:550, 800:980] = 255  # the plate
    image[80:140, 100:400] = 128  # another vehicle's number (the fake engine's "OPEN" region)
    plate = (800.0, 500.0, 180.0, 50.0)
    engine = _focusing_engine(plate)
    engine.reader, engine.detector = _ShadeReader(), _Detector(plate)  # type: ignore[attr-defined]
    (best,) = read_plates(image, engine)
    assert best.plate == "7ABC123" and best.confidence == 0.7
    assert abs(best.bbox[0] - 800) <= 2 and abs(best.bbox[1] - 500) <= 2
    elsewhere = _focusing_engine(plate)  # the detector's "plate" is the number: believed, as before
    elsewhere.reader = _ShadeReader()  # type: ignore[attr-defined]
    elsewhere.detector = _Detector((100.0, 80.0, 300.0, 60.0))  # type: ignore[attr-defined]
    assert read_plates(image, elsewhere)[0].plate == "8XYZ987"
    unaided = _focusing_engine(plate)  # without a detector nothing says where the plate is
    unaided.reader = _ShadeReader()  # type: ignore[attr-defined]
    assert read_plates(image, unaided)[0].plate == "8XYZ987"


def test_a_plate_whose_text_no_look_finds_is_read_whole() -> None:
    """The text detector finds no text anywhere (a faint, low plate): the reader reads the detector's
    likeliest plate whole, with its own confidence; a reading that is not plate-like is no answer."""
    image = np.zeros((1080, 1920, 3), dtype=np.uint8)
    image[500:550, 800:980] = 255
    plate = (800.0, 500.0, 180.0, 50.0)
    blind = FakeEngine(lambda img: [])
    blind.reader, blind.detector = _PlateSizedReader(0.5), _Detector(plate)  # type: ignore[attr-defined]
    (best,) = read_plates(image, blind)
    assert best.plate == "7ABC123" and best.confidence == 0.5 and best.bbox == (800, 500, 180, 50)
    word = FakeEngine(lambda img: [])
    word.reader, word.detector = _PlateSizedReader(0.5, "OPEN"), _Detector(plate)  # type: ignore[attr-defined]
    assert read_plates(image, word) == []
    undetected = FakeEngine(lambda img: [])
    undetected.reader, undetected.detector = _PlateSizedReader(0.5), _Detector()  # type: ignore[attr-defined]
    assert read_plates(image, undetected) == []


@pytest.mark.slow
def test_the_shipped_plate_detector_finds_real_plates() -> None:
    import cv2

    from alpr_lib.recognition.detect import PlateDetector

    folder = DATASET / "endtoend" / "us"
    photos = [(p, b) for p, b, _t in labelled_images(folder)] if folder.is_dir() else []
    if not photos:
        pytest.fail(
            f"the openalpr benchmark data is missing at {folder} (see shared/datasets/openalpr/README.md)"
        )
    detector = PlateDetector()
    first = sum(
        bool(found) and iou(found[0].bbox, truth) > 0.4
        for found, truth in ((detector.find(cv2.imread(str(p))), b) for p, b in photos)
    )
    # The shipped detector trained on these photos and puts 108 of the 111 plates first; on photos it had not
    # seen, detectors trained on half the photos did so for 93-95% (ACCURACY.md).
    assert first / len(photos) >= 0.95, f"{first} of {len(photos)} plates found first"
