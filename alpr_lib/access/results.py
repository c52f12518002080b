"""What the door returns, and small helpers its operations share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any

import polars as pl

from .. import validate
from ..errors import InvalidInput
from ..store import queries as q

__all__ = [
    "RESULT_TYPES",
    "AuditReport",
    "CanvassResult",
    "CommonPlatesResult",
    "ConvoyResult",
    "CropResult",
    "ExportResult",
    "PlatesResult",
    "ReleaseResult",
    "Result",
    "TimelineResult",
]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Result:
    """What a data operation returns: its rows as a polars DataFrame and the audit entry that records it.

    ``truncated`` says the rows were capped at the session's result limit; ``past_retention`` how many reads
    the operation left out because they are older than the retention period and no hold keeps them (they
    are never served, whether or not the purge has destroyed them yet). Operations that return more
    than rows return a subclass naming what else they hold (:class:`CanvassResult` has ``plates`` and
    ``scenes``, :class:`TimelineResult` its ``places`` ...); :attr:`extra` lists those by name.
    """

    frame: pl.DataFrame
    audit_id: int
    operation: str
    truncated: bool = False
    past_retention: int = 0
    #: A paged search (a partial pattern): how many rows there are in all, which page this is, and how
    #: many rows a page holds.
    total: int | None = None
    page: int | None = None
    page_size: int | None = None

    @property
    def count(self) -> int:
        return self.frame.height

    @property
    def extra(self) -> dict[str, Any]:
        """The result's further frames and figures, by name (its fields beyond the rows)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in _BASE}

    @property
    def first(self) -> int:
        """The position (from 1) of this page's first row among all of them (1 for an unpaged result)."""
        return 1 if self.page is None else (self.page - 1) * (self.page_size or 0) + 1

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of data commands: ``audit_id``, ``count``, ``truncated``, ``rows`` (and, paged,
        ``total`` and ``page``)."""
        paged = (
            {}
            if self.total is None
            else {"total": self.total, "page": self.page, "page_size": self.page_size}
        )
        return {
            "audit_id": self.audit_id,
            "operation": self.operation,
            "count": self.count,
            "truncated": self.truncated,
            "past_retention": self.past_retention,
            **paged,
            "rows": beyond_9999_as_text(self.frame).to_dicts(),
        }

    def summary(self, next_hint: str = "page={page}") -> str:
        """What a client says of the rows: how many, of how many in all, capped, past retention.
        ``next_hint`` tells how to ask for the next page (``--page {page}`` on the command line; empty
        where a button does)."""
        if self.total is None:
            note = f"{self.count:,} rows{' (capped: narrow the search)' if self.truncated else ''}"
        else:
            note = page_note(self.first, self.count, self.total, self.page or 1, self.truncated, next_hint)
        if self.past_retention:
            note += f" · {retention_note(self.past_retention)}"
        return note

    def _repr_html_(self) -> str:
        return f"{self.frame._repr_html_()}<p>{self.summary()} · audit entry {self.audit_id}</p>"


_BASE = frozenset(
    ("frame", "audit_id", "operation", "truncated", "past_retention", "total", "page", "page_size")
)


def page_note(first: int, count: int, total: int, page: int, more: bool, next_hint: str) -> str:
    """The words every client shows for a page of a paged search."""
    if page == 1 and not more:  # everything on one page: said as an unpaged result says it
        return f"{count:,} rows"
    if not count:
        return f"page {page} is past the last of {total:,} rows"
    span = f"rows {first:,}-{first + count - 1:,} of {total:,}"
    if not more:
        return span + f" (page {page}, the last)"
    hint = next_hint.format(page=page + 1)
    return span + (f" (page {page}; {hint} for the next)" if hint else f" (page {page})")


def retention_note(count: int) -> str:
    """The words every client shows for reads left out by retention."""
    return f"{count:,} read{'' if count == 1 else 's'} past retention not shown"


def _frame() -> Any:
    return field(default_factory=pl.DataFrame)


@dataclass(frozen=True)
class PlatesResult(Result):
    """A partial or fuzzy search: the reads, and ``plates`` — each matching plate with how many of the
    returned reads are its own and when it was last seen (fuzzy: with its distance, closest first).
    ``pattern``: the regular expression a partial pattern became."""

    plates: pl.DataFrame = _frame()
    pattern: str | None = None


@dataclass(frozen=True)
class CanvassResult(Result):
    """A canvass: the reads near each scene (``scene``, ``distance_m``); ``plates``: per-plate counts
    across the scenes; ``scenes``: per-scene summaries (reads, plates, cameras)."""

    plates: pl.DataFrame = _frame()
    scenes: pl.DataFrame = _frame()


@dataclass(frozen=True)
class CommonPlatesResult(Result):
    """Plates seen near several scenes (the frame, most scenes first); ``reads``: those plates' reads at
    the scenes; ``scenes``: per-scene summaries."""

    reads: pl.DataFrame = _frame()
    scenes: pl.DataFrame = _frame()


@dataclass(frozen=True)
class TimelineResult(Result):
    """One plate's sightings in time order; where it dwells (``places``), the local ``hours`` it is seen,
    the ``path`` between sightings and a ``summary``."""

    places: pl.DataFrame = _frame()
    hours: pl.DataFrame = _frame()
    path: pl.DataFrame = _frame()
    summary: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ConvoyResult(Result):
    """Companion plates, most sightings together first; ``together``: the top companions' reads beside
    the target's."""

    together: pl.DataFrame = _frame()


