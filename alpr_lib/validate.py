"""Values checked at the edge: the one place that says what a time, a number, a position, a name or an
image may be.

The command line, the importers, the image intake, the dashboards and the door all check what reaches
them here, so a value the workbench cannot use is refused with one plain sentence where it enters — never
stored to break a later command. Each check returns the clean value or raises
:class:`~alpr_lib.errors.InvalidInput`; messages name the value's kind, never its text when that could be
plate data.

>>> read_time(dt.datetime(2026, 11, 3, 14, tzinfo=dt.UTC))  # doctest: +SKIP
1793714400000
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from pathlib import Path

from .errors import InvalidInput

__all__ = [
    "EARLIEST",
    "MAX_ID",
    "MAX_COUNT",
    "MAX_IMAGE_PIXELS",
    "check_image_size",
    "clamp",
    "count",
    "finite",
    "identifier",
    "latitude",
    "longitude",
    "name",
    "printable",
    "read_time",
    "read_time_ms",
    "window",
]

#: No read, window or report reaches before this: ALPR cameras did not exist earlier.
EARLIEST = dt.datetime(1990, 1, 1, tzinfo=dt.UTC)
#: How far ahead of this machine's clock a read may lie (a camera's clock running fast, a time zone slip).
AHEAD = dt.timedelta(days=1)
#: The largest row id (the columns are 64-bit) and the largest count, limit or number of days (32-bit).
MAX_ID = 2**63 - 1
MAX_COUNT = 2**31 - 1
#: Images larger than this (width × height) are refused before they are decoded: 50 megapixels, twice the
#: largest ALPR camera's frame; a 20000 × 20000 image would take gigabytes to decode.
MAX_IMAGE_PIXELS = 50_000_000


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def latest(now: dt.datetime | None = None) -> dt.datetime:
    """The latest time a read may carry."""
    return (now or _now()) + AHEAD


def read_time(when: dt.datetime, now: dt.datetime | None = None) -> int:
    """A read's time (aware) as epoch milliseconds, within 1990 and a day from now."""
    if when.tzinfo is None:
        raise InvalidInput("a read's time must carry a time zone")
    try:
        in_range = EARLIEST <= when <= latest(now)
    except OverflowError:
        in_range = False
    if not in_range:
        raise InvalidInput("a read's time must lie between 1990 and tomorrow")
    return round(when.timestamp() * 1000)


def read_time_ms(ms: int, now: dt.datetime | None = None) -> int:
    """Epoch milliseconds of a read, within 1990 and a day from now."""
    lo = int(EARLIEST.timestamp() * 1000)
    hi = int(latest(now).timestamp() * 1000)
    if not lo <= ms <= hi:
        raise InvalidInput("a read's time must lie between 1990 and tomorrow")
    return ms


def clamp(when: dt.datetime, now: dt.datetime | None = None) -> dt.datetime:
    """An aware time brought within the times reads can have: 1990 to a day from now."""
    return min(max(when, EARLIEST), latest(now))


def window(
    since: dt.datetime | None, until: dt.datetime | None, now: dt.datetime | None = None
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """A search window clamped to the times reads can have (1990 to a day from now): ``--to 9999-12-31``
    means "to the latest read", ``--from 0001-01-01`` "from the first". A window that ends before 1990 or
    starts after tomorrow holds nothing any read could have, and is refused."""
    for when in (since, until):
        if when is not None and when.tzinfo is None:
            raise InvalidInput("times must carry a time zone (the CLI reads them in the department's zone)")
    hi = latest(now)
    if until is not None and until < EARLIEST:
        raise InvalidInput("the time window ends before 1990, before any read")
    if since is not None and since > hi:
        raise InvalidInput("the time window starts after tomorrow, after any read")
    return (None if since is None else clamp(since, now)), (None if until is None else clamp(until, now))


def finite(value: float, what: str) -> float:
    """A number that is neither NaN nor infinite."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{what} must be a number") from None
    if not math.isfinite(number):
        raise InvalidInput(f"{what} must be a finite number")
    return number


def latitude(value: float) -> float:
    number = finite(value, "latitude")
    if not -90 <= number <= 90:
        raise InvalidInput("latitude must lie between -90 and 90")
    return number


def longitude(value: float) -> float:
    number = finite(value, "longitude")
    if not -180 <= number <= 180:
        raise InvalidInput("longitude must lie between -180 and 180")
    return number


def identifier(value: int, what: str) -> int:
    """A row id: a positive 64-bit integer."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_ID:
        raise InvalidInput(f"{what} must be a whole number from 1 to {MAX_ID}")
    return value


def count(value: int, what: str, *, low: int = 1) -> int:
    """A limit, a count or a number of days: a 32-bit integer no smaller than ``low``."""
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_COUNT:
        raise InvalidInput(f"{what} must be a whole number from {low} to {MAX_COUNT:,}")
    return value


def name(value: str, what: str, *, longest: int = 64) -> str:
    """A name typed by a person (a member, an agency, a camera): printable, not empty, not too long."""
    text = unicodedata.normalize("NFC", str(value)).strip()
    if not text:
        raise InvalidInput(f"{what} must not be empty")
    if len(text) > longest:
        raise InvalidInput(f"{what} must be at most {longest} characters")
    if any(unicodedata.category(ch)[0] == "C" for ch in text):
        raise InvalidInput(f"{what} must not contain control characters")
    return text


_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def printable(text: str | None) -> str:
    """Text as it may be shown on one line of a terminal or page: control characters (terminal escape codes,
    line breaks and carriage returns that would forge another line, bidirectional overrides) made visible as
    ``\\x1b``-style escapes instead of acting; a tab becomes a space."""
    if text is None:
        return ""
    return _CONTROL.sub(lambda m: repr(m.group())[1:-1], str(text).replace("\t", " "))


def check_image_size(path: Path, largest: int = MAX_IMAGE_PIXELS) -> None:
    """Refuse an image larger than ``largest`` pixels from its header, before anything decodes it."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            width, height = image.size
    except (UnidentifiedImageError, OSError, ValueError):
        return  # not an image Pillow knows: the decoder reports it
    except Image.DecompressionBombError:
        raise InvalidInput(f"larger than {largest:,} pixels") from None
    if width * height > largest:
        raise InvalidInput(f"larger than {largest:,} pixels: {width} × {height}")
