"""Rendered US-style plates for training the plate reader: random text in the common layouts, fonts found on
the machine, state names and slogans above and below, colour bands, and then the camera's damage (perspective,
blur, low resolution, noise, JPEG). Every plate is synthetic; the text is random."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["RenderedPlate", "damage", "render_plate"]

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
DIGITS = "0123456789"
# Common layouts: L a letter, 9 a digit, space a gap (a dash, a sticker, an emblem) that is not read.
LAYOUTS = (
    "LLL 9999",
    "LLL9999",
    "999 LLL",
    "9LLL999",
    "9LLL 999",
    "LL 99999",
    "LLL 999",
    "999 9999",
    "9 LLL 999",
    "LL9 9999",
    "99 LLL9",
    "LLL 99L",
    "L99 9LL",
    "999999",
    "9LL9999",
    "LL 9999",
    "99L 999",
    "L 99999",
)
STATES = (
    "ALABAMA",
    "ARIZONA",
    "CALIFORNIA",
    "COLORADO",
    "FLORIDA",
    "GEORGIA",
    "IDAHO",
    "ILLINOIS",
    "INDIANA",
    "KANSAS",
    "LOUISIANA",
    "MARYLAND",
    "MICHIGAN",
    "MISSOURI",
    "NEVADA",
    "NEW JERSEY",
    "NEW YORK",
    "OHIO",
    "OREGON",
    "TEXAS",
    "UTAH",
    "VIRGINIA",
    "WASHINGTON",
    "WISCONSIN",
    "Florida",
    "Texas",
    "Virginia",
    "Ohio",
)
SLOGANS = (
    "Sunshine State",
    "Land of Lincoln",
    "The Grand Canyon State",
    "Famous Potatoes",
    "Great Lakes",
    "Live Free or Die",
    "Garden State",
    "Empire State",
    "Lone Star State",
    "Beehive State",
    "dmv.gov",
    "First in Flight",
    "Pacific Wonderland",
    "Evergreen State",
    "Silver State",
    "America's Dairyland",
)
FONT_NAMES = (
    "DejaVuSansCondensed-Bold.ttf",
    "DejaVuSans-Bold.ttf",
    "LiberationSansNarrow-Bold.ttf",
    "LiberationSans-Bold.ttf",
    "DejaVuSansMono-Bold.ttf",
    "LiberationMono-Bold.ttf",
    "DejaVuSerifCondensed-Bold.ttf",
    "LiberationSansNarrow-Regular.ttf",
    "DejaVuSansCondensed.ttf",
)


@functools.cache
def _font_files() -> tuple[Path, ...]:
    found: dict[str, Path] = {}
    for root in (Path("/usr/share/fonts"), Path("/usr/local/share/fonts")):
        if root.exists():
            for f in root.rglob("*.ttf"):
                found.setdefault(f.name, f)
    fonts = tuple(found[n] for n in FONT_NAMES if n in found)
    if not fonts:
        raise RuntimeError(
            "no fonts for rendering plates: apt-get install fonts-dejavu-core fonts-liberation"
        )
    return fonts


@functools.cache
def _font(path: Path, size: int):  # noqa: ANN202 - PIL's font type
    from PIL import ImageFont

    return ImageFont.truetype(str(path), size)


@dataclass
class RenderedPlate:
    image: np.ndarray  # BGR, the plate on a larger background
    text: str  # what the plate reads (no gaps)
    box: tuple[float, float, float, float]  # the main text line (x, y, w, h) in the image


def random_text(rng: np.random.Generator) -> tuple[str, str]:
    """(shown text with gaps, plate text)."""
    if rng.random() < 0.12:  # vanity plates
        n = int(rng.integers(2, 8))
        pool = LETTERS + DIGITS if rng.random() < 0.5 else LETTERS
        shown = "".join(pool[int(rng.integers(len(pool)))] for _ in range(n))
    else:
        layout = LAYOUTS[int(rng.integers(len(LAYOUTS)))]
        shown = "".join(
            LETTERS[int(rng.integers(26))] if c == "L" else DIGITS[int(rng.integers(10))] if c == "9" else c
            for c in layout
        )
    return shown, shown.replace(" ", "")


def render_plate(rng: np.random.Generator) -> RenderedPlate:
    """One rendered plate with its true text and text box."""
    from PIL import Image, ImageDraw

    fonts = _font_files()
    pw, ph = 480, 240
    light = rng.random() < 0.85
    if light:
        bg = tuple(int(v) for v in rng.integers(190, 256, 3))
        ink = tuple(int(v) for v in rng.integers(0, 90, 3))
        if rng.random() < 0.3:
            ink = (
                int(rng.integers(120, 200)),
                int(rng.integers(0, 40)),
                int(rng.integers(0, 60)),
            )  # red/maroon
    else:
        bg = tuple(int(v) for v in rng.integers(0, 80, 3))
        ink = tuple(int(v) for v in rng.integers(200, 256, 3))
    plate = Image.new("RGB", (pw, ph), bg)
    draw = ImageDraw.Draw(plate)
    if rng.random() < 0.5:  # a colour band or gradient at the top or bottom
        band = tuple(int(v) for v in rng.integers(0, 256, 3))
        y0 = 0 if rng.random() < 0.5 else int(ph * 0.8)
        draw.rectangle((0, y0, pw, y0 + int(ph * rng.uniform(0.1, 0.22))), fill=band)
    small = _font(fonts[int(rng.integers(len(fonts)))], int(rng.integers(26, 44)))
    if rng.random() < 0.9:
        state = STATES[int(rng.integers(len(STATES)))]
        draw.text((pw / 2, ph * 0.11), state, font=small, fill=ink, anchor="mm")
    if rng.random() < 0.6:
        slogan = SLOGANS[int(rng.integers(len(SLOGANS)))]
        draw.text((pw / 2, ph * 0.9), slogan, font=small, fill=ink, anchor="mm")
    if rng.random() < 0.4:  # registration stickers in the corners
        for cx in (int(pw * 0.08), int(pw * 0.92)):
            if rng.random() < 0.6:
                col = tuple(int(v) for v in rng.integers(0, 256, 3))
                draw.rectangle((cx - 28, 12, cx + 28, 44), fill=col)

    shown, text = random_text(rng)
    font = _font(fonts[int(rng.integers(len(fonts)))], 120)
    left, top, right, bottom = font.getbbox(shown)
    glyphs = Image.new("L", (right - left + 8, bottom - top + 8), 0)
    ImageDraw.Draw(glyphs).text((4 - left, 4 - top), shown, font=font, fill=255)
    target_h = int(ph * rng.uniform(0.42, 0.6))
    target_w = int(
        min(pw * rng.uniform(0.7, 0.94), glyphs.width * target_h / glyphs.height * rng.uniform(0.7, 1.2))
    )
    glyphs = glyphs.resize((max(target_w, 8), max(target_h, 8)))
    gx = int((pw - glyphs.width) / 2 + rng.uniform(-0.04, 0.04) * pw)
    gy = int((ph - glyphs.height) / 2 + rng.uniform(-0.05, 0.05) * ph)
    plate.paste(Image.new("RGB", glyphs.size, ink), (gx, gy), glyphs)
    if rng.random() < 0.5:  # the plate's rim
        draw.rectangle((2, 2, pw - 3, ph - 3), outline=ink, width=int(rng.integers(2, 7)))

    # The plate on a background of the car around it.
    margin = int(pw * 0.35)
    canvas = rng.integers(0, 256, (ph + 2 * margin, pw + 2 * margin, 3), dtype=np.uint8)
    import cv2

    canvas = cv2.GaussianBlur(canvas, (0, 0), 6)
    canvas = (canvas.astype(np.float32) * rng.uniform(0.3, 1.0)).astype(np.uint8)
    canvas[margin : margin + ph, margin : margin + pw] = np.asarray(plate)[:, :, ::-1]
    box = (float(gx + margin + 4), float(gy + margin + 4), float(glyphs.width - 8), float(glyphs.height - 8))
    return RenderedPlate(canvas, text, box)


def damage(
    image: np.ndarray, box: tuple[float, float, float, float], rng: np.random.Generator
) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """What a camera does to a plate: a small perspective turn, scale to a (often low) resolution, blur,
    noise, JPEG, light. Returns the image and the moved box."""
    import cv2

    h, w = image.shape[:2]
    x, y, bw, bh = box
    corners = np.float32([[x, y], [x + bw, y], [x + bw, y + bh], [x, y + bh]])
    jitter = np.float32(rng.normal(0, 0.04, (4, 2))) * np.float32([bw, bh])
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    shear = rng.uniform(-0.08, 0.08) * bh
    dst = src + np.float32([[shear, 0], [shear, 0], [-shear, 0], [-shear, 0]]) * rng.random()
    dst[:2, 1] += rng.uniform(-0.05, 0.05) * bh
    matrix = cv2.getPerspectiveTransform(
        src, dst + np.float32(rng.normal(0, 0.01, (4, 2))) * np.float32([w, h])
    )
    warped = cv2.warpPerspective(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)
    moved = cv2.perspectiveTransform((corners + jitter * 0.25)[None], matrix)[0]
    x0, y0 = moved.min(axis=0)
    x1, y1 = moved.max(axis=0)
    # Plates in street photos are often 50-150 px wide: shrink the text line to 12-60 px high.
    scale = rng.uniform(12, 60) / max(y1 - y0, 1)
    if scale < 1:
        warped = cv2.resize(warped, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    else:
        scale = 1.0
    if rng.random() < 0.5:
        warped = cv2.GaussianBlur(warped, (0, 0), rng.uniform(0.3, 1.2))
    out = warped.astype(np.float32)
    out = out * rng.uniform(0.5, 1.3) + rng.uniform(-40, 40)
    out += rng.normal(0, rng.uniform(0, 10), out.shape)
    out = np.clip(out, 0, 255).astype(np.uint8)
    if rng.random() < 0.6:
        ok, buf = cv2.imencode(".jpg", out, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(30, 90))])
        if ok:
            out = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    return out, (float(x0 * scale), float(y0 * scale), float((x1 - x0) * scale), float((y1 - y0) * scale))
