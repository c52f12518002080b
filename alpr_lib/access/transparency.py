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


#: What the system records, and what it does not: the fields public ALPR transparency portals publish.
COLLECTED = (
    "the characters of a license plate as the reader read them, and the state when it could tell",
    "the date and time of the read, the camera and its location",
    "the reader's confidence, and an image of the plate and of the vehicle where the camera keeps one",
)
NOT_COLLECTED = (
    "no names, addresses or registration records (those stay in the state's systems)",
    "no facial recognition and no identification of people in the images",
    "no audio, and no tracking of anything but the plates the cameras pass",
)
#: Uses the department's policy prohibits.
PROHIBITED_USES = (
    "any use that is not an official law-enforcement purpose, including personal use",
    "harassing or intimidating any person or group",
    "targeting a person because of race, religion, national origin, gender, sexual orientation, "
    "disability or any other protected characteristic",
    "monitoring activity protected by the First Amendment (lawful assembly, worship, speech)",
    "enforcing federal immigration law, or sharing data for that purpose (ORS 181A.820)",
    "sharing data with anyone but law-enforcement or prosecutorial agencies",
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
    days = s.DailyReads.__table__.c
    first_day, end_day = lo // 86_400_000, -(-hi // 86_400_000)  # the UTC days the period touches
    collected = scalar(sa.select(sa.func.sum(days.reads)).where(days.day >= first_day, days.day < end_day))
    h = s.Hold.__table__.c
    searches = dict(
        conn.execute(
            sa.select(e.purpose, sa.func.count())
            .where(e.ts >= since, e.ts < until, e.operation.in_(list(DATA_OPERATIONS)), e.outcome == "ok")
            .group_by(e.purpose)
        ).all()
    )
    o, u = s.ProgramOfficer.__table__.c, s.User.__table__.c
    officers: dict[str, str] = {}
    for office, name, full in conn.execute(
        sa.select(o.office, u.name, u.full_name).join(s.User.__table__, u.id == o.user_id)
        .where(o.named_at < until).order_by(o.id)
    ):  # fmt: skip
        officers[office] = full or name  # the naming in force at the period's end
    return {
        "officers": officers,
        "since": since.date().isoformat(),
        "until": until.date().isoformat(),
        # In operation during the period: its first read came before the period's end.
        "cameras": scalar(
            sa.select(sa.func.count())
            .select_from(s.Camera.__table__)
            .where(s.Camera.first_read_ts.is_not(None), s.Camera.first_read_ts < hi)
        ),
        "reads_collected": collected,
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
        "hits_unverified": scalar(
            sa.select(sa.func.count()).where(a.read_ts >= lo, a.read_ts < hi, a.status == "unverified")
        ),
        "searches": sum(int(n) for p, n in searches.items() if p in PURPOSES),
        "holds": scalar(
            sa.select(sa.func.count())
            .select_from(s.Hold.__table__)
            .where(h.created_at >= since, h.created_at < until, h.status != "requested")
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


def transparency_html(
    figures: dict[str, Any],
    *,
    retention_days: int,
    program_title: str,
    policy_text: str | None = None,
    quarter: str | None = None,
) -> str:
    """The public page: the policy (the department's full text when it gives one), who oversees the program
    and keeps its records, what is and is not collected, prohibited uses, and the period's numbers. With
    ``quarter`` (e.g. ``2026Q4``) it is the quarterly audit Oregon SB 1516 asks for, on the same page."""
    rows = [
        ("Cameras in operation", figures["cameras"]),
        ("Reads collected", figures.get("reads_collected", 0)),
        (
            "Reads from the period still held (for cases, or within retention)",
            figures["reads_in_period_still_held"],
        ),
        ("Reads destroyed in the period", figures["reads_destroyed"]),
        ("Image files destroyed in the period", figures["images_destroyed"]),
        ("Retention period (days)", retention_days),
        ("Searches of the data", figures.get("searches", 0)),
        ("Hotlist hits", figures["hotlist_hits"]),
        ("Hits confirmed through the state system", figures["hits_confirmed"]),
        ("Hits cleared (no match in the state system)", figures["hits_cleared"]),
        ("Hits not verified", figures.get("hits_unverified", 0)),
        ("Holds keeping reads past retention", figures.get("holds", 0)),
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
    officers = figures.get("officers") or {}
    designee = officers.get("designee")
    custodian = officers.get("custodian")
    oversight = (
        f"<p>Program overseen by {html.escape(designee)}, {html.escape(program_title)} (policy 807.2(e))"
        if designee
        else f"<p>Program overseen by the {html.escape(program_title)} (no designee named yet)"
    ) + (
        f"; records kept by {html.escape(custodian)}, custodian of records (807.2(f)).</p>"
        if custodian
        else "; no custodian of records named yet.</p>"
    )
    if policy_text and policy_text.strip():
        paragraphs = [p for p in policy_text.replace("\r\n", "\n").split("\n\n") if p.strip()]
        policy = "".join(f"<p>{html.escape(p.strip())}</p>" for p in paragraphs)
    else:
        policy = (
            f"<p>{html.escape(POLICY_SUMMARY)}</p><p><em>A summary: the department has not yet published "
            "its full policy text here.</em></p>"
        )
    items = lambda xs: "".join(f"<li>{html.escape(x)}</li>" for x in xs)  # noqa: E731
    heading = (
        f"Automated license plate readers: quarterly audit, {html.escape(quarter[:4])} "
        f"Q{html.escape(quarter[5:])}"
        if quarter
        else "Automated license plate readers: transparency report"
    )
    audit = (
        "<h2>Quarterly audit (Oregon SB 1516)</h2><p>The access log was verified and reviewed for the "
        "quarter: "
        f"{figures['audits_performed']:,} audit(s) performed, {figures['refused_attempts']:,} attempt(s) "
        f"refused, {figures.get('searches', 0):,} search(es), each tied to a stated purpose.</p>"
        if quarter
        else ""
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{heading}</title>
<style>body{{font-family:system-ui,sans-serif;max-width:48rem;margin:2rem auto;line-height:1.5}}
th{{text-align:left;font-weight:normal;padding:.2rem 1rem .2rem 0}}td{{text-align:right}}</style></head>
<body>
<h1>{heading}</h1>
<p>Period {html.escape(figures["since"])} to {html.escape(figures["until"])}.</p>
{oversight}
<h2>The period in numbers</h2><table>{table}</table>
<h2>Searches by purpose</h2><table>{purposes}</table>
{audit}
<h2>What the system collects</h2><ul>{items(COLLECTED)}</ul>
<h2>What it does not collect</h2><ul>{items(NOT_COLLECTED)}</ul>
<h2>Prohibited uses</h2><ul>{items(PROHIBITED_USES)}</ul>
<h2>Policy</h2>{policy}
<p>Aggregate figures only: this page names no vehicle, no case and no member but the program's officers.</p>
</body></html>
"""
