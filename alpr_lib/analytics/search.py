"""Plate search over the distinct plates: patterns and OCR-tolerant ranking."""

from __future__ import annotations

import numpy as np
import polars as pl

from ..matching import PlatePattern, explain

__all__ = ["PairIndex", "fuzzy_rank", "match_pattern"]


class PairIndex:
    """Where each pair of adjacent characters occurs among the plates of a code matrix: for each pair, the
    row numbers of the plates that hold it, ascending. A pattern's known run is then looked for only in the
    plates holding its rarest pair — a few thousand of 1.4M at 50M reads — instead of comparing every
    position of every plate (16 ms at 1.4M plates). Rows added to the matrix after the index was built
    (``size``) are compared the plain way."""

    def __init__(self, codes: np.ndarray) -> None:
        n, width = codes.shape
        pairs = (codes[:, :-1].astype(np.uint16) << 8) | codes[:, 1:]
        rows = np.repeat(np.arange(n, dtype=np.int32), width - 1)
        real = (codes[:, 1:] != 0).ravel()  # no pair ending in the padding
        flat, rows = pairs.ravel()[real], rows[real]
        order = np.argsort(flat, kind="stable")  # stable: each pair's rows stay ascending
        self.keys, self.rows, self.size = flat[order], rows[order], n

    def rows_with(self, codes: np.ndarray, anchor: str) -> np.ndarray:
        """Row numbers (ascending) of the plates of ``codes`` containing ``anchor`` (2 characters or more)."""
        wanted = anchor.encode("ascii")
        keys = [(wanted[i] << 8) | wanted[i + 1] for i in range(len(wanted) - 1)]
        # (The bounds in the keys' own type: a Python int would have numpy convert all 12M keys first.)
        spans = [np.searchsorted(self.keys, np.array([k, k + 1], dtype=self.keys.dtype)) for k in keys]
        lo, hi = min(spans, key=lambda span: span[1] - span[0])
        candidates = np.unique(self.rows[lo:hi])
        if len(wanted) > 2:
            candidates = candidates[_contains(codes[candidates], wanted)]
        newer = np.flatnonzero(_contains(codes[self.size :], wanted)) + self.size
        return np.concatenate([candidates, newer]) if len(newer) else candidates


def _contains(codes: np.ndarray, wanted: bytes) -> np.ndarray:
    """Whether each plate (a row of the zero-padded byte matrix) contains ``wanted`` anywhere."""
    width = codes.shape[1]
    found = np.zeros(codes.shape[0], dtype=bool)
    for start in range(width - len(wanted) + 1):
        here = codes[:, start] == wanted[0]
        for j in range(1, len(wanted)):
            here &= codes[:, start + j] == wanted[j]
        found |= here
    return found


def anchor_rows(codes: np.ndarray, anchor: str, pairs: PairIndex | None = None) -> np.ndarray:
    """Row numbers of the plates (a zero-padded byte matrix) that contain ``anchor`` anywhere: by the
    ``pairs`` index when given and the anchor has two characters or more."""
    if pairs is not None and len(anchor) >= 2:
        return pairs.rows_with(codes, anchor)
    return np.flatnonzero(_contains(codes, anchor.encode("ascii")))


def match_pattern(
    plates: pl.DataFrame,
    pattern: PlatePattern,
    state: str | None = None,
    codes: np.ndarray | None = None,
    pairs: PairIndex | None = None,
) -> pl.DataFrame:
    """The rows of ``plates`` whose plate matches ``pattern`` (in ``state`` when given).

    ``codes`` — the plates as a byte matrix, row for row — lets the pattern's longest known run
    narrow the plates in numpy before the regular expression runs on the few that remain; ``pairs``, an
    index of those codes, finds that run without comparing every plate.
    """
    found = plates
    if pattern.anchor and codes is not None and len(pattern.anchor) <= codes.shape[1]:
        found = found[anchor_rows(codes, pattern.anchor, pairs)]
    elif pattern.anchor:
        found = found.filter(pl.col("plate").str.contains(pattern.anchor, literal=True))
    if state:
        found = found.filter(pl.col("state") == state)
    if pattern.fixed_length is not None:
        found = found.filter(pl.col("plate").str.len_chars() == pattern.fixed_length)
    if pattern.contains:
        return found
    return found.filter(pl.col("plate").str.contains(pattern.regex))


def fuzzy_rank(query: str, candidates: pl.DataFrame, max_edits: int) -> pl.DataFrame:
    """Candidates (``plate_id``, ``plate``, ``state``) within ``max_edits`` of ``query``, ranked, each
    with ``distance`` (edits between equivalence keys), ``confusions`` (free look-alikes) and ``why``."""
    rows = []
    names = candidates.columns
    for row in candidates.iter_rows():
        record = dict(zip(names, row, strict=True))
        why = explain(query, record["plate"])
        if why.distance <= max_edits:
            rows.append((why.distance, why.confusions, record["plate"], record["state"], record, why.text))
    rows.sort(key=lambda r: r[:4])
    schema = {**candidates.schema, "distance": pl.Int64, "confusions": pl.Int64, "why": pl.String}
    columns = {name: [r[4][name] for r in rows] for name in names}
    columns |= {
        "distance": [r[0] for r in rows],
        "confusions": [r[1] for r in rows],
        "why": [r[5] for r in rows],
    }
    return pl.DataFrame([pl.Series(name, columns[name], dtype=dtype) for name, dtype in schema.items()])
