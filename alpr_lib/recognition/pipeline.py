"""Finding and reading plates in a whole image.

1. The OCR engine finds every text box in the image.
2. Candidates: single boxes, and neighbouring boxes on one line of similar height joined (plates are
   often split by a dash, a sticker or a state emblem), kept when they hold 2-8 letters and digits.
3. Each candidate is scored: the engine's confidence, its height (plate text is large), a mix of
   letters and digits, and whether a state's plate format fits — after resolving look-alike characters
   by position (a format that expects a digit turns an ``O`` into ``0``).
4. Without the plate reader, the best regions are read again from an enlarged crop, which the general
   recognizer reads better.
5. The best reading wins; the others are its alternatives, among them the readings that fit a state's
   format once look-alikes are resolved by position.
6. With the default engine (``plate``), the plate reader trained for this project reads the best candidate's
   region too, and overrules the general recognizer when it is sure (:data:`READER_SURE`); when it is not,
   it reads the next regions, and one it reads as the general recognizer did, surely, wins.
7. With the plate reader, a quick look comes first: the text detector alone at :data:`QUICK_SIDE` pixels, the
   reader reading every region it finds; a plate-like reading the reader is very sure of is the answer
   (:func:`_quick_look`). Only when there is none do steps 1-6 run, at the image's own size; an image in
   which no text looks like a plate is then searched once more enlarged (:data:`LOOK_CLOSER`).
8. With the plate detector too (``detect.py``), a focused look comes before the quick look: the plate detector
   finds the plates in the whole image, the text detector looks at each of the likeliest enlarged, and the
   reader reads the text lines it finds there; a plate-like reading it is very sure of is the answer
   (:func:`_focused_look`). When it is less sure, steps 7 and 1-6 follow. The focused look's doubtful reading,
   with its low confidence, is the answer when they find no plate at all, or when what they read lies away
   from every plate the plate detector found (a sign, another vehicle's number): the detector knows where
   plates are better than the text detector does. When no look finds any text on the likeliest plate, the
   reader reads it whole (:func:`_whole_plate`).
9. Last, the state: the general recognizer reads the text lines around the plate's number that the look
   which read it found, and a state's name or slogan among them is the reading's state (:func:`_with_state`).
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from ..plates import PLATE_FORMATS, guess_states, is_valid_plate, state_named
from .ocr import Engine, TextBox
from .reader import plate_crop

__all__ = ["PlateReading", "read_plates", "resolve_by_format"]

_NOT_PLATE = re.compile(r"[^A-Z0-9]")
_CAMERA_DATE = re.compile(r"(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])")
_TO_DIGIT = str.maketrans("OQDILZSGB", "001112568")
_TO_LETTER = str.maketrans("0125683", "OIZSGBB")


@dataclass(frozen=True)
class PlateReading:
    """One plate found in an image."""

    plate: str
    confidence: float
    bbox: tuple[int, int, int, int]  # x, y, w, h in pixels
    states: tuple[str, ...] = ()
    alternatives: tuple[tuple[str, float], ...] = field(default_factory=tuple)
    char_confidence: tuple[float, ...] = ()  # one per character, where the engine gives them
    state: str = ""  # the state the plate's lettering names (its name, a slogan), where it was read


def clean(text: str) -> str:
    return _NOT_PLATE.sub("", text.upper())


def resolve_by_format(plate: str) -> list[tuple[str, str]]:
    """Readings of ``plate`` that fit a state's format once look-alikes are resolved by position:
    ``[(plate, state), ...]`` (the plate itself first when it already fits)."""
    out: list[tuple[str, str]] = []
    for fmt in PLATE_FORMATS:
        if fmt.matches(plate):
            out.append((plate, fmt.state))
            continue
        if len(fmt.template) != len(plate):
            continue
        fixed = "".join(
            ch.translate(_TO_DIGIT) if kind == "9" else ch.translate(_TO_LETTER)
            for ch, kind in zip(plate, fmt.template, strict=True)
        )
        if fmt.matches(fixed):
            out.append((fixed, fmt.state))
    return out


def _format_bonus(text: str) -> float:
    """A plate that fits a state's format as read scores higher than one that fits only once
    look-alike characters are resolved, which scores higher than one that fits none."""
    if any(fmt.matches(text) for fmt in PLATE_FORMATS):
        return 0.15
    return 0.05 if resolve_by_format(text) else 0.0


@dataclass
class _Candidate:
    text: str
    score: float
    bbox: tuple[float, float, float, float]


def _regions(boxes: list[TextBox]) -> list[_Candidate]:
    """Every text box, and each pair of neighbours on one line of similar height joined (a plate split by a
    dash, a sticker or an emblem), with their text and the lower of their scores."""
    found = [_Candidate(clean(b.text), b.score, b.bbox) for b in boxes]
    ordered = sorted(boxes, key=lambda b: b.bbox[0])
    for i, a in enumerate(ordered):
        ax, ay, aw, ah = a.bbox
        for b in ordered[i + 1 : i + 3]:
            bx, by, bw, bh = b.bbox
            same_line = abs((ay + ah / 2) - (by + bh / 2)) < 0.5 * max(ah, bh)
            similar = 0.6 < (ah / bh if bh else 0) < 1.6
            close = 0 <= bx - (ax + aw) < 1.5 * max(ah, bh)
            if same_line and similar and close:
                x, y = min(ax, bx), min(ay, by)
                box = (x, y, max(ax + aw, bx + bw) - x, max(ay + ah, by + bh) - y)
                found.append(_Candidate(clean(a.text) + clean(b.text), min(a.score, b.score), box))
    return found


def _candidates(boxes: list[TextBox]) -> list[_Candidate]:
    found = _regions(boxes)
    tallest = max((b.bbox[3] for b in boxes), default=1.0) or 1.0
    kept = []
    for c in found:
        score = _plate_score(c.text, c.score, c.bbox[3] / tallest)
        if score is not None:
            kept.append(_Candidate(c.text, score, c.bbox))
    return sorted(kept, key=lambda c: -c.score)


def _plate_score(text: str, confidence: float, height: float) -> float | None:
    """How plate-like a reading is (None: not a plate at all). ``height`` is the region's height as a part of
    the tallest text's in the image: plate text is large."""
    digits = sum(ch.isdigit() for ch in text)
    if not is_valid_plate(text) or len(text) < 4 or (digits == 0 and len(text) < 6):
        return None  # short words ("STOP", "FORD") are not plates; vanity plates are longer
    if _CAMERA_DATE.fullmatch(text):
        return None  # a camera's date stamp (2014-05-09 read as 20140509), not a plate
    mixed = 0 < digits < len(text)
    score = confidence * (0.6 + 0.4 * height)
    score += 0.15 if mixed else -0.2
    score += 0.1 if len(text) >= 5 else 0.0
    return score + _format_bonus(text)


