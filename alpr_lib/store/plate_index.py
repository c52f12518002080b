"""The distinct plates held in memory, for pattern and fuzzy search over them.

Pattern search runs over the distinct plates (about 500k at 10M reads), not the reads;
holding them as a polars frame makes any pattern, even one starting with ``*``, a
single vectorised pass of a few milliseconds. The frame is refreshed as plates are
added (new ids only: ids are drawn in the order their transactions commit, so none appears below the
highest held) and reloaded whole when plates were removed (purge bumps the meta key ``plates_epoch``).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Sequence

import numpy as np
import polars as pl
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..analytics.search import PairIndex
from . import schema as s

__all__ = ["CODE_WIDTH", "PLATE_SCHEMA", "PlateIndex", "plate_codes"]

#: Plates added since the pair index was built that are compared the plain way before it is built again.
_PAIRS_SLACK = 50_000

#: Bytes kept per plate in the code matrix (plates are at most 8 characters; a little room to spare).
CODE_WIDTH = 10


def plate_codes(plates: pl.Series) -> np.ndarray:
    """Plates as a fixed-width byte matrix (one row per plate, zero-padded): numpy compares a column of it
    with a character in well under a millisecond for half a million plates."""
    text = plates.cast(pl.String).fill_null("").to_list()
    raw = np.frombuffer(
        "".join(p[:CODE_WIDTH].ljust(CODE_WIDTH, "\0") for p in text).encode("ascii", "replace"),
        dtype=np.uint8,
    )
    return raw.reshape(len(text), CODE_WIDTH).copy()


PLATE_SCHEMA: dict[str, pl.DataType] = {
    "plate_id": pl.Int64(),
    "plate": pl.String(),
    "state": pl.String(),
    "equiv_key": pl.String(),
}

_P, _M = s.Plate.__table__, s.Meta.__table__
_HEAD = sa.select(
    sa.select(sa.func.max(_P.c.id)).scalar_subquery(),
    sa.select(_M.c.value).where(_M.c.key == "plates_epoch").scalar_subquery(),
)
_ROWS = (
    sa.select(_P.c.id, _P.c.plate, _P.c.state, _P.c.equiv_key)
    .where(_P.c.id > sa.bindparam("after"), _P.c.id <= sa.bindparam("upto"))
    .order_by(_P.c.id)
)


class PlateIndex:
    """One store's distinct plates as a frame (columns :data:`PLATE_SCHEMA`), kept current."""

    def __init__(self) -> None:
        self._frame = pl.DataFrame(schema=PLATE_SCHEMA)
        self._max_id = 0
        self._epoch: str | None = None
        self._lock = threading.Lock()
        self._by_key: dict[str, list[tuple[int, str, str, str]]] | None = None
        self._codes = np.zeros((0, CODE_WIDTH), dtype=np.uint8)
        self._keyed_to = 0
        self._ids: np.ndarray | None = None
        self._pairs: PairIndex | None = None

    def frame(self, conn: Connection) -> pl.DataFrame:
        """The distinct plates as of ``conn``'s view of the database."""
        from .queries import cached_rows  # (queries holds plate indexes: imported once, here)

        # Straight through the driver: asked before every canvass's plates are named, twice a scene.
        ((max_id, epoch),) = cached_rows(conn, "plate_index_head", lambda _dialect: _HEAD, {})
        max_id = int(max_id or 0)
        with self._lock:
            if epoch != self._epoch or max_id < self._max_id:
                self._frame, self._max_id, self._epoch = pl.DataFrame(schema=PLATE_SCHEMA), 0, epoch
                self._by_key, self._keyed_to, self._ids, self._pairs = None, 0, None, None
                self._codes = np.zeros((0, CODE_WIDTH), dtype=np.uint8)
            if max_id > self._max_id:
                # Up to the highest id seen a moment ago: on PostgreSQL a plate committed since is taken
                # next time, once. (Ids are drawn in commit order: see store.writes.ensure_plates.)
                rows = conn.execute(_ROWS, {"after": self._max_id, "upto": max_id}).all()
                new = pl.DataFrame(rows, schema=PLATE_SCHEMA, orient="row")
                self._frame = pl.concat([self._frame, new]).rechunk() if self._frame.height else new
                self._codes = np.concatenate([self._codes, plate_codes(new["plate"])])
                self._max_id = max_id
            return self._frame

    def texts(self, conn: Connection, ids: Sequence[int]) -> tuple[pl.Series, pl.Series]:
        """The plate and state of each plate id in ``ids`` (of reads already fetched on ``conn``), in order.

        Looked up in the plates held here (a binary search in the ids, which only grow), not joined to every
        read in the database: a canvass's thousands of reads cost one probe of the plates' key each there.
        The index is brought up to date first, after the reads were fetched, so it holds every plate they
        name."""
        frame = self.frame(conn)
        with self._lock:
            if self._ids is None or len(self._ids) != frame.height:
                self._ids = frame["plate_id"].to_numpy()
            known = self._ids
        wanted = np.asarray(ids, dtype=np.int64)
        pos = np.minimum(np.searchsorted(known, wanted), max(len(known) - 1, 0))
        if len(known) == 0 or not np.array_equal(known[pos], wanted):
            raise LookupError("a read names a plate the plate index does not hold")
        picked = pl.Series(pos, dtype=pl.Int64)
        return frame["plate"].gather(picked), frame["state"].gather(picked)

    def codes(self, conn: Connection) -> tuple[pl.DataFrame, np.ndarray]:
        """The plates frame and, row for row, each plate's characters as bytes (zero-padded)."""
        frame = self.frame(conn)
        with self._lock:
            return frame, self._codes

    def paired(self, conn: Connection) -> tuple[pl.DataFrame, np.ndarray, PairIndex]:
        """:meth:`codes` and the index of their character pairs (built on first use, and again once the
        plates added since are a tenth of those it holds: those are compared the plain way until then)."""
        frame = self.frame(conn)
        with self._lock:
            codes, pairs = self._codes, self._pairs
            if pairs is None or len(codes) - pairs.size > max(_PAIRS_SLACK, pairs.size // 10):
                pairs = self._pairs = PairIndex(codes)
            return frame, codes, pairs

    def by_key(self, conn: Connection) -> dict[str, list[tuple[int, str, str, str]]]:
        """The distinct plates grouped by equivalence key: ``key -> [(plate_id, plate, state, key)]``."""
        frame = self.frame(conn)
        with self._lock:
            if self._by_key is None:
                self._by_key, self._keyed_to = {}, 0
            if self._keyed_to < frame.height:
                index = self._by_key
                for row in frame.slice(self._keyed_to).iter_rows():
                    index.setdefault(row[3], []).append(row)
                self._keyed_to = frame.height
                # Hundreds of thousands of long-lived containers: keep the cyclic garbage collector from
                # walking them on every full collection (which would add tens of ms to random searches).
                gc.freeze()
            return self._by_key
