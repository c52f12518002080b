"""A partial pattern answers a page at a time: the pages of a vague pattern, read one after another, are its
whole result in the order of the whole, each saying how many reads there are in all — with reads past
retention left out, held ones kept, and reads found by another reading after the rest."""

from __future__ import annotations

import datetime as dt
import re

import polars as pl
import pytest
import sqlalchemy as sa

from alpr_lib.access import AccessSession, Policy, login
from alpr_lib.access.operations import FIRST_PAGE
from alpr_lib.errors import InvalidInput
from alpr_lib.matching import compile_pattern
from alpr_lib.store import Store
from alpr_lib.store import schema as s
from alpr_lib.store.retained import held_clause

from .conftest import DEMO_PASSWORD, DEMO_START

WHY = {"purpose": "investigation", "case": "26-01234", "reason": "paging a vague pattern"}
#: The retention floor on the 16th day of the demo month: half the city is past retention.
FLOOR_DAY = dt.datetime.combine(DEMO_START + dt.timedelta(days=15), dt.time(), tzinfo=dt.UTC)
DAYS = (dt.datetime.now(dt.UTC) - FLOOR_DAY).days
PATTERN = "*7*"


def expected(store: Store, pattern: str, floor_ms: int) -> tuple[list[tuple[int, str]], int]:
    """The whole result worked out from the tables: (read id, reading) in order — the plates' own reads
    within retention or held, plate by plate, the most recently seen plate first, each plate's oldest
    first; then the reads one of whose other readings matches (within retention, own plate not matching),
    oldest first — and how many of the plates' reads are past retention unheld."""
    regex = re.compile(compile_pattern(pattern).regex)
    r, a, p = s.Read.__table__.c, s.ReadAlternative.__table__.c, s.Plate.__table__.c
    with store.read() as conn:
        named = {int(i): (t, st) for i, t, st in conn.execute(sa.select(p.id, p.plate, p.state))}
        own = conn.execute(
            sa.select(r.id, r.ts, r.plate_id, held_clause().label("held")).order_by(r.ts, r.id)
        ).all()
        others = conn.execute(
            sa.select(r.id, r.ts, r.plate_id, a.plate_id)
            .join_from(s.Read.__table__, s.ReadAlternative.__table__, a.read_id == r.id)
            .order_by(r.ts, r.id, a.rank)
        ).all()
    plates = {i for i, (text, _state) in named.items() if regex.fullmatch(text)}
    shown = [(int(i), ts, pid) for i, ts, pid, held in own if pid in plates and (ts >= floor_ms or held)]
    hidden = sum(1 for _i, ts, pid, held in own if pid in plates and ts < floor_ms and not held)
    newest: dict[int, int] = {}
    for _i, ts, pid in shown:
        newest[pid] = max(ts, newest.get(pid, ts))
    order = sorted(newest, key=lambda pid: (-newest[pid], named[pid]))
    rows = [(i, "top") for pid in order for i, _ts, of in shown if of == pid]
    found = [int(i) for i, ts, pid, alt in others if alt in plates and pid not in plates and ts >= floor_ms]
    rows += [(i, "alternative") for i in dict.fromkeys(found)]
    return rows, hidden


@pytest.fixture
def analyst(city: Store) -> AccessSession:
    """The analyst, with half the demo city past retention and one matching plate's old reads held."""
    policy = Policy(retention_days=DAYS, timezone="UTC")
    supervisor = login(city, "supervisor", DEMO_PASSWORD, policy=policy)
    if "26-01234" not in supervisor.cases(everyone=True)["case"].to_list():
        supervisor.open_case("26-01234", offense="burglary", assign=["analyst"])
    with city.read() as conn:
        old = conn.execute(
            sa.select(s.Plate.plate)
            .join(s.Read, s.Read.plate_id == s.Plate.id)
            .where(s.Plate.plate.like("%7%"), s.Read.ts < FLOOR_DAY.timestamp() * 1000)
            .group_by(s.Plate.plate)
            .order_by(sa.func.count().desc())
            .limit(1)
        ).scalar_one()
    supervisor.add_hold(plate=old, case="26-01234", reason="kept for the case")
    member = login(city, "analyst", DEMO_PASSWORD, policy=policy)
    member.set_purpose(**WHY)
    return member