def _crop(image: np.ndarray, bbox: tuple[float, float, float, float], pad: float = 0.15) -> np.ndarray:
    x, y, w, h = bbox
    px, py = w * pad, h * pad * 2
    x0, y0 = max(int(x - px), 0), max(int(y - py), 0)
    x1, y1 = min(int(x + w + px), image.shape[1]), min(int(y + h + py), image.shape[0])
    crop = image[y0:y1, x0:x1]
    if crop.size == 0:
        return crop
    import cv2

    scale = 64 / max(crop.shape[0], 1)
    if scale > 1:
        crop = cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
    return crop


def read_plates(
    image: np.ndarray, engine: Engine, *, reread: int = 3, alternatives: int = 5
) -> list[PlateReading]:
    """The plates in a BGR image, best first (usually one).

    ``reread``: how many of the best regions the general recognizer reads again from an enlarged crop, for an
    engine without the plate reader (with it, the reader reads them instead)."""
    reader = getattr(engine, "reader", None)
    looks = reader is not None and hasattr(engine, "detect")  # the plate reader's own looks (steps 7, 8)
    detector = getattr(engine, "detector", None) if looks else None
    plates = detector.find(image, limit=FOCUS_PLATES) if detector is not None else []
    doubtful = None  # the focused look's most plate-like reading, when the reader doubts it
    focused: list[TextBox] = []
    if plates:
        sure, doubtful, focused = _focused_look(image, engine, reader, plates)
        if sure is not None:
            return [_with_state(image, engine, sure, focused)]
    found, seen = _quick_look(image, engine, reader) if looks else (None, [])
    if found is None:
        seen = engine.detect_and_read(image)
        found = _read_boxes(image, engine, seen, reread, alternatives)
    if found is None and reader is not None:
        scale = min(LOOK_CLOSER, _LOOK_CLOSER_MAX_SIDE / max(image.shape[:2]))
        if scale > 1.05:
            seen = _scaled_boxes(image, engine.detect_and_read, scale)
            found = _read_boxes(image, engine, seen, reread, alternatives)
    if found is not None and doubtful is not None and not _on_a_plate(found.bbox, plates):
        found, seen = doubtful, focused  # the fall-backs read text away from every plate the detector found
    if found is None and plates:
        # a plate the reader doubts, with its low confidence, rather than none; failing that, the likeliest
        # plate read whole (its text lines were not found)
        found, seen = doubtful or _whole_plate(image, reader, plates[0].bbox), focused
    return [_with_state(image, engine, found, seen)] if found else []


