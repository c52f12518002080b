"""Reviewing the audit log: who searched what, when and why, and which patterns look like misuse.

Pure functions over a polars frame of audit entries (as :func:`entries_frame` builds it),
so supervisors can rerun them in a notebook with their own thresholds. The flags are
prompts for a conversation, not verdicts:

``repeat-plate``
    one member searched the same plate at least ``repeat_min`` times under different
    case numbers or none — the pattern of looking someone up for personal reasons.
``off-hours``
    data searches at an hour of the day when the member rarely works (less than
    ``usual_share`` of their own searches in the history given; with too little history,
    outside the department's day shift ``day_hours``).
``volume``
    a member-day with more data searches than ``volume_factor`` times the usual
    member-day (and at least ``volume_floor``).
``lockout``
    a member's account was locked after repeated failed logons: someone may be guessing
    their password (or they forgot it) — the supervisor hears of it here.
``override``
    searches made under a supervisor's override of the case registry (a case the member was
    not assigned to, or not open): allowed, with the supervisor's reason, and always reviewed.
``closed-case``
    searches for a case that was closed within ``closed_within_hours`` after them — the pattern
    of a case opened to justify a lookup and shut again.
``case-hopping``
    a member searching ``same_day_cases`` or more different cases on the day they were added
    to each.
"""

from __future__ import annotations

import json
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import polars as pl

from .roles import DATA_OPERATIONS

__all__ = [
    "ENTRY_SCHEMA",
    "EXPORT_COLUMNS",
    "FLAG_SCHEMA",
    "MisuseRules",
    "entries_frame",
    "misuse_flags",
    "search_log",
]

ENTRY_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "ts": pl.Datetime("us", "UTC"),
    "user_name": pl.String(),
    "role": pl.String(),
    "client": pl.String(),
    "operation": pl.String(),
    "params": pl.String(),
    "purpose": pl.String(),
    "case_number": pl.String(),
    "reason": pl.String(),
    "result_count": pl.Int64(),
    "outcome": pl.String(),
    "detail": pl.String(),
}

FLAG_SCHEMA: dict[str, pl.DataType] = {
    "user_name": pl.String(),
    "flag": pl.String(),
    "detail": pl.String(),
    "entries": pl.List(pl.Int64()),
    "first": pl.Datetime("us", "UTC"),
}


@dataclass(frozen=True)
class MisuseRules:
    """Thresholds of the misuse flags (see the module's documentation)."""

    repeat_min: int = 3
    usual_share: float = 0.05
    min_history: int = 20
    day_hours: tuple[int, int] = (6, 20)
    volume_factor: float = 3.0
    volume_floor: int = 50
    closed_within_hours: float = 48
    same_day_cases: int = 3


def entries_frame(rows: Iterable[Mapping[str, Any]]) -> pl.DataFrame:
    """A frame of audit entries from database rows (mappings with the audit table's columns)."""
    data = [{k: row[k] for k in ENTRY_SCHEMA} for row in rows]
    if not data:
        return pl.DataFrame(schema=ENTRY_SCHEMA)
    return pl.DataFrame(data, schema=ENTRY_SCHEMA)


def _flag(groups: pl.DataFrame, flag: str, detail: pl.Expr) -> pl.DataFrame:
    """One flag per row of ``groups`` (which has ``user_name``, ``entries`` and ``first``)."""
    return groups.select("user_name", flag=pl.lit(flag), detail=detail, entries="entries", first="first")


def _data_searches(entries: pl.DataFrame, timezone: str) -> pl.DataFrame:
    return entries.filter(
        pl.col("operation").is_in(list(DATA_OPERATIONS)) & pl.col("user_name").is_not_null()
    ).with_columns(
        local=pl.col("ts").dt.convert_time_zone(timezone),
        plate=pl.col("params")
        .str.json_path_match("$.plate")
        .str.to_uppercase()
        .str.replace_all(r"[^A-Z0-9]", ""),
    )