def test_the_pages_of_a_vague_pattern_are_its_whole_result(city: Store, analyst: AccessSession) -> None:
    floor_ms = int((dt.datetime.now(dt.UTC) - dt.timedelta(days=DAYS)).timestamp() * 1000)
    rows, hidden = expected(city, PATTERN, floor_ms)
    assert len(rows) > 3 * FIRST_PAGE and hidden > 100  # vague, and half of it past retention
    assert any(reading == "alternative" for _i, reading in rows)  # some found by another reading

    first = analyst.search_partial(PATTERN)  # the first page by default
    assert (first.count, first.page, first.page_size, first.total) == (FIRST_PAGE, 1, FIRST_PAGE, len(rows))
    assert first.truncated and first.past_retention == hidden
    assert list(zip(first.frame["read_id"], first.frame["reading"], strict=True)) == rows[:FIRST_PAGE]
    whole_counts = dict(zip(first.plates["plate"], first.plates["reads"], strict=True))

    size, seen, page = 997, [], 1  # a page size that cuts between the held, kept and alternative reads
    while True:
        found = analyst.search_partial(PATTERN, page=page, limit=size)
        assert (found.total, found.past_retention, found.page) == (len(rows), hidden, page)
        assert dict(zip(found.plates["plate"], found.plates["reads"], strict=True)) == whole_counts
        seen += list(zip(found.frame["read_id"], found.frame["reading"], strict=True))
        assert found.truncated == (len(seen) < len(rows))
        if not found.truncated:
            break
        page += 1
    assert seen == rows and page == -(-len(rows) // size)
    by_plate = analyst.search_partial(PATTERN, limit=10_000)  # the plates in the order of the pages
    listed = by_plate.plates.filter(pl.col("reads") > 0).select("plate", "state").rows()
    assert (
        list(dict.fromkeys(by_plate.frame.filter(pl.col("reading") == "top").select("plate", "state").rows()))
        == listed
    )
    assert by_plate.plates["last_seen"].is_sorted(descending=True, nulls_last=True)
    own = sum(1 for _i, reading in rows if reading == "top")
    assert sum(whole_counts.values()) == own  # every plate's count is of all its reads, not the page's

    past = analyst.search_partial(PATTERN, page=page + 1, limit=size)
    assert past.count == 0 and past.total == len(rows) and not past.truncated
    assert "past the last" in past.summary()
    assert first.summary().startswith(f"rows 1-{FIRST_PAGE:,} of {len(rows):,} (page 1; page=2 for the next)")


def test_pages_under_filters_and_near_a_place_agree_with_the_whole(analyst: AccessSession) -> None:
    for filters in (
        {"min_confidence": 0.9},
        {"since": FLOOR_DAY - dt.timedelta(days=3), "until": FLOOR_DAY + dt.timedelta(days=3)},
        {"near": _busy_place(analyst)},
    ):
        whole = analyst.search_partial(PATTERN, limit=10_000, **filters)
        assert not whole.truncated and whole.total == whole.count > 50
        pages = [analyst.search_partial(PATTERN, page=k, limit=37, **filters) for k in (1, 2, 3)]
        ids = pl.concat([p.frame for p in pages])["read_id"].to_list()
        assert ids == whole.frame["read_id"].to_list()[: len(ids)] and len(ids) == min(111, whole.total)
        assert all(p.total == whole.total and p.past_retention == whole.past_retention for p in pages)


def _busy_place(member: AccessSession) -> tuple[float, float, float]:
    """A fixed camera's place with many reads: where a page near a place is worth testing."""
    reads = member.search_partial(PATTERN, limit=10_000).frame
    top = reads.group_by("lat", "lon").len().sort("len", descending=True).row(0)
    return (top[0], top[1], 300.0)


def test_a_bad_page_is_refused_and_recorded(city: Store, analyst: AccessSession) -> None:
    for page in (0, -1, 2**40, "2", 1.5, True):
        with pytest.raises(InvalidInput, match="the page"):
            analyst.search_partial(PATTERN, page=page)
    with city.read() as conn:
        refused = conn.execute(
            sa.select(sa.func.count())
            .select_from(s.AuditEntry)
            .where(s.AuditEntry.operation == "search.partial", s.AuditEntry.outcome == "denied")
        ).scalar_one()
    assert refused == 6


def test_every_page_is_an_audited_access(city: Store, analyst: AccessSession) -> None:
    entries = [analyst.search_partial(PATTERN, page=k, limit=50).audit_id for k in (1, 2)]
    with city.read() as conn:
        params = conn.execute(
            sa.select(s.AuditEntry.params).where(s.AuditEntry.id.in_(entries)).order_by(s.AuditEntry.id)
        ).scalars()
        recorded = [(p if isinstance(p, dict) else __import__("json").loads(p)) for p in params]
    assert [(p["page"], p["limit"]) for p in recorded] == [(1, 50), (2, 50)]