#: Where the plate's lettering (its state's name, a slogan) is looked for around the text line read as the
#: plate: text lines whose centre lies within these parts of the line's width to either side, and of its
#: height above and below it; the nearest few are read (ACCURACY.md, "The state").
LETTERING_AROUND = (0.5, 2.0, 2.5)
LETTERING_LINES = 3
_LETTERING_MIN_HEIGHT = 5  # pixels: a line smaller than this is not legible
# A line the look found unread is read (~27 ms a line) only when it can be a plate's word: no taller than
# this part of the plate's number, and at least this many times as wide as it is high (four letters or more).
# Reading 2, 3 or 4 such lines named the same states on the held-out crops and the US photos (ACCURACY.md).
_LETTERING_MAX_HEIGHT = 0.9
_LETTERING_MIN_ASPECT = 2.0


def _with_state(image: np.ndarray, engine: Any, found: PlateReading, boxes: list[TextBox]) -> PlateReading:
    """The reading with the state its plate's lettering names: the text lines around the plate's (among
    ``boxes``, those the look that read the plate found) are read by the general recognizer, where the look
    did not read them already, and each that names a state (:func:`~alpr_lib.plates.state_named`) votes for
    it, a surer name more. That state leads the reading's ``states``; without one, the reading is as it
    was."""
    x, y, w, h = found.bbox
    side, above, below = LETTERING_AROUND
    lines = []
    for box in boxes:
        bx, by, bw, bh = box.bbox
        mx, my = bx + bw / 2, by + bh / 2
        if x <= mx <= x + w and y <= my <= y + h:
            continue  # the plate's own text
        near = x - side * w <= mx <= x + (1 + side) * w and y - above * h <= my <= y + (1 + below) * h
        legible = (
            _LETTERING_MIN_HEIGHT <= bh <= _LETTERING_MAX_HEIGHT * h and bw >= _LETTERING_MIN_ASPECT * bh
        )
        if near and (box.text or legible):
            lines.append(((mx - x - w / 2) ** 2 + (my - y - h / 2) ** 2, box))
    nearest = [box for _distance, box in sorted(lines, key=lambda pair: pair[0])[:LETTERING_LINES]]
    texts = [box.text for box in nearest if box.text]
    crops = [plate_crop(image, box.bbox, (0.05, 0.15)) for box in nearest if not box.text]
    crops = [crop for crop in crops if crop.size]
    # Lines the look found without reading them, one by one: read in one batch, padded to the widest, the
    # recognizer named the state on 2 fewer of the 111 US photos (and saved ~3 ms a photo).
    texts += [engine.read_line(crop)[0] for crop in crops]
    votes: Counter[str] = Counter()
    for text in texts:
        named = state_named(text)
        if named is not None:
            votes[named[0]] += named[1]
    if not votes:
        return found
    state = votes.most_common(1)[0][0]
    return replace(found, state=state, states=(state, *(s for s in found.states if s != state)))


def _on_a_plate(bbox: tuple[float, float, float, float], plates: list[Any]) -> bool:
    """Whether the centre of a region lies on one of the plates the plate detector found."""
    cx, cy = bbox[0] + bbox[2] / 2, bbox[1] + bbox[3] / 2
    return any(x <= cx <= x + w and y <= cy <= y + h for x, y, w, h in (p.bbox for p in plates))


