"""Plate search over the distinct plates: patterns and OCR-tolerant ranking."""

from __future__ import annotations

import numpy as np
import polars as pl

from ..matching import PlatePattern, explain

__all__ = ["fuzzy_rank", "match_pattern"]


def anchor_rows(codes: np.ndarray, anchor: str) -> np.ndarray:
    """Row numbers of the plates (a zero-padded byte matrix) that contain ``anchor`` anywhere."""
    width = codes.shape[1]
    wanted = anchor.encode("ascii")
    found = np.zeros(codes.shape[0], dtype=bool)
    for start in range(width - len(wanted) + 1):
        here = codes[:, start] == wanted[0]
        for j in range(1, len(wanted)):
            here &= codes[:, start + j] == wanted[j]
        found |= here
    return np.flatnonzero(found)


def match_pattern(
    plates: pl.DataFrame, pattern: PlatePattern, state: str | None = None, codes: np.ndarray | None = None
) -> pl.DataFrame:
    """The rows of ``plates`` whose plate matches ``pattern`` (in ``state`` when given).

    ``codes`` — the plates as a byte matrix, row for row — lets the pattern's longest known run
    narrow the plates in numpy before the regular expression runs on the few that remain.
    """
    found = plates
    if pattern.anchor and codes is not None and len(pattern.anchor) <= codes.shape[1]:
        found = found[anchor_rows(codes, pattern.anchor)]
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