@dataclass(frozen=True)
class CropResult(Result):
    """One read (the frame) and its saved plate crop as JPEG bytes, or None."""

    crop: bytes | None = None


@dataclass(frozen=True)
class ReleaseResult(Result):
    """The reads released, the ``package`` written and its manifest's SHA-256 as recorded. Between the door
    service and its client, ``files`` and ``folders`` carry the package itself."""

    package: str = ""
    manifest_sha256: str = ""
    files: dict[str, bytes] = field(default_factory=dict)
    folders: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExportResult(Result):
    """The reads a search found (the frame) as an export file's bytes (``data``, in ``format``: csv,
    geojson or kml), recorded as copy ``copy_id`` of the case's data."""

    data: bytes = b""
    format: str = ""
    copy_id: int = 0


@dataclass(frozen=True)
class AuditReport(Result):
    """Audit entries (the frame) and the misuse ``flags`` judged on them; ``checkpoint``: the chain's head
    before the report's own entry (a filed report is a checkpoint kept outside the database)."""

    flags: pl.DataFrame = _frame()
    checkpoint: Any = None
    #: When the last purge ran and finished, and whether one is overdue (``purge_overdue``).
    last_purge: dict[str, Any] = field(default_factory=dict)
    #: The members in the entries, as 807.2(a) authorizes them: name, role, title, agency, contractor.
    members: pl.DataFrame = _frame()


#: Every kind of result an operation returns (the door's client receives exactly these).
RESULT_TYPES: tuple[type[Result], ...] = (
    Result, PlatesResult, CanvassResult, CommonPlatesResult, TimelineResult, ConvoyResult, CropResult,
    ReleaseResult, ExportResult, AuditReport,
)  # fmt: skip


def beyond_9999_as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with any time column holding a year past 9999 (a read stored before times were checked at
    import) given as text: Python's datetime stops at 9999, and such a row must still be shown."""
    late = [
        c
        for c, kind in frame.schema.items()
        if isinstance(kind, pl.Datetime) and frame.height and (frame[c].dt.year().max() or 0) > 9999  # type: ignore[operator]
    ]
    return frame.with_columns(pl.col(c).cast(pl.String) for c in late) if late else frame


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when else None


def _window(since: dt.datetime | None, until: dt.datetime | None) -> tuple[int | None, int | None]:
    since, until = validate.window(since, until)
    since_ms, until_ms = q.to_ms(since), q.to_ms(until)
    if since_ms is not None and until_ms is not None and until_ms <= since_ms:
        raise InvalidInput("the end of the time window must be after its start")
    return since_ms, until_ms