def _whole_plate(
    image: np.ndarray, reader: Any, bbox: tuple[float, float, float, float]
) -> PlateReading | None:
    """The plate reader's reading of a plate the plate detector found, read whole (no margin), when it is
    plate-like; else None."""
    crop = plate_crop(image, bbox, (0.0, 0.0))
    if not crop.size:
        return None
    (read,) = reader.read([crop])
    if _plate_score(read.text, read.confidence, 1.0) is None:  # also refuses fewer than 4 characters
        return None
    return _as_reading(read, bbox)


#: The quick look (the module's step 7): the longer side, in pixels, at which the text detector searches a
#: larger image, and how sure the plate reader must be of a region's reading for it to be the answer.
#: Chosen with the photo-trained readers on the halves of the photos they did not see (ACCURACY.md): the
#: quick look takes the median time per US photo from 310-370 ms to 140-195 ms (benchmarks/RESULTS.md) and
#: read one plate fewer of 111.
QUICK_SIDE = 960
QUICK_SURE = 0.9


def _quick_look(image: np.ndarray, engine: Any, reader: Any) -> tuple[PlateReading | None, list[TextBox]]:
    """The plate reader alone on the regions the text detector finds at :data:`QUICK_SIDE` pixels (no general
    recognizer): the most plate-like reading it is at least :data:`QUICK_SURE` sure of, or None; and the
    regions."""
    boxes = _scaled_boxes(image, engine.detect, min(1.0, QUICK_SIDE / max(image.shape[:2])))
    return _surest_plate(image, reader, boxes)[0], boxes


#: The focused look (the module's step 8): how many of the plate detector's likeliest plates are looked at,
#: the margin around each (parts of its width and height: the detector's box can fall short of the plate's
#: edges), and the height in pixels each is enlarged (or shrunk) to before the text detector looks at it —
#: no wider than FOCUS_WIDTH (a long EU plate would otherwise be searched at 1000 px and more). Chosen on the
#: halves of the photos the detectors and readers did not see (ACCURACY.md).
FOCUS_PLATES = 2
FOCUS_MARGINS = (0.3, 0.5)
FOCUS_HEIGHT = 240
FOCUS_WIDTH = 640


def _focused_look(
    image: np.ndarray, engine: Any, reader: Any, plates: list[Any]
) -> tuple[PlateReading | None, PlateReading | None, list[TextBox]]:
    """The plate reader on the text lines the text detector finds in the plates the plate detector finds,
    each enlarged to :data:`FOCUS_HEIGHT` pixels high (:data:`FOCUS_WIDTH` wide at most): the most plate-like
    reading it is at least :data:`QUICK_SURE` sure of, and the most plate-like one it is less sure of (each
    None when there is none); and the text lines."""
    boxes: list[TextBox] = []
    for found in plates:
        x, y, w, h = found.bbox
        mx, my = FOCUS_MARGINS[0] * w, FOCUS_MARGINS[1] * h
        x0, y0 = max(int(x - mx), 0), max(int(y - my), 0)
        x1, y1 = min(int(x + w + mx), image.shape[1]), min(int(y + h + my), image.shape[0])
        if y1 - y0 < 4 or x1 - x0 < 4:
            continue
        area = image[y0:y1, x0:x1]
        scale = min(FOCUS_HEIGHT / area.shape[0], FOCUS_WIDTH / area.shape[1])
        for b in _scaled_boxes(area, engine.detect, scale):
            boxes.append(TextBox(tuple((px + x0, py + y0) for px, py in b.points), b.text, b.score))
    return (*_surest_plate(image, reader, boxes), boxes)


