"""Vehicle descriptions: the words camera systems use for a vehicle, brought to one vocabulary.

Vendors say "Pickup Truck", "pickup-truck" or "Big Truck"; "Gray" or "grey"; a direction of travel as degrees
clockwise from north. The workbench stores one word per colour and body type (:data:`COLORS`,
:data:`BODIES`), makes and models as the source spelled them (compared without regard to case), and the
direction as one of eight compass points, so a search for ``--color grey --body pickup`` finds every camera's
reads alike.

>>> body_type("Pickup Truck"), color_name("Grey"), compass(285.9)
('pickup', 'gray', 'W')
"""

from __future__ import annotations

import math

import polars as pl

__all__ = [
    "BODIES",
    "COLORS",
    "DIRECTIONS",
    "body_type",
    "color_name",
    "compass",
    "direction_name",
    "shown_reads",
]

#: Colours as stored (the common classes of vendors' colour classifiers).
COLORS: tuple[str, ...] = (
    "white", "black", "gray", "silver", "red", "blue", "brown", "beige", "green", "yellow", "orange",
    "gold", "purple", "pink",
)  # fmt: skip
#: Body types as stored.
BODIES: tuple[str, ...] = (
    "sedan", "suv", "pickup", "van", "minivan", "hatchback", "coupe", "wagon", "convertible", "truck", "bus",
    "motorcycle",
)  # fmt: skip
#: Directions of travel as stored: eight compass points.
DIRECTIONS: tuple[str, ...] = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")

_COLOR_WORDS = {
    "grey": "gray", "darkgray": "gray", "darkgrey": "gray", "lightgray": "silver", "lightgrey": "silver",
    "tan": "beige", "cream": "beige", "maroon": "red", "burgundy": "red", "navy": "blue", "darkblue": "blue",
    "lightblue": "blue", "violet": "purple", "bronze": "brown", "golden": "gold",
}  # fmt: skip
_BODY_WORDS = {
    "pickuptruck": "pickup", "pick-up": "pickup", "pickup": "pickup", "truckpickup": "pickup",
    "suvcrossover": "suv", "crossover": "suv", "sportutility": "suv", "sportutilityvehicle": "suv",
    "car": "sedan", "saloon": "sedan", "sedancompact": "sedan", "sedanstandard": "sedan",
    "sedanwagon": "wagon", "estate": "wagon", "stationwagon": "wagon", "vanmini": "minivan",
    "vanfullsize": "van", "cargovan": "van", "minibus": "bus", "bigtruck": "truck", "tractortrailer": "truck",
    "semi": "truck", "boxtruck": "truck", "lighttruck": "pickup", "heavytruck": "truck",
    "motorbike": "motorcycle", "bike": "motorcycle", "cabriolet": "convertible", "hatch": "hatchback",
}  # fmt: skip


def _squash(text: str) -> str:
    return "".join(ch for ch in text.lower() if ch.isalnum() or ch == "-").replace("-", "")


def color_name(text: str | None) -> str:
    """One of :data:`COLORS` for a vendor's colour word; "" when it is none of them (or empty)."""
    word = _squash(text or "")
    word = _COLOR_WORDS.get(word, word)
    return word if word in COLORS else ""


def body_type(text: str | None) -> str:
    """One of :data:`BODIES` for a vendor's body-type words; "" when it is none of them (or empty)."""
    word = _squash(text or "")
    word = _BODY_WORDS.get(word, word)
    return word if word in BODIES else ""


def compass(degrees: float | None) -> str | None:
    """The compass point of a direction of travel in degrees clockwise from north (None when unknown)."""
    if degrees is None or not math.isfinite(degrees):
        return None
    return DIRECTIONS[round((degrees % 360) / 45) % 8]


def direction_name(text: str | None) -> str | None:
    """A direction of travel given as a compass point (``N``, ``north``, ``NB``, ``northbound``) or in
    degrees; None when it is neither."""
    word = (text or "").strip().lower()
    if not word:
        return None
    try:
        return compass(float(word))
    except ValueError:
        pass
    word = word.removesuffix("bound").removesuffix("b") if word not in ("b",) else word
    names = {"north": "N", "south": "S", "east": "E", "west": "W", "northeast": "NE", "northwest": "NW",
             "southeast": "SE", "southwest": "SW"}  # fmt: skip
    word = names.get(word.replace(" ", "").replace("-", ""), word.upper())
    return word if word in DIRECTIONS else None


def shown_reads(frame: pl.DataFrame) -> pl.DataFrame:
    """A frame of reads with the columns people read in a table: ``vehicle`` ("white Ford F-150 pickup,
    N") from its description's parts, and ``reading`` ("other: 8BCD12O 58%" for a read found by another of
    its readings, "" for one found by its plate)."""
    if {"color", "body", "make", "model"} <= set(frame.columns) and "vehicle" not in frame.columns:
        parts = (
            pl.concat_str(
                [pl.col(c).fill_null("") for c in ("color", "make", "model", "body")], separator=" "
            )
            .str.replace_all(r"\s+", " ")
            .str.strip_chars()
        )
        way = pl.col("direction").fill_null("") if "direction" in frame.columns else pl.lit("")
        frame = frame.with_columns(
            vehicle=pl.when(way != "").then(pl.concat_str([parts, way], separator=", ")).otherwise(parts)
        ).with_columns(pl.col("vehicle").str.strip_chars(", "))
    if {"alternative", "alternative_confidence", "reading"} <= set(frame.columns):
        share = (
            (pl.col("alternative_confidence") * 100).round(0).cast(pl.Int64).cast(pl.String).fill_null("?")
        )
        other = pl.concat_str([pl.lit("other: "), pl.col("alternative"), pl.lit(" "), share, pl.lit("%")])
        frame = frame.with_columns(
            reading=pl.when(pl.col("reading") == "alternative").then(other).otherwise(pl.lit(""))
        )
    return frame
