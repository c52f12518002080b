"""Plate text: normalisation, OCR-equivalence keys, state plate formats, the words that name a state on its
plates, and how a read keeps its confidence per character.

A *plate* is a normalised string (upper case, letters and digits only) with its
state. Readers confuse some characters with others (``0``/``O``/``D``/``Q``,
``1``/``I``/``L`` ...); the *equivalence key* maps every character of such a class
to one representative so that two readings of the same plate share a key.

>>> normalize(" abc-123 ")
'ABC123'
>>> equivalence_key("B0L7")
'8017'
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = [
    "DEFAULT_EQUIVALENCE_CLASSES",
    "MAX_PLATE_LENGTH",
    "MIN_PLATE_LENGTH",
    "PLATE_FORMATS",
    "EquivalenceClasses",
    "STATE_WORDS",
    "UNSURE_BELOW",
    "PlateFormat",
    "char_percentages",
    "equivalence_key",
    "guess_states",
    "is_valid_plate",
    "normalize",
    "state_named",
    "unsure_characters",
]

MIN_PLATE_LENGTH = 2
MAX_PLATE_LENGTH = 8

# Separators that appear on plates or in vendor exports but are not part of the plate.
_SEPARATORS = str.maketrans("", "", " \t-.·•_")
_PLATE_RE = re.compile(rf"[A-Z0-9]{{{MIN_PLATE_LENGTH},{MAX_PLATE_LENGTH}}}")


def normalize(text: str) -> str:
    """Upper-case ``text`` and drop spaces, dashes, dots and similar separators.

    The result is not checked: use :func:`is_valid_plate` for that.

    >>> normalize("7-abc.123")
    '7ABC123'
    """
    return text.upper().translate(_SEPARATORS)


def is_valid_plate(plate: str) -> bool:
    """True when a *normalised* string looks like plate text: 2-8 letters and digits.

    >>> is_valid_plate("ABC123"), is_valid_plate("N/A"), is_valid_plate("UNKNOWNPLATE")
    (True, False, False)
    """
    return _PLATE_RE.fullmatch(plate) is not None


@dataclass(frozen=True)
class EquivalenceClasses:
    """Groups of characters an OCR engine confuses; the first of each group represents it.

    >>> EquivalenceClasses(("0O",)).key("OO7")
    '007'
    """

    groups: tuple[str, ...] = ("0ODQ", "1IL", "2Z", "5S", "6G", "8B")
    _table: dict[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        seen: set[str] = set()
        table: dict[int, int] = {}
        for group in self.groups:
            if not group:
                raise ValueError("an equivalence class cannot be empty")
            for ch in group:
                if ch in seen:
                    raise ValueError("a character may belong to one equivalence class only")
                seen.add(ch)
                table[ord(ch)] = ord(group[0])
        object.__setattr__(self, "_table", table)

    def key(self, plate: str) -> str:
        """The equivalence key of a normalised plate."""
        return plate.translate(self._table)

    def pairs(self) -> tuple[list[str], list[str]]:
        """Every non-representative character and its representative (for vectorised keys)."""
        sources = [chr(k) for k, v in self._table.items() if k != v]
        return sources, [self.representative(ch) for ch in sources]

    def representative(self, ch: str) -> str:
        """The character that stands for ``ch``'s class (``ch`` itself when it has none)."""
        return chr(self._table.get(ord(ch), ord(ch)))


DEFAULT_EQUIVALENCE_CLASSES = EquivalenceClasses()


def equivalence_key(plate: str, classes: EquivalenceClasses = DEFAULT_EQUIVALENCE_CLASSES) -> str:
    """The OCR-equivalence key of a normalised plate (``0``/``O``/``D``/``Q`` -> ``0`` ...)."""
    return classes.key(plate)


@dataclass(frozen=True)
class PlateFormat:
    """A state's standard passenger plate layout, as a regular expression over normalised text.

    ``template`` is used by the synthetic city to make plates: ``9`` a digit, ``A`` a letter.
    """

    state: str
    name: str
    regex: str
    template: str

    def matches(self, plate: str) -> bool:
        return re.fullmatch(self.regex, plate) is not None


