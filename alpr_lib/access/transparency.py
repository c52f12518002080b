"""The public transparency report: aggregate numbers only — never a plate, a member's name or a case.

The department posts it (policy: the ALPR policy and procedures are public; Oregon SB 1516: regular
public audits). It is a static HTML page with no script.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from ..store import schema as s
from .purpose import PURPOSES
from .roles import DATA_OPERATIONS

__all__ = ["POLICY_SUMMARY", "transparency_figures", "transparency_html"]

POLICY_SUMMARY = " ".join(
    (
        "Automated license plate reader (ALPR) data is confidential and used only for official law-",
        "enforcement purposes: patrol, criminal investigations, canvassing plates around a crime",
        "scene, and entering partial plates from major crimes to identify suspect vehicles. Only",
        "trained and authorized department members use the system, and every access is recorded by",
        "name, date and time with a legitimate purpose tied to a specific investigation or",
        "department action. A hit is verified through the state system before any enforcement.",
        "Images and reads are destroyed after the retention period unless saved for official use.",
        "Data is shared only with other law-enforcement or prosecutorial agencies.",
    )
)


def transparency_figures(conn: Connection, since: dt.datetime, until: dt.datetime) -> dict[str, Any]:
    """The report's numbers for ``[since, until)``."""
    lo, hi = int(since.timestamp() * 1000), int(until.timestamp() * 1000)
    r, a, d, e = (
        s.Read.__table__.c,
        s.Alert.__table__.c,
        s.DestructionRecord.__table__.c,
        s.AuditEntry.__table__.c,
    )
    scalar = lambda q: int(conn.execute(q).scalar_one() or 0)  # noqa: E731
    destroyed = conn.execute(
        sa.select(sa.func.sum(d.reads_destroyed), sa.func.sum(d.images_destroyed)).where(
            d.ran_at >= since, d.ran_at < until
        )
    ).one()
    held_now = scalar(sa.select(sa.func.count()).select_from(s.Read.__table__).where(r.ts >= lo, r.ts < hi))
    searches = dict(
        conn.execute(
            sa.select(e.purpose, sa.func.count())
            .where(e.ts >= since, e.ts < until, e.operation.in_(list(DATA_OPERATIONS)), e.outcome == "ok")
            .group_by(e.purpose)
        ).all()
    )
    return {
        "since": since.date().isoformat(),
        "until": until.date().isoformat(),
        # In operation during the period: its first read came before the period's end.
        "cameras": scalar(
            sa.select(sa.func.count())
            .select_from(s.Camera.__table__)
            .where(s.Camera.first_read_ts.is_not(None), s.Camera.first_read_ts < hi)
        ),
        "reads_in_period_still_held": held_now,
        "reads_destroyed": int(destroyed[0] or 0),
        "images_destroyed": int(destroyed[1] or 0),
        "hotlist_hits": scalar(sa.select(sa.func.count()).where(a.read_ts >= lo, a.read_ts < hi)),
        "hits_confirmed": scalar(
            sa.select(sa.func.count()).where(a.read_ts >= lo, a.read_ts < hi, a.status == "confirmed")
        ),
        "hits_cleared": scalar(
            sa.select(sa.func.count()).where(a.read_ts >= lo, a.read_ts < hi, a.status == "cleared")
        ),
        "searches_by_purpose": {PURPOSES[p].label: n for p, n in searches.items() if p in PURPOSES},
        "refused_attempts": scalar(
            sa.select(sa.func.count()).where(e.ts >= since, e.ts < until, e.outcome == "denied")
        ),
        "audits_performed": scalar(
            sa.select(sa.func.count()).where(
                e.ts >= since,
                e.ts < until,
                e.operation.in_(["audit.verify", "audit.report"]),
                e.outcome == "ok",
            )
        ),
        "releases": scalar(
            sa.select(sa.func.count())
            .select_from(s.Release.__table__)
            .where(s.Release.released_at >= since, s.Release.released_at < until)
        ),
    }


def transparency_html(figures: dict[str, Any], *, retention_days: int, program_title: str) -> str:
    """The public page: the policy, who oversees the program, and the period's numbers."""
    rows = [
        ("Cameras in operation", figures["cameras"]),
        (
            "Reads from the period still held (for cases, or within retention)",
            figures["reads_in_period_still_held"],
        ),
        ("Reads destroyed in the period", figures["reads_destroyed"]),
        ("Image files destroyed in the period", figures["images_destroyed"]),
        ("Retention period (days)", retention_days),
        ("Hotlist hits", figures["hotlist_hits"]),
        ("Hits confirmed through the state system", figures["hits_confirmed"]),
        ("Hits cleared (no match in the state system)", figures["hits_cleared"]),
        ("Attempts refused by the system", figures["refused_attempts"]),
        ("Audits of the access log performed", figures["audits_performed"]),
        ("Data releases to other agencies", figures["releases"]),
    ]
    table = "".join(f"<tr><th>{html.escape(k)}</th><td>{v:,}</td></tr>" for k, v in rows)
    purposes = (
        "".join(
            f"<tr><th>{html.escape(k)}</th><td>{v:,}</td></tr>"
            for k, v in sorted(figures["searches_by_purpose"].items())
        )
        or "<tr><td colspan='2'>No searches in the period.</td></tr>"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ALPR program transparency report</title>
<style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;line-height:1.5}}
th{{text-align:left;font-weight:normal;padding:.2rem 1rem .2rem 0}}td{{text-align:right}}</style></head>
<body>
<h1>Automated license plate readers: transparency report</h1>
<p>Period {html.escape(figures["since"])} to {html.escape(figures["until"])}. Program overseen by the
{html.escape(program_title)}.</p>
<h2>Policy</h2><p>{html.escape(POLICY_SUMMARY)}</p>
<h2>The period in numbers</h2><table>{table}</table>
<h2>Searches by purpose</h2><table>{purposes}</table>
<p>Aggregate figures only: this page names no vehicle, person or case.</p>
</body></html>
"""
