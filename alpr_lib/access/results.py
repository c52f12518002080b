"""What the door returns, and small helpers its operations share."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from ..errors import InvalidInput
from ..store import queries as q

__all__ = ["Result"]


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass(frozen=True)
class Result:
    """What a data operation returns: its rows as a polars DataFrame and the audit entry that records it.

    ``truncated`` says the rows were capped at the session's result limit; ``extra`` holds
    an operation's further frames or figures (per-plate counts, per-scene summaries ...).
    """

    frame: pl.DataFrame
    audit_id: int
    operation: str
    truncated: bool = False
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return self.frame.height

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of data commands: ``audit_id``, ``count``, ``truncated``, ``rows``."""
        return {
            "audit_id": self.audit_id,
            "operation": self.operation,
            "count": self.count,
            "truncated": self.truncated,
            "rows": self.frame.to_dicts(),
        }

    def _repr_html_(self) -> str:
        note = f"{self.count:,} rows{' (capped: narrow the search)' if self.truncated else ''}"
        return f"{self.frame._repr_html_()}<p>{note} · audit entry {self.audit_id}</p>"


def _iso(when: dt.datetime | None) -> str | None:
    return when.isoformat() if when else None


def _window(since: dt.datetime | None, until: dt.datetime | None) -> tuple[int | None, int | None]:
    for when in (since, until):
        if when is not None and when.tzinfo is None:
            raise InvalidInput("times must carry a time zone (the CLI reads them in the department's zone)")
    since_ms, until_ms = q.to_ms(since), q.to_ms(until)
    if since_ms is not None and until_ms is not None and until_ms <= since_ms:
        raise InvalidInput("the end of the time window must be after its start")
    return since_ms, until_ms