# Standard passenger layouts of Oregon and its neighbours. Vanity and specialty plates
# fall through to the generic check in is_valid_plate().
PLATE_FORMATS: tuple[PlateFormat, ...] = (
    PlateFormat("OR", "Oregon standard", r"[0-9]{3}[A-Z]{3}", "999AAA"),
    PlateFormat("OR", "Oregon standard (newer)", r"[A-Z]{3}[0-9]{3}", "AAA999"),
    PlateFormat("WA", "Washington standard", r"[A-Z]{3}[0-9]{4}", "AAA9999"),
    PlateFormat("CA", "California standard", r"[0-9][A-Z]{3}[0-9]{3}", "9AAA999"),
    PlateFormat("ID", "Idaho county-coded", r"[0-9][A-Z][0-9]{5}", "9A99999"),
    PlateFormat("NV", "Nevada standard", r"[0-9]{3}[A-Z][0-9]{2}", "999A99"),
)


def guess_states(plate: str) -> list[str]:
    """States whose standard layout fits a normalised plate, in :data:`PLATE_FORMATS` order.

    >>> guess_states("7ABC123")
    ['CA']
    """
    states: list[str] = []
    for fmt in PLATE_FORMATS:
        if fmt.matches(plate) and fmt.state not in states:
            states.append(fmt.state)
    return states


#: Words printed on a state's plates that name it: the state's name and slogans only its plates carry, as
#: the general recognizer reads a plate's lettering (``recognition.pipeline`` reads the state from them).
STATE_WORDS: dict[str, tuple[str, ...]] = {
    "AL": ("ALABAMA", "HEART OF DIXIE"),
    "AK": ("ALASKA", "THE LAST FRONTIER"),
    "AZ": ("ARIZONA", "GRAND CANYON STATE"),
    "AR": ("ARKANSAS", "THE NATURAL STATE"),
    "CA": ("CALIFORNIA",),
    "CO": ("COLORADO",),
    "CT": ("CONNECTICUT", "CONSTITUTION STATE"),
    "DE": ("DELAWARE", "THE FIRST STATE"),
    "DC": ("DISTRICT OF COLUMBIA", "WASHINGTON DC", "TAXATION WITHOUT REPRESENTATION"),
    "FL": ("FLORIDA", "SUNSHINE STATE"),
    "GA": ("GEORGIA", "PEACH STATE"),
    "HI": ("HAWAII", "ALOHA STATE"),
    "ID": ("IDAHO", "FAMOUS POTATOES"),
    "IL": ("ILLINOIS", "LAND OF LINCOLN"),
    "IN": ("INDIANA", "CROSSROADS OF AMERICA"),
    "IA": ("IOWA",),
    "KS": ("KANSAS",),
    "KY": ("KENTUCKY",),
    "LA": ("LOUISIANA", "SPORTSMANS PARADISE"),
    "ME": ("MAINE", "VACATIONLAND"),
    "MD": ("MARYLAND",),
    "MA": ("MASSACHUSETTS", "THE SPIRIT OF AMERICA"),
    "MI": ("MICHIGAN", "GREAT LAKES STATE"),
    "MN": ("MINNESOTA",),
    "MS": ("MISSISSIPPI", "MAGNOLIA STATE"),
    "MO": ("MISSOURI", "SHOW ME STATE"),
    "MT": ("MONTANA",),
    "NE": ("NEBRASKA", "CORNHUSKER STATE"),
    "NV": ("NEVADA", "THE SILVER STATE", "BATTLE BORN"),
    "NH": ("NEW HAMPSHIRE", "LIVE FREE OR DIE"),
    "NJ": ("NEW JERSEY", "GARDEN STATE"),
    "NM": ("NEW MEXICO", "LAND OF ENCHANTMENT"),
    "NY": ("NEW YORK", "EMPIRE STATE"),
    "NC": ("NORTH CAROLINA", "FIRST IN FLIGHT", "FIRST IN FREEDOM"),
    "ND": ("NORTH DAKOTA", "PEACE GARDEN STATE", "DISCOVER THE SPIRIT"),
    "OH": ("OHIO", "BIRTHPLACE OF AVIATION"),
    "OK": ("OKLAHOMA", "NATIVE AMERICA"),
    "OR": ("OREGON",),
    "PA": ("PENNSYLVANIA", "KEYSTONE STATE"),
    "RI": ("RHODE ISLAND", "OCEAN STATE"),
    "SC": ("SOUTH CAROLINA",),
    "SD": ("SOUTH DAKOTA", "GREAT FACES GREAT PLACES"),
    "TN": ("TENNESSEE", "VOLUNTEER STATE"),
    "TX": ("TEXAS", "LONE STAR STATE"),
    "UT": ("UTAH", "LIFE ELEVATED"),
    "VT": ("VERMONT", "GREEN MOUNTAIN STATE"),
    "VA": ("VIRGINIA",),
    "WA": ("WASHINGTON", "EVERGREEN STATE"),
    "WV": ("WEST VIRGINIA", "WILD WONDERFUL"),
    "WI": ("WISCONSIN", "AMERICAS DAIRYLAND"),
    "WY": ("WYOMING",),
}
_NOT_LETTER = re.compile("[^A-Z]")
_WORDS = sorted(
    ((_NOT_LETTER.sub("", word), state) for state, words in STATE_WORDS.items() for word in words),
    key=lambda ws: -len(ws[0]),
)