def _registry_flags(
    searches: pl.DataFrame,
    rules: MisuseRules,
    timezone: str,
    cases: pl.DataFrame | None,
    members: pl.DataFrame | None,
) -> list[pl.DataFrame]:
    """The case registry's flags: overrides, searches on a case closed soon after, same-day case hopping."""
    ok = searches.filter(pl.col("outcome") == "ok").with_columns(day=pl.col("local").dt.date())
    found = []
    overridden = ok.filter(pl.col("params").str.json_path_match("$.override").is_not_null())
    found.append(
        _flag(
            overridden.group_by("user_name", "day", "case_number").agg(
                n=pl.len(), entries=pl.col("id").sort(), first=pl.col("ts").min()
            ),
            "override",
            pl.format(
                "{} search(es) for case {} on {} under a supervisor's override", "n", "case_number",
                pl.col("day").cast(pl.String),
            ),
        )
    )  # fmt: skip
    if cases is not None and cases.height:
        window = int(rules.closed_within_hours * 3_600_000_000)
        closed = ok.join(
            cases.filter(pl.col("closed_at").is_not_null()), left_on="case_number", right_on="case"
        )
        soon = closed.filter(
            (pl.col("closed_at") >= pl.col("ts"))
            & ((pl.col("closed_at") - pl.col("ts")).dt.total_microseconds() <= window)
        )
        found.append(
            _flag(
                soon.group_by("user_name", "case_number").agg(
                    n=pl.len(), entries=pl.col("id").sort(), first=pl.col("ts").min(),
                    closed=pl.col("closed_at").first(),
                ),
                "closed-case",
                pl.format(
                    "{} search(es) for case {}, closed soon after ({})", "n", "case_number",
                    pl.col("closed").dt.convert_time_zone(timezone).dt.strftime("%Y-%m-%d %H:%M"),
                ),
            )
        )  # fmt: skip
    if members is not None and members.height:
        added = members.with_columns(added_day=pl.col("added_at").dt.convert_time_zone(timezone).dt.date())
        fresh = ok.join(added, left_on=["case_number", "user_name"], right_on=["case", "user_name"]).filter(
            pl.col("added_day") == pl.col("day")
        )
        hopping = (
            fresh.group_by("user_name", "day")
            .agg(
                n=pl.col("case_number").n_unique(),
                cases=pl.col("case_number").unique().sort(),
                entries=pl.col("id").sort(),
                first=pl.col("ts").min(),
            )
            .filter(pl.col("n") >= rules.same_day_cases)
        )
        found.append(
            _flag(
                hopping,
                "case-hopping",
                pl.format(
                    "searched {} cases on {}, the day of being added to each ({})", "n",
                    pl.col("day").cast(pl.String), pl.col("cases").list.join(", "),
                ),
            )
        )  # fmt: skip
    return found