def _surest_plate(
    image: np.ndarray, reader: Any, boxes: list[TextBox]
) -> tuple[PlateReading | None, PlateReading | None]:
    """The plate reader on the text boxes (and joined neighbours): the most plate-like reading of five
    characters or more it is at least :data:`QUICK_SURE` sure of, and the most plate-like it is less sure of
    (each None when there is none)."""
    regions = [(r.bbox, plate_crop(image, r.bbox, PHOTO_MARGINS)) for r in _regions(boxes)]
    regions = [(bbox, crop) for bbox, crop in regions if crop.size]
    if not regions:
        return None, None
    tallest = max(bbox[3] for bbox, _crop in regions)
    best: dict[bool, tuple[float, Any, tuple[float, float, float, float]]] = {}
    for (bbox, _crop), read in zip(regions, reader.read([crop for _b, crop in regions]), strict=True):
        score = _plate_score(read.text, read.confidence, bbox[3] / tallest)
        if len(read.text) >= 5 and score is not None:
            is_sure = read.confidence >= QUICK_SURE
            if is_sure not in best or score > best[is_sure][0]:
                best[is_sure] = (score, read, bbox)
    sure, doubtful = (_as_reading(*best[s][1:]) if s in best else None for s in (True, False))
    return sure, doubtful


def _as_reading(read: Any, bbox: tuple[float, float, float, float]) -> PlateReading:
    """The plate reader's reading of a region as the pipeline's answer."""
    x, y, w, h = bbox
    # The reader's look-alike readings, then readings that fit a state's format once look-alikes are resolved
    # by position (as the full pipeline offers them).
    alternatives = dict(read.alternatives)
    for fixed, _state in resolve_by_format(read.text):
        if fixed != read.text:
            alternatives.setdefault(fixed, round(read.confidence * 0.9, 4))
    return PlateReading(
        read.text,
        round(min(read.confidence, 1.0), 3),
        (int(x), int(y), int(w), int(h)),
        tuple(guess_states(read.text)),
        tuple(sorted(alternatives.items(), key=lambda kv: -kv[1])),
        read.char_confidence,
    )


#: When no text in an image looks like a plate, the text detector looks again at the image enlarged this
#: much: it misses some small or faint plates at the camera's resolution and finds them enlarged
#: (ACCURACY.md). Only such images pay for the second look. Replacing a doubtful reading with the second
#: look's lost as many plates as it won, so a found plate is kept.
LOOK_CLOSER = 1.5
_LOOK_CLOSER_MAX_SIDE = 2400


def _scaled_boxes(
    image: np.ndarray, find: Callable[[np.ndarray], list[TextBox]], scale: float
) -> list[TextBox]:
    """The text boxes ``find`` (an engine's ``detect`` or ``detect_and_read``) finds in the image resized by
    ``scale``, in the image's own pixels."""
    if scale == 1.0:
        return find(image)
    import cv2

    interpolation = cv2.INTER_CUBIC if scale > 1 else cv2.INTER_AREA
    resized = cv2.resize(image, None, fx=scale, fy=scale, interpolation=interpolation)
    return [
        TextBox(tuple((x / scale, y / scale) for x, y in b.points), b.text, b.score) for b in find(resized)
    ]


def _read_boxes(
    image: np.ndarray, engine: Engine, boxes: list[TextBox], reread: int, alternatives: int
) -> PlateReading | None:
    """The plate among the text boxes found (steps 2-6), or None when no text looks like a plate."""
    candidates = _candidates(boxes)
    if not candidates:
        return None
    pool: dict[str, tuple[float, tuple[float, float, float, float]]] = {}

    def offer(text: str, score: float, bbox: tuple[float, float, float, float]) -> None:
        if is_valid_plate(text) and (text not in pool or pool[text][0] < score):
            pool[text] = (score, bbox)

    reader = getattr(engine, "reader", None)
    for c in candidates[:8]:
        offer(c.text, c.score, c.bbox)
    for c in candidates[: 0 if reader is not None else reread]:
        crop = _crop(image, c.bbox)
        if crop.size:
            text, score = engine.read_line(crop)
            text = clean(text)
            if is_valid_plate(text) and len(text) >= 4:
                offer(text, score + 0.05 + _format_bonus(text), c.bbox)
    for text, (score, bbox) in list(pool.items()):
        for fixed, _state in resolve_by_format(text):
            if fixed != text:
                # Offered as an alternative, just below the reading itself: letting the format win
                # outright lowered exact top-1 on the US photos from 69% to 64% (plates of states
                # whose formats we do not hold were forced into ones we do).
                offer(fixed, score - 0.01, bbox)
    chars: tuple[float, ...] = ()
    if reader is not None:
        chars = _consult_reader(image, reader, candidates[0], pool, offer)
        if not chars:
            chars = _second_opinion(image, reader, candidates[1:4], pool)
    ranked = sorted(pool.items(), key=lambda kv: -kv[1][0])
    best, (score, bbox) = ranked[0]
    alts = tuple((t, round(s, 3)) for t, (s, _b) in ranked[1 : 1 + alternatives])
    x, y, w, h = bbox
    return PlateReading(
        best,
        round(max(0.0, min(score, 1.0)), 3),
        (int(x), int(y), int(w), int(h)),
        tuple(guess_states(best)),
        alts,
        chars if chars and len(chars) == len(best) else (),
    )