def state_named(text: str) -> tuple[str, int] | None:
    """The state a piece of a plate's lettering names, and how sure: the word's letters less two for each
    letter read wrong, missing or extra (a longer word is surer); None when it names none. Only letters
    count (the recognizer loses spaces and adds stray marks); a word of six to nine letters may be read with
    one such error, a longer one with one in five letters (``rn`` read as ``m`` is two). Where several
    words fit, the surest wins: ``WEST VIRGINIA`` over ``VIRGINIA``, ``ARKANSAS`` over ``KANSAS``,
    ``WASHINGTON`` read exactly over ``WASHINGTON DC`` without its last two letters.

    >>> state_named("Washington, D.C.")
    ('DC', 12)
    >>> state_named("1.COLORAD0")
    ('CO', 6)
    >>> state_named("WASHINGTON")
    ('WA', 10)
    >>> state_named("Califomia")
    ('CA', 6)
    >>> state_named("MONTH") is None
    True
    """
    from rapidfuzz.distance import Levenshtein

    letters = _NOT_LETTER.sub("", text.upper())
    best: tuple[str, int] | None = None
    for word, state in _WORDS:
        if best is not None and len(word) < best[1]:
            break  # the words are longest first: none left can beat the match found
        allowed = len(word) // 5 if len(word) >= 10 else len(word) // 6
        if len(letters) < len(word) - allowed:
            continue
        if word in letters:
            return state, len(word)
        if not allowed:
            continue
        edits = min(
            Levenshtein.distance(word, letters[i : i + size], score_cutoff=allowed)
            for size in range(len(word) - allowed, len(word) + allowed + 1)
            for i in range(max(len(letters) - size + 1, 1))
        )
        if edits <= allowed and (best is None or len(word) - 2 * edits > best[1]):
            best = (state, len(word) - 2 * edits)
    return best


def char_percentages(confidences: Sequence[float]) -> str | None:
    """A read's per-character confidences (0-1) as it stores them: whole percentages separated by spaces;
    None when there are none.

    >>> char_percentages([0.994, 0.41, 0.97])
    '99 41 97'
    """
    return " ".join(str(round(c * 100)) for c in confidences) or None


#: A read's characters the plate reader was less sure of than this (percent) are unsure: the alert verifier
#: marks them, the ones to check first against the crop and in LEDS.
UNSURE_BELOW = 80


def unsure_characters(stored: str | None, plate: str, *, below: int = UNSURE_BELOW) -> list[int]:
    """The positions (0-based) of the characters of ``plate`` the reader was less than ``below`` percent sure
    of, from a read's stored per-character confidences (:func:`char_percentages`); none when it has none or
    they do not fit the plate.

    >>> unsure_characters("99 41 97", "7AB")
    [1]
    """
    values = (stored or "").split()
    if len(values) != len(plate) or not all(v.isdigit() for v in values):
        return []
    return [i for i, v in enumerate(values) if int(v) < below]
