"""Time per photo: the default engine as shipped, beside it without reading the state, without its plate
detector, without its quick look either, and RapidOCR alone.

    python benchmarks/bench_recognition.py [--folder ../shared/datasets/openalpr/endtoend/us] [--reader MODEL]
        [--detector MODEL] [--half K]

The focused look (``pipeline._focused_look``) runs the plate detector on the whole photo and RapidOCR's text
detector on the likeliest plates, enlarged; the quick look (``pipeline._quick_look``) runs the text detector
alone at 960 px on the whole photo; in both the plate reader reads every region. The full pipeline runs the
text detector and the general recognizer at full size. Four ways over the same photos, in this run, with the
same models loaded once:

* focused: the default engine as shipped (focused look, quick look, then the full pipeline, each when the
  one before found no plate the reader is very sure of; then the state read from the plate's lettering);
* stateless: the same without reading the state (what the state costs);
* quick: the same engine without the plate detector (quick look, then the full pipeline);
* full: without the quick look either (the naive baseline: everything at full size);
* rapidocr: RapidOCR alone, without the plate reader (the first pipeline).

Prints the median and 95th-percentile milliseconds per photo and the plates read exactly. The shipped reader
has seen the ``endtoend`` photos in training, so read accuracy from ACCURACY.md's cross-validated figures;
``--reader`` and ``--detector`` measure other models (trained with ``--leave-out``, with ``--half``).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2

from alpr_lib.recognition import pipeline
from alpr_lib.recognition.evaluate import labelled_images
from alpr_lib.recognition.ocr import PlateEngine, RapidOCREngine

DATASET = Path(__file__).resolve().parent.parent.parent / "shared" / "datasets" / "openalpr"
DEFAULT = DATASET / "endtoend" / "us"


def run(  # noqa: ANN001
    photos: list, engine, *, detector: bool, quick: bool, state: bool = True
) -> tuple[float, float, int]:
    saved, saved_detector = pipeline._quick_look, getattr(engine, "detector", None)
    saved_state = pipeline._with_state
    if not quick:
        pipeline._quick_look = lambda *_a: (None, [])  # type: ignore[assignment]
    if not state:
        pipeline._with_state = lambda _image, _engine, found, _boxes: found  # type: ignore[assignment]
    if not detector and saved_detector is not None:
        engine.detector = None
    try:
        times, exact = [], 0
        for path, _box, plate in photos:
            image = cv2.imread(str(path))
            t0 = time.perf_counter()
            found = pipeline.read_plates(image, engine)
            times.append((time.perf_counter() - t0) * 1000)
            exact += bool(found) and found[0].plate == plate
    finally:
        pipeline._quick_look, pipeline._with_state = saved, saved_state
        if saved_detector is not None:
            engine.detector = saved_detector
    ordered = sorted(times)
    return statistics.median(times), ordered[round(0.95 * (len(ordered) - 1))], exact


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--folder", type=Path, default=DEFAULT, help="an openalpr-format folder of photos")
    parser.add_argument("--reader", type=Path, help="another plate reader model than the shipped one")
    parser.add_argument("--detector", type=Path, help="another plate detector model than the shipped one")
    parser.add_argument("--half", type=int, choices=(0, 1), help="every other photo (evaluate --half)")
    args = parser.parse_args()
    photos = labelled_images(args.folder, args.half)
    if not photos:
        raise SystemExit(f"no labelled photos in {args.folder}")
    plate, general = PlateEngine(model=args.reader, detector=args.detector), RapidOCREngine()
    pipeline.read_plates(cv2.imread(str(photos[0][0])), plate)  # load and warm the models once
    print(f"{len(photos)} photos from {args.folder}")
    ways = (
        ("focused", plate, True, True, True),
        ("stateless", plate, True, True, False),
        ("quick", plate, False, True, True),
        ("full", plate, False, False, True),
        ("rapidocr", general, False, False, True),
    )
    for name, engine, detector, quick, state in ways:
        median, p95, exact = run(photos, engine, detector=detector, quick=quick, state=state)
        print(f"{name:>9}: {median:6.1f} ms median, {p95:6.1f} ms p95, {exact}/{len(photos)} read exactly")


if __name__ == "__main__":
    main()