#: The margin around a photo's best region when the plate reader reads it (parts of its width and height).
#: Half the training framing's (``reader.MARGIN_X``, ``MARGIN_Y``): on whole photos the detector's box is
#: looser than on the tight crops the reader learned from, often the whole plate. Measured: US photos 76.6% ->
#: 78.4% exact, EU 72.2% -> 75.0% (ACCURACY.md; the reader reads the true plate boxes at 49% with the
#: training margins and 80% with none).
PHOTO_MARGINS = (0.04, 0.1)

#: How sure the plate reader must be of the best region's reading to overrule the general recognizer. Chosen
#: with the photo-trained readers on the halves of the photos they did not see, US and EU together: 0.5: 192,
#: 0.6: 193, 0.7: 190, 0.8: 185 of 219 plates read exactly (ACCURACY.md).
READER_SURE = 0.6


def _consult_reader(
    image: np.ndarray,
    reader: Any,
    top: _Candidate,
    pool: dict[str, tuple[float, tuple[float, float, float, float]]],
    offer: Any,
) -> tuple[float, ...]:
    """Read the best candidate's region with the plate reader trained for this project. A sure reading wins
    outright (it knows plates: no O in a digit's place, no state name in the text); an unsure one, and the
    reader's look-alike readings, become alternatives. Returns the winning reading's character confidences."""
    crop = plate_crop(image, top.bbox, PHOTO_MARGINS)
    if not crop.size:
        return ()
    (read,) = reader.read([crop])
    if not (is_valid_plate(read.text) and len(read.text) >= 4):
        return ()
    best = max(score for score, _b in pool.values())
    if read.confidence >= READER_SURE:
        pool[read.text] = (best + 0.01, top.bbox)
        for text, p in read.alternatives:
            offer(text, best * p / max(read.confidence, 1e-6), top.bbox)
        return tuple(read.char_confidence)
    offer(read.text, best - 0.02, top.bbox)
    return ()


#: How sure the plate reader must be to pick a region other than the best one (see :func:`_second_opinion`).
READER_AGREES = 0.95


def _second_opinion(
    image: np.ndarray,
    reader: Any,
    others: list[_Candidate],
    pool: dict[str, tuple[float, tuple[float, float, float, float]]],
) -> tuple[float, ...]:
    """When the plate reader is not sure of the best region, the next regions are read too: one that both the
    general recognizer and the reader read alike — the reader at least :data:`READER_AGREES` sure, five
    characters or more with a digit among them — is the plate (a lettering such as a fleet's name had won on
    its size). Two recognizers agreeing on a plate-like text is rarer than one being misled. Returns the
    winning reading's character confidences, or nothing when no region qualifies."""
    pairs = [(c, plate_crop(image, c.bbox, PHOTO_MARGINS)) for c in others]
    pairs = [(c, crop) for c, crop in pairs if crop.size]
    if not pairs:
        return ()
    best = max(score for score, _b in pool.values())
    for (candidate, _crop), read in zip(pairs, reader.read([crop for _c, crop in pairs]), strict=True):
        digits = sum(ch.isdigit() for ch in read.text)
        plate_like = is_valid_plate(read.text) and len(read.text) >= 5 and digits > 0
        if read.text == candidate.text and read.confidence >= READER_AGREES and plate_like:
            pool[read.text] = (best + 0.01, candidate.bbox)
            return tuple(read.char_confidence)
    return ()
