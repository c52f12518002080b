"""The door's gates: every refusal is audited; data operations carry their purpose and change nothing."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
import sqlalchemy as sa

from alpr_lib.access import AccessSession, login, resume
from alpr_lib.access.purpose import Policy
from alpr_lib.access.review import MisuseRules, misuse_flags
from alpr_lib.errors import AccessDenied, InvalidCaseNumber, InvalidInput, NotAuthenticated
from alpr_lib.store import Store
from alpr_lib.store import schema as s

from .conftest import DEMO_PASSWORD

INVESTIGATION = {"purpose": "investigation", "case": "26-01234", "reason": "vehicle seen leaving the scene"}


def last_entry(store: Store) -> sa.Row:
    with store.read() as conn:
        return conn.execute(sa.select(s.AuditEntry).order_by(s.AuditEntry.id.desc()).limit(1)).one()


def counts(store: Store) -> tuple[int, ...]:
    with store.read() as conn:
        return tuple(
            conn.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in (s.Read, s.Plate, s.User, s.TrainingRecord)
        )


def some_plate(store: Store) -> str:
    with store.read() as conn:
        return str(
            conn.execute(sa.select(s.Plate.plate).order_by(s.Plate.id).limit(1).offset(10)).scalar_one()
        )


def test_a_search_is_audited_with_its_purpose_in_the_same_result(city: Store) -> None:
    plate = some_plate(city)
    session = login(city, "investigator", DEMO_PASSWORD)
    result = session.search_plate(plate, **INVESTIGATION)
    own = result.frame.filter(pl.col("reading") == "top")  # then any read whose other reading it was
    assert own.height >= 1 and set(own["plate"]) == {plate}
    assert own["ts"].is_sorted()
    entry = last_entry(city)
    assert entry.id == result.audit_id
    assert (entry.operation, entry.outcome, entry.user_name, entry.role, entry.client) == (
        "search.plate",
        "ok",
        "investigator",
        "investigator",
        "cli",
    )
    assert (entry.purpose, entry.case_number, entry.reason) == (
        "investigation",
        "26-01234",
        "vehicle seen leaving the scene",
    )
    assert entry.result_count == result.count
    assert f'"plate":"{plate}"' in entry.params


def test_the_stated_purpose_carries_over_and_results_are_capped(city: Store) -> None:
    with city.read() as conn:
        busiest = conn.execute(
            sa.select(s.Plate.plate)
            .join(s.Read, s.Read.plate_id == s.Plate.id)
            .group_by(s.Plate.id)
            .order_by(sa.func.count().desc())
            .limit(1)
        ).scalar_one()
    session = login(city, "analyst", DEMO_PASSWORD)
    session.set_purpose("missing-person", case="26-07070", reason="family report of an endangered adult")
    result = session.search_plate(busiest, limit=2)
    assert (result.count, result.truncated) == (2, True)
    assert last_entry(city).purpose == "missing-person"


GATES = [
    ({}, InvalidInput, "say why"),
    ({"purpose": "curiosity", "reason": "just looking"}, InvalidInput, "unknown purpose"),
    ({"purpose": "investigation", "reason": "no case given"}, InvalidCaseNumber, "needs a case"),
    ({"purpose": "investigation", "case": "1234", "reason": "bad case"}, InvalidCaseNumber, "format"),
    (
        {"purpose": "administrative", "case": "26-1' OR '1'='1", "reason": "x'; DROP TABLE reads;--"},
        InvalidCaseNumber,
        "format",
    ),
    ({"purpose": "investigation", "case": "26-01234", "reason": "  "}, InvalidInput, "reason"),
]


@pytest.mark.parametrize(("why", "error", "message"), GATES)
def test_missing_or_malformed_purpose_is_refused_and_audited(
    city: Store, why: dict[str, str], error: type[Exception], message: str
) -> None:
    session = login(city, "analyst", DEMO_PASSWORD)
    before = counts(city)
    with pytest.raises(error, match=message):
        session.search_plate(some_plate(city), **why)
    entry = last_entry(city)
    assert (entry.operation, entry.outcome, entry.result_count) == ("search.plate", "denied", None)
    assert message in entry.detail
    assert counts(city) == before


def test_sql_injection_in_every_text_field_is_just_text(city: Store) -> None:
    evil = "x'); DELETE FROM reads; --"
    session = login(city, "analyst", DEMO_PASSWORD)
    before = counts(city)
    with city.read() as conn:
        alert = str(conn.execute(sa.select(sa.func.min(s.Alert.id))).scalar_one())
    result = session.search_plate(evil, state=evil, purpose="hit-verification", case=alert, reason=evil)
    assert result.count == 0
    assert last_entry(city).reason == evil
    with pytest.raises(NotAuthenticated):
        login(city, evil, evil)
    assert counts(city) == before


def test_untrained_members_are_refused_data_but_may_train_on_synthetic_data(city: Store) -> None:
    trainee = login(city, "trainee", DEMO_PASSWORD)
    with pytest.raises(AccessDenied, match="no ALPR training"):
        trainee.search_plate(some_plate(city), **INVESTIGATION)
    assert last_entry(city).outcome == "denied"
    result = trainee.search_plate(some_plate(city), purpose="training", reason="training notebook 1")
    assert result.count >= 1
    trainer = login(city, "trainer", DEMO_PASSWORD)
    trainer.record_training("trainee")
    assert trainee.search_plate(some_plate(city), **INVESTIGATION).count >= 1


def test_expired_training_is_refused(city: Store) -> None:
    admin = login(city, "admin", DEMO_PASSWORD)
    admin.add_user("old.hand", "investigator", "old-hand-pass-2026")
    admin.record_training("old.hand", completed_on=dt.date.today() - dt.timedelta(days=400), valid_days=365)
    with pytest.raises(AccessDenied, match="training expired"):
        login(city, "old.hand", "old-hand-pass-2026").search_plate("ABC123", **INVESTIGATION)
    assert last_entry(city).outcome == "denied"


def test_the_training_purpose_is_refused_on_real_data(admin_store: Store) -> None:
    session = login(admin_store, "admin", "first-admin-pass-2026")
    with pytest.raises(InvalidInput, match="synthetic"):
        session.search_plate("ABC123", purpose="training", reason="trying it out")
    assert last_entry(admin_store).outcome == "denied"


@pytest.mark.parametrize(
    ("user", "purpose", "message"),
    [
        ("supervisor", INVESTIGATION, "supervisor role may not search.plate"),
        ("trainer", INVESTIGATION, "only for training"),
    ],
)
def test_wrong_roles_are_refused_and_audited(city: Store, user: str, purpose: dict, message: str) -> None:
    with pytest.raises(AccessDenied, match=message):
        login(city, user, DEMO_PASSWORD).search_plate(some_plate(city), **purpose)
    assert (last_entry(city).user_name, last_entry(city).outcome) == (user, "denied")


def test_trainers_teach_under_the_training_purpose(city: Store) -> None:
    result = login(city, "trainer", DEMO_PASSWORD).search_plate(
        some_plate(city), purpose="training", reason="demonstrating a plate search"
    )
    assert result.count >= 1


def test_analysts_cannot_read_the_audit_log(city: Store) -> None:
    with pytest.raises(AccessDenied):
        login(city, "analyst", DEMO_PASSWORD).audit_report()
    assert (last_entry(city).operation, last_entry(city).outcome) == ("audit.report", "denied")


def _age_session(store: Store, session: AccessSession, **ago: dt.timedelta) -> None:
    now = dt.datetime.now(dt.UTC)
    with store.atomic() as conn:
        conn.execute(
            sa.update(s.Session)
            .where(s.Session.id == session._session_id)
            .values({k: now - v for k, v in ago.items()})
        )


@pytest.mark.parametrize(
    ("ago", "message"),
    [
        ({"last_seen_at": dt.timedelta(minutes=31)}, "30 minutes without use"),
        ({"created_at": dt.timedelta(hours=12, minutes=1)}, "12-hour limit"),
    ],
)
def test_sessions_expire_idle_and_absolute(city: Store, ago: dict, message: str) -> None:
    session = login(city, "analyst", DEMO_PASSWORD)
    session.search_plate(some_plate(city), **INVESTIGATION)
    _age_session(city, session, **ago)
    with pytest.raises(NotAuthenticated, match=message):
        session.search_plate(some_plate(city), **INVESTIGATION)
    assert last_entry(city).outcome == "denied"
    with pytest.raises(NotAuthenticated):
        resume(city, session.token, client="lab")
    assert (last_entry(city).operation, last_entry(city).outcome) == ("resume", "denied")


def test_a_session_resumes_by_token_until_logout(city: Store) -> None:
    session = login(city, "analyst", DEMO_PASSWORD, client="lab")
    again = resume(city, session.token, client="lab")
    assert (again.name, again.role) == ("analyst", "analyst")
    assert again.search_plate(some_plate(city), **INVESTIGATION).count >= 1
    session.logout()
    with pytest.raises(NotAuthenticated, match="logging out"):
        again.search_plate(some_plate(city), **INVESTIGATION)
    with pytest.raises(NotAuthenticated, match="log in again"):
        resume(city, "forged-" + "x" * 40, client="lab")
    entry = last_entry(city)
    assert (entry.operation, entry.outcome, entry.user_name, entry.detail) == (
        "resume",
        "denied",
        None,
        "unknown",
    )


def test_a_shorter_policy_is_honoured(city: Store) -> None:
    session = login(
        city, "analyst", DEMO_PASSWORD, policy=Policy(idle_minutes=5, case_format=r"[A-Z]{2}\d{6}")
    )
    with pytest.raises(InvalidCaseNumber):
        session.search_plate("ABC123", **INVESTIGATION)
    session.search_plate("ABC123", purpose="administrative", case="FL123456", reason="department format")
    _age_session(city, session, last_seen_at=dt.timedelta(minutes=6))
    with pytest.raises(NotAuthenticated, match="5 minutes"):
        session.search_plate("ABC123", purpose="administrative", case="FL123456", reason="department format")


def test_a_release_refused_by_policy_is_denied_and_audited(city: Store, tmp_path) -> None:
    admin = login(city, "admin", DEMO_PASSWORD)
    admin.add_agency("Coastal Tow Co.", kind="other", state="OR")
    investigator = login(city, "investigator", DEMO_PASSWORD)
    with pytest.raises(AccessDenied, match="law-enforcement or prosecutorial"):
        investigator.release(agency="Coastal Tow Co.", dest=tmp_path / "pkg", read_ids=[1], **INVESTIGATION)
    entry = last_entry(city)
    assert (entry.operation, entry.outcome, entry.case_number) == ("export", "denied", "26-01234")
    assert not (tmp_path / "pkg").exists()


# -- the audit report ---------------------------------------------------------------------------


def _entries(rows: list[tuple]) -> pl.DataFrame:
    base = dt.datetime(2026, 11, 2, 17, 0, tzinfo=dt.UTC)  # 09:00 in Florence, OR
    data = []
    for i, (user, minutes, plate, case) in enumerate(rows):
        data.append(
            {
                "id": i + 1,
                "ts": base + dt.timedelta(minutes=minutes),
                "user_name": user,
                "role": "analyst",
                "client": "cli",
                "operation": "search.plate",
                "params": f'{{"plate":"{plate}"}}',
                "purpose": "investigation" if case else "hit-verification",
                "case_number": case,
                "reason": "r",
                "result_count": 1,
                "outcome": "ok",
                "detail": None,
            }
        )
    return pl.DataFrame(data)


def test_misuse_flags_each_pattern_and_spare_ordinary_work() -> None:
    ordinary = [
        ("amy", 60 * (d * 24 + h % 8), f"AAA{d}{h}", f"26-0{d:04}") for d in range(10) for h in range(3)
    ]
    repeat = [("bob", 10 + i, "XYZ987", c) for i, c in enumerate(["26-00001", "26-00002", None])]
    same_case = [("cid", 20 + i, "QQQ111", "26-00009") for i in range(5)]
    night = [("amy", 60 * (9 * 24 + 14), "NIGHT1", "26-00010")]  # 23:00 local, never her hours
    volume = [("dan", i, f"V{i:05}", "26-00011") for i in range(60)]
    flags = misuse_flags(
        _entries(ordinary + repeat + same_case + night + volume), rules=MisuseRules(volume_floor=20)
    )
    got = {(f["user_name"], f["flag"]) for f in flags.to_dicts()}
    assert ("bob", "repeat-plate") in got
    assert ("cid", "repeat-plate") not in got  # the same case every time is ordinary case work
    assert ("amy", "off-hours") in got
    assert ("dan", "volume") in got
    assert not any(u == "amy" and f != "off-hours" for u, f in got)
    amy = flags.filter(pl.col("user_name") == "amy")
    assert amy["entries"].to_list() == [[len(ordinary) + len(repeat) + len(same_case) + 1]]


def test_audit_report_through_the_door(city: Store) -> None:
    analyst = login(city, "analyst", DEMO_PASSWORD)
    plate = some_plate(city)
    for case in ("26-01234", "26-03131", "26-05555"):  # the analyst's demo cases
        analyst.search_plate(plate, purpose="investigation", case=case, reason="looking again")
    report = login(city, "supervisor", DEMO_PASSWORD).audit_report(user="analyst")
    assert set(report.frame["user_name"]) == {"analyst"}
    assert report.frame.filter(pl.col("operation") == "search.plate").height == 3
    assert "repeat-plate" in report.flags["flag"].to_list()
    assert last_entry(city).operation == "audit.report"


def test_concurrent_sessions_queue_their_audit_entries_without_forking_the_chain(city: Store) -> None:
    from concurrent.futures import ThreadPoolExecutor

    from alpr_lib.access.audit import verify_chain

    plate = some_plate(city)
    sessions = [login(city, name, DEMO_PASSWORD) for name in ("analyst", "investigator", "admin") * 2]
    with city.read() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(s.AuditEntry)).scalar_one()

    def work(session: AccessSession) -> list[int]:
        return [session.search_plate(plate, **INVESTIGATION).audit_id for _ in range(15)]

    with ThreadPoolExecutor(len(sessions)) as pool:
        ids = [i for batch in pool.map(work, sessions) for i in batch]
    assert len(set(ids)) == len(sessions) * 15
    with city.read() as conn:
        after = conn.execute(sa.select(sa.func.count()).select_from(s.AuditEntry)).scalar_one()
        report = verify_chain(conn)
    assert after - before == len(ids)
    assert report.ok, report.problem


def test_only_a_scenes_place_and_window_enter_the_audit(city: Store) -> None:
    from alpr_lib.analytics import Scene

    since = dt.datetime(2026, 10, 2, tzinfo=dt.UTC)
    session = login(city, "analyst", DEMO_PASSWORD)
    labelled = {
        "lat": 43.97,
        "lon": -124.1,
        "radius_m": 500,
        "since": since,
        "until": since + dt.timedelta(hours=2),
    }
    result = session.canvass([{**labelled, "label": "near 7ABC123's house"}], **INVESTIGATION)
    with city.read() as conn:
        params = conn.execute(
            sa.select(s.AuditEntry.params).where(s.AuditEntry.id == result.audit_id)
        ).scalar_one()
    assert "label" not in params and "7ABC123" not in params
    scene = Scene.from_times(43.97, -124.1, 500, since, since + dt.timedelta(hours=2))
    assert session.canvass([scene], **INVESTIGATION).frame.equals(result.frame)
    with pytest.raises(InvalidInput, match="time zone"):
        Scene.from_times(43.97, -124.1, 500, since.replace(tzinfo=None), since.replace(tzinfo=None))