def misuse_flags(
    entries: pl.DataFrame,
    *,
    history: pl.DataFrame | None = None,
    timezone: str = "America/Los_Angeles",
    rules: MisuseRules | None = None,
    cases: pl.DataFrame | None = None,
    members: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Flags of likely misuse among ``entries``; ``history`` (default: the entries) sets each member's
    usual hours and the usual daily volume. ``cases`` (``case``, ``closed_at``) and ``members`` (``case``,
    ``user_name``, ``added_at``), from the case registry, raise the closed-case and case-hopping flags."""
    rules = rules or MisuseRules()
    searches = _data_searches(entries, timezone)
    past = _data_searches(history if history is not None else entries, timezone)
    flags: list[pl.DataFrame] = []

    repeated = (
        searches.filter(pl.col("plate").is_not_null() & (pl.col("plate") != ""))
        .group_by("user_name", "plate")
        .agg(
            n=pl.len(),
            cases=pl.col("case_number").drop_nulls().unique().sort(),
            no_case=pl.col("case_number").is_null().sum(),
            entries=pl.col("id").sort(),
            first=pl.col("ts").min(),
        )
        .filter(
            (pl.col("n") >= rules.repeat_min) & ((pl.col("cases").list.len() > 1) | (pl.col("no_case") > 0))
        )
    )
    flags.append(
        _flag(
            repeated,
            "repeat-plate",
            pl.format(
                "same plate searched {} times under {} case number(s) and {} time(s) with none",
                "n",
                pl.col("cases").list.len(),
                "no_case",
            ),
        )
    )

    hours = past.group_by("user_name").agg(total=pl.len(), hours=pl.col("local").dt.hour())
    usual: dict[str, set[int]] = {}
    for row in hours.iter_rows(named=True):
        if row["total"] >= rules.min_history:
            counts: dict[int, int] = {}
            for h in row["hours"]:
                counts[h] = counts.get(h, 0) + 1
            usual[row["user_name"]] = {h for h, c in counts.items() if c / row["total"] >= rules.usual_share}
    start, end = rules.day_hours
    day_shift = set(range(start, end))
    odd = searches.with_columns(hour=pl.col("local").dt.hour(), day=pl.col("local").dt.date()).filter(
        pl.struct("user_name", "hour").map_elements(
            lambda r: r["hour"] not in usual.get(r["user_name"], day_shift), return_dtype=pl.Boolean
        )
    )
    flags.append(
        _flag(
            odd.group_by("user_name", "day").agg(
                n=pl.len(),
                hours=pl.col("hour").unique().sort(),
                entries=pl.col("id").sort(),
                first=pl.col("ts").min(),
            ),
            "off-hours",
            pl.format(
                "{} search(es) on {} at unusual hours ({})",
                "n",
                pl.col("day").cast(pl.String),
                pl.col("hours").cast(pl.List(pl.String)).list.join(", "),
            ),
        )
    )

    per_day = past.group_by("user_name", pl.col("local").dt.date().alias("day")).agg(n=pl.len())
    median = float(per_day["n"].median() or 0) if per_day.height else 0.0
    threshold = max(float(rules.volume_floor), rules.volume_factor * median)
    busy = (
        searches.group_by("user_name", pl.col("local").dt.date().alias("day"))
        .agg(n=pl.len(), entries=pl.col("id").sort(), first=pl.col("ts").min())
        .filter(pl.col("n") > threshold)
    )
    flags.append(
        _flag(
            busy,
            "volume",
            pl.format(
                "{} searches on {} (usual member-day: {})",
                "n",
                pl.col("day").cast(pl.String),
                pl.lit(f"{median:g}"),
            ),
        )
    )
    locked = (
        entries.filter((pl.col("operation") == "logon") & (pl.col("detail") == "lockout"))
        .with_columns(day=pl.col("ts").dt.convert_time_zone(timezone).dt.date())
        .group_by("user_name", "day")
        .agg(n=pl.len(), entries=pl.col("id").sort(), first=pl.col("ts").min())
    )
    flags.append(
        _flag(
            locked,
            "lockout",
            pl.format(
                "account locked {} time(s) on {} after repeated failed logons",
                "n",
                pl.col("day").cast(pl.String),
            ),
        )
    )
    flags.extend(_registry_flags(searches, rules, timezone, cases, members))
    out = pl.concat([f.cast(FLAG_SCHEMA) for f in flags])  # type: ignore[arg-type]
    return out.sort("first", "user_name", "flag")


#: The search log's columns as vendors' audit exports name them (the layout auditors and journalists
#: already analyse, e.g. the Flock audit logs EFF reviewed in 2025).
EXPORT_COLUMNS = (
    "ID",
    "Name",
    "Org Name",
    "Total Networks Searched",
    "License Plate",
    "Reason",
    "Case #",
    "Filters",
    "Search Time",
    "Search Type",
)

_SEARCH_TYPES = {
    "search.plate": "Plate search",
    "search.partial": "Partial plate search",
    "search.fuzzy": "Fuzzy plate search",
    "search.vehicle": "Vehicle description search",
    "canvass": "Canvass",
    "common": "Common plates",
    "timeline": "Timeline",
    "convoy": "Convoy",
    "clones": "Cloned plates",
    "alerts.list": "Hotlist alerts",
    "alerts.verify": "Hit verification",
    "crop": "Plate image",
    "export": "Release",
    "export.reads": "Export of reads",
}
_PLATE_KEYS = ("plate", "pattern")


def search_log(
    entries: pl.DataFrame,
    *,
    org: str,
    timezone: str,
    full_names: Mapping[str, str] | None = None,
    redact: bool = False,
    agencies: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """The searches among ``entries`` (data operations the door allowed) in :data:`EXPORT_COLUMNS`.

    ``Org Name`` is the member's own agency when one is recorded (a contractor, a partner agency's
    analyst), else ``org``, the department's.

    ``redact`` (for public release) puts ``Member N`` for each name — the same number for the same member
    throughout — and ``[redacted]`` for plates and patterns; the case number and reason stay, as the public
    audits of ALPR logs publish them."""
    zone = zoneinfo.ZoneInfo(timezone)
    names = dict(full_names or {})
    searches = entries.filter(pl.col("operation").is_in(list(DATA_OPERATIONS)) & (pl.col("outcome") == "ok"))
    pseudonyms: dict[str, str] = {}
    rows = []
    for r in searches.sort("id").iter_rows(named=True):
        params = json.loads(r["params"] or "{}")
        if isinstance(params.get("query"), dict):  # an export: the search it ran, its arguments beside
            params = {**{k: v for k, v in params.items() if k != "query"}, **params["query"]}
        plate = next((str(params[k]) for k in _PLATE_KEYS if params.get(k)), "")
        filters = {k: v for k, v in params.items() if k not in _PLATE_KEYS and v not in (None, [], "")}
        member = r["user_name"] or ""
        if redact:
            name = pseudonyms.setdefault(member, f"Member {len(pseudonyms) + 1}")
            plate = "[redacted]" if plate else ""
        else:
            name = names.get(member) or member
        rows.append(
            {
                "ID": r["id"],
                "Name": name,
                "Org Name": (agencies or {}).get(member) or org,
                "Total Networks Searched": 1,  # the department's own readers; no shared network
                "License Plate": plate,
                "Reason": f"{r['purpose'] or ''}: {r['reason'] or ''}".strip(": "),
                "Case #": r["case_number"] or "",
                "Filters": json.dumps(filters, sort_keys=True) if filters else "",
                "Search Time": r["ts"].astimezone(zone).isoformat(timespec="seconds"),
                "Search Type": _SEARCH_TYPES.get(r["operation"], r["operation"]),
            }
        )
    schema = {c: (pl.Int64 if c in ("ID", "Total Networks Searched") else pl.String) for c in EXPORT_COLUMNS}
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
