"""Matching plates: the partial-plate pattern language and OCR-tolerant (fuzzy) distance.

Patterns
    ``?`` one character, ``*`` any run of characters (also none), ``[AB8]`` one of the
    characters listed. A pattern with any of these matches the *whole* plate; a plain
    string without them means "contains". Spaces, dashes and dots are ignored; letters
    may be given in either case. Patterns match plates exactly as read (no OCR tolerance).

    >>> compile_pattern("7?B*").matches("7XB123"), compile_pattern("B12").matches("AB123")
    (True, True)

Fuzzy
    Two plates are compared on their equivalence keys (``0``/``O``/``D``/``Q``, ``1``/``I``/``L``,
    ``2``/``Z``, ``5``/``S``, ``6``/``G``, ``8``/``B`` are one character): the distance is the
    number of insertions, deletions and substitutions between the keys, so a confusable
    character costs nothing. :func:`explain` says which positions differed.

    >>> explain("7ABC123", "7A8C128").distance
    1
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Levenshtein

from .errors import InvalidPattern
from .plates import DEFAULT_EQUIVALENCE_CLASSES, MAX_PLATE_LENGTH, EquivalenceClasses

__all__ = [
    "KEY_ALPHABET",
    "Explanation",
    "PlatePattern",
    "compile_pattern",
    "explain",
    "key_variants",
    "within",
]

_SKIPPED = frozenset(" -.\t")
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_MAX_PATTERN = 40


def _position(i: int) -> str:
    return f"position {i + 1}"


@dataclass(frozen=True)
class PlatePattern:
    """A compiled partial-plate pattern.

    ``regex`` is the equivalent regular expression (anchored for wildcard patterns);
    ``contains`` says the pattern was a plain string matched anywhere in the plate.
    """

    text: str
    regex: str
    contains: bool
    fixed_length: int | None  # the plate length a pattern without * admits
    anchor: str = ""  # the longest run of known characters: a fast first filter

    def matches(self, plate: str) -> bool:
        return re.search(self.regex, plate) is not None


def compile_pattern(pattern: str) -> PlatePattern:
    """Compile a partial-plate pattern; raise :class:`InvalidPattern` naming the problem."""
    text = pattern.strip().upper()
    if not text:
        raise InvalidPattern(
            "give a pattern: letters and digits with ? (one character), * (any run) or [AB8]"
        )
    if len(text) > _MAX_PATTERN:
        raise InvalidPattern(f"a pattern may have at most {_MAX_PATTERN} characters")
    parts: list[str] = []
    cleaned: list[str] = []
    known = positions = 0
    wildcard = star = False
    i = 0
    while i < len(text):
        ch = text[i]
        if ch in _SKIPPED:
            i += 1
            continue
        if ch in _ALNUM:
            parts.append(ch)
            known += 1
            positions += 1
        elif ch == "?":
            parts.append(".")
            wildcard = True
            positions += 1
        elif ch == "*":
            if not (parts and parts[-1] == ".*"):
                parts.append(".*")
            wildcard = star = True
        elif ch == "[":
            end = text.find("]", i + 1)
            if end < 0:
                raise InvalidPattern(f"the class opened with [ at {_position(i)} is not closed with ]")
            members = text[i + 1 : end]
            if not members:
                raise InvalidPattern(
                    f"the class [] at {_position(i)} is empty: list the characters it may be"
                )
            bad = next((c for c in members if c not in _ALNUM), None)
            if bad is not None:
                raise InvalidPattern(
                    f"a class lists letters and digits only ({bad!r} in the class at {_position(i)})"
                )
            parts.append("[" + "".join(sorted(set(members))) + "]")
            cleaned.append(text[i : end + 1])
            wildcard = True
            known += 1
            positions += 1
            i = end + 1
            continue
        elif ch == "]":
            raise InvalidPattern(f"the ] at {_position(i)} closes no class")
        else:
            raise InvalidPattern(
                f"{ch!r} at {_position(i)} is not part of the pattern language: "
                "use letters, digits, ?, * and [..]"
            )
        cleaned.append(ch)
        i += 1
    if known == 0:
        raise InvalidPattern("the pattern needs at least one known character or [class]")
    if positions > MAX_PLATE_LENGTH:
        raise InvalidPattern(f"the pattern is longer than any plate ({MAX_PLATE_LENGTH} characters)")
    body = "".join(parts)
    runs = re.findall(r"[A-Z0-9]+", re.sub(r"\[[A-Z0-9]+\]", " ", body))
    anchor = max(runs, key=len) if runs else ""
    if not wildcard:
        return PlatePattern("".join(cleaned), body, True, None, body)
    return PlatePattern("".join(cleaned), f"^{body}$", False, None if star else positions, anchor)


#: The characters an equivalence key is made of (each confusable class counts once).
KEY_ALPHABET = "".join(sorted({DEFAULT_EQUIVALENCE_CLASSES.representative(c) for c in _ALNUM}))


def key_variants(key: str, max_edits: int, alphabet: str = KEY_ALPHABET) -> set[str]:
    """Every string within ``max_edits`` insertions, deletions or substitutions of ``key``."""
    found = {key}
    frontier = {key}
    for _ in range(max_edits):
        nxt: set[str] = set()
        for word in frontier:
            for i in range(len(word) + 1):
                head, tail = word[:i], word[i:]
                if tail:
                    nxt.add(head + tail[1:])
                    for c in alphabet:
                        nxt.add(head + c + tail[1:])
                for c in alphabet:
                    nxt.add(head + c + tail)
        nxt -= found
        found |= nxt
        frontier = nxt
    return {w for w in found if 0 < len(w) <= MAX_PLATE_LENGTH + max_edits}


@dataclass(frozen=True)
class Explanation:
    """Why a plate matched a query: edits between their keys, and look-alike characters that cost nothing."""

    distance: int
    confusions: int
    notes: tuple[str, ...]

    @property
    def text(self) -> str:
        return "; ".join(self.notes) if self.notes else "exact"


def explain(query: str, plate: str, classes: EquivalenceClasses = DEFAULT_EQUIVALENCE_CLASSES) -> Explanation:
    """Compare a query with a plate position by position (both normalised)."""
    qk, pk = classes.key(query), classes.key(plate)
    notes: list[str] = []
    confusions = 0
    distance = 0
    for tag, q0, q1, p0, p1 in Levenshtein.opcodes(qk, pk):
        if tag == "equal":
            for k in range(q1 - q0):
                a, b = query[q0 + k], plate[p0 + k]
                if a != b:
                    confusions += 1
                    notes.append(f"{_position(p0 + k)}: {a} read as {b} (look-alike)")
        elif tag == "replace":
            for k in range(q1 - q0):
                distance += 1
                notes.append(f"{_position(p0 + k)}: {query[q0 + k]} vs {plate[p0 + k]}")
        elif tag == "delete":
            for k in range(q0, q1):
                distance += 1
                notes.append(f"{query[k]} (query {_position(k)}) missing")
        else:  # insert
            for k in range(p0, p1):
                distance += 1
                notes.append(f"{_position(k)}: extra {plate[k]}")
    return Explanation(distance, confusions, tuple(notes))


def within(query_key: str, keys: Iterable[str], max_edits: int) -> list[tuple[str, int]]:
    """The keys within ``max_edits`` of ``query_key``, with their distance (a scan over all keys)."""
    from rapidfuzz import process

    return [
        (key, int(score))
        for key, score, _ in process.extract_iter(
            query_key, keys, scorer=Levenshtein.distance, score_cutoff=max_edits
        )
    ]
