"""Search and analytics: exact answers on hand-built data, brute-force agreement, planted scenarios."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from alpr_lib.access import AccessSession, Policy, login
from alpr_lib.analytics import Scene, match_pattern
from alpr_lib.analytics.search import PairIndex
from alpr_lib.errors import InvalidInput, InvalidPattern
from alpr_lib.hotlists import add_entries, match_new_reads
from alpr_lib.ingest import import_csv
from alpr_lib.matching import compile_pattern, explain
from alpr_lib.plates import equivalence_key
from alpr_lib.store import Store
from alpr_lib.store import queries as q
from alpr_lib.store.plate_index import plate_codes

from .conftest import ADMIN_PASSWORD, DEMO_PASSWORD, train_admin

WHY = {"purpose": "investigation", "case": "26-01234", "reason": "hand-built test data"}
T0 = dt.datetime(2026, 11, 2, 8, 0, tzinfo=dt.UTC)
MS0 = int(T0.timestamp() * 1000)

# Three cameras on a line: A and B 220 m apart, C about 20 km north.
CAMERAS = {"CAM-A": (44.0000, -124.1000), "CAM-B": (44.0020, -124.1000), "CAM-C": (44.1800, -124.1000)}
# (plate, state, camera, minutes after T0, confidence)
READS = [
    ("7ABC123", "CA", "CAM-A", 0, 0.95),
    ("7ABC123", "CA", "CAM-B", 1, 0.93),
    ("7ABC123", "CA", "CAM-A", 600, 0.96),  # 10 h later
    ("7A8C123", "CA", "CAM-C", 2, 0.55),  # a look-alike misread far away
    ("FOLLOW1", "WA", "CAM-A", 0.5, 0.90),  # travels with 7ABC123
    ("FOLLOW1", "WA", "CAM-B", 1.5, 0.90),
    ("FOLLOW1", "WA", "CAM-A", 600.5, 0.90),
    ("LONER99", "OR", "CAM-A", 300, 0.99),
    ("CLONE77", "OR", "CAM-A", 30, 0.97),
    ("CLONE77", "OR", "CAM-C", 33, 0.98),  # 20 km in 3 minutes
    ("ZZZ555", "OR", "CAM-B", 61, 0.91),
]


def write_reads(store: Store, tmp_path: Path, reads: list[tuple[str, str, str, float, float]]) -> None:
    lines = ["plate,state,camera,ts,lat,lon,confidence"]
    for plate, state, cam, minutes, conf in reads:
        lat, lon = CAMERAS[cam]
        ts = (T0 + dt.timedelta(minutes=minutes)).isoformat()
        lines.append(f"{plate},{state},{cam},{ts},{lat},{lon},{conf}")
    path = tmp_path / "reads.csv"
    path.write_text("\n".join(lines) + "\n")
    report = import_csv(store, path)
    assert report.imported == len(reads) and not report.rejected


@pytest.fixture
def town(admin_store: Store, tmp_path: Path) -> AccessSession:
    """A hand-built town of 11 reads, and its trained administrator's session."""
    write_reads(admin_store, tmp_path, READS)
    admin = login(admin_store, "admin", ADMIN_PASSWORD, policy=Policy(timezone="UTC"))  # the town keeps UTC
    train_admin(admin)
    admin.open_case("26-01234", offense="burglary", assign=["admin"])
    admin.set_purpose(**WHY)
    return admin


def scene(cam: str, radius: float, start_min: float, end_min: float) -> Scene:
    lat, lon = CAMERAS[cam]
    return Scene(lat, lon, radius, MS0 + int(start_min * 60_000), MS0 + int(end_min * 60_000))


def test_partial_patterns_on_the_town(town: AccessSession) -> None:
    assert set(town.search_partial("7?BC*").frame["plate"]) == {"7ABC123"}
    assert set(town.search_partial("7A[8B]C123").frame["plate"]) == {"7ABC123", "7A8C123"}
    assert set(town.search_partial("c12").frame["plate"]) == {"7ABC123", "7A8C123"}  # contains
    assert set(town.search_partial("*77").frame["plate"]) == {"CLONE77"}
    result = town.search_partial("*1*", state="WA")
    assert set(result.frame["plate"]) == {"FOLLOW1"} and result.plates["reads"].to_list() == [3]
    assert town.search_partial("7ABC*", cameras=["CAM-B"]).count == 1
    assert town.search_partial("7ABC*", min_confidence=0.955).count == 1
    assert set(town.search_partial("*7*", near=(*CAMERAS["CAM-C"], 100)).frame["plate"]) == {
        "7A8C123",
        "CLONE77",
    }
    assert town.search_partial("7ABC*", since=T0 + dt.timedelta(hours=1)).count == 1


def test_fuzzy_search_ranks_and_explains(town: AccessSession) -> None:
    result = town.search_fuzzy("7ABC123", max_edits=1)
    plates = result.plates
    assert plates["plate"].to_list() == ["7ABC123", "7A8C123"]
    assert plates["distance"].to_list() == [0, 0] and plates["confusions"].to_list() == [0, 1]
    assert "B read as 8" in plates["why"][1]
    assert set(town.search_fuzzy("7ABC12", max_edits=1).frame["plate"]) == {"7ABC123", "7A8C123"}
    assert town.search_fuzzy("7ABC12", max_edits=0).count == 0


def test_canvass_counts_and_summaries(town: AccessSession) -> None:
    result = town.canvass([scene("CAM-A", 100, -1, 5), scene("CAM-C", 300, 0, 60)])
    got = sorted(zip(result.frame["scene"], result.frame["plate"], strict=True))
    assert got == [(1, "7ABC123"), (1, "FOLLOW1"), (2, "7A8C123"), (2, "CLONE77")]
    summary = result.scenes
    assert summary["reads"].to_list() == [2, 2] and summary["cameras"].to_list() == [1, 1]
    wide = town.canvass([scene("CAM-A", 300, -1, 5)])  # reaches CAM-B, 220 m away
    assert sorted(wide.frame["camera"].unique()) == ["CAM-A", "CAM-B"]


def test_canvass_follows_a_named_camera_that_moves(admin_store: Store, tmp_path: Path) -> None:
    # A patrol car exported under one camera name: its reads are wherever the car was.
    lines = ["plate,camera,ts,lat,lon"]
    for i, (lat, lon) in enumerate([(44.0, -124.1), (44.05, -124.1), (44.1, -124.1)]):
        lines.append(f"PATROL{i},UNIT-7,{(T0 + dt.timedelta(minutes=i)).isoformat()},{lat},{lon}")
    (tmp_path / "patrol.csv").write_text("\n".join(lines) + "\n")
    import_csv(admin_store, tmp_path / "patrol.csv")
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    train_admin(admin)
    admin.open_case("26-01234", offense="burglary", assign=["admin"])
    found = admin.canvass([Scene(44.1, -124.1, 200, MS0 - 60_000, MS0 + 600_000)], **WHY)
    assert found.frame["plate"].to_list() == ["PATROL2"]


def test_canvass_keeps_a_fixed_cameras_read_by_its_own_position(admin_store: Store, tmp_path: Path) -> None:
    # A fixed camera whose export jitters its position by ~40 m (it stays fixed: under ~100 m). The camera
    # was placed where its first read was, 520 m from the scene; its second read was 480 m from it.
    lines = ["plate,camera,ts,lat,lon"]
    for i, lat in enumerate([44.00468, 44.00432]):
        lines.append(f"JITTER{i},GATE-1,{(T0 + dt.timedelta(minutes=i)).isoformat()},{lat},-124.1")
    (tmp_path / "gate.csv").write_text("\n".join(lines) + "\n")
    import_csv(admin_store, tmp_path / "gate.csv")
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    train_admin(admin)
    admin.open_case("26-01234", offense="burglary", assign=["admin"])
    with admin_store.read() as conn:
        assert q.cameras(conn)["kind"].to_list() == ["fixed"]
    found = admin.canvass([Scene(44.0, -124.1, 500, MS0 - 60_000, MS0 + 600_000)], **WHY)
    assert found.frame["plate"].to_list() == ["JITTER1"]
    near = admin.search_partial("JITTER*", near=(44.0, -124.1, 500), **WHY)
    assert near.frame["plate"].to_list() == ["JITTER1"]


def test_a_time_window_holds_both_its_ends(town: AccessSession) -> None:
    # "From 08:01 to 18:00" includes a read at 18:00:00 exactly, in every search that takes a window.
    since, until = T0 + dt.timedelta(minutes=1), T0 + dt.timedelta(minutes=600)
    plate = town.search_plate("7ABC123", since=since, until=until)
    assert plate.frame["ts"].to_list() == [since, until]
    assert town.timeline("7ABC123", since=since, until=until).count == 2
    assert town.canvass([scene("CAM-A", 100, 0.5, 600)]).frame["plate"].to_list() == [
        "FOLLOW1", "CLONE77", "LONER99", "7ABC123",
    ]  # fmt: skip
    ends = town.clones(since=T0 + dt.timedelta(minutes=30), until=T0 + dt.timedelta(minutes=33))
    assert ends.frame["plate"].to_list() == ["CLONE77"]
    assert (
        town.common_plates([scene("CAM-A", 100, 0, 0.5), scene("CAM-A", 100, 600, 600.5)], min_scenes=2).count
        == 2
    )


def test_common_plates_across_scenes(town: AccessSession) -> None:
    scenes = [scene("CAM-A", 100, -1, 2), scene("CAM-B", 100, 0, 3), scene("CAM-A", 100, 590, 610)]
    result = town.common_plates(scenes, min_scenes=3)
    assert result.frame.select("plate", "n_scenes").rows() == [("7ABC123", 3), ("FOLLOW1", 3)]
    assert town.common_plates(scenes[:2], min_scenes=2).count == 2
    with pytest.raises(InvalidInput, match="min_scenes"):
        town.common_plates(scenes, min_scenes=4)


def test_timeline_of_a_plate(town: AccessSession) -> None:
    result = town.timeline("7abc123")
    assert result.frame["camera"].to_list() == ["CAM-A", "CAM-B", "CAM-A"]
    summary = result.summary
    assert summary["reads"] == 3 and summary["places"] == 1  # A and B are within 300 m: one place
    assert result.hours.filter(pl.col("reads") > 0)["hour"].to_list() == [8, 18]
    path = result.path
    assert path.height == 2 and round(path["step_m"][0]) == 222


def test_convoy_finds_the_companion(town: AccessSession) -> None:
    result = town.convoy("7ABC123", window_s=60, min_times=3)
    assert result.frame.select("plate", "times", "mean_lag_s").rows() == [("FOLLOW1", 3, 30.0)]
    assert town.convoy("7ABC123", window_s=10, min_times=1).count == 0


def test_a_plate_read_with_and_without_its_state_is_not_its_own_companion(
    admin_store: Store, tmp_path: Path
) -> None:
    # The camera reads 7ABC123 twice in one pass, naming the state only once: two plates in the store, one
    # vehicle. Its companion is FOLLOW1, never itself.
    write_reads(admin_store, tmp_path, [*READS, ("7ABC123", "", "CAM-A", 0.2, 0.80)])
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    train_admin(admin)
    admin.open_case("26-01234", offense="burglary", assign=["admin"])
    result = admin.convoy("7ABC123", window_s=60, min_times=1, **WHY)
    assert result.frame.select("plate", "state", "times").rows() == [("FOLLOW1", "WA", 4)]
    assert set(result.together["plate"]) == {"FOLLOW1"}
    only_ca = admin.convoy("7ABC123", state="CA", window_s=60, min_times=1, **WHY)
    assert only_ca.frame.select("plate", "times").rows() == [("FOLLOW1", 3)]


def test_clones_by_impossible_travel(town: AccessSession) -> None:
    result = town.clones()
    assert result.frame["plate"].to_list() == ["CLONE77"]
    assert result.frame["first_camera"][0] == "CAM-A" and result.frame["second_camera"][0] == "CAM-C"
    assert 350 < result.frame["kmh"][0] < 450


def test_a_clone_is_found_across_short_hops(admin_store: Store, tmp_path: Path) -> None:
    # Three reads 3 km and 10 s apart: no single step reaches the 5 km floor, but the first and the last are
    # 6 km in 20 s, a trip no car makes.
    lines = ["plate,camera,ts,lat,lon"]
    for i in range(3):
        ts = (T0 + dt.timedelta(seconds=10 * i)).isoformat()
        lines.append(f"HOPPER1,CAM-{i},{ts},{44.0 + 0.027 * i},-124.1")
    (tmp_path / "hops.csv").write_text("\n".join(lines) + "\n")
    import_csv(admin_store, tmp_path / "hops.csv")
    admin = login(admin_store, "admin", ADMIN_PASSWORD)
    train_admin(admin)
    admin.open_case("26-01234", offense="burglary", assign=["admin"])
    found = admin.clones(**WHY)
    assert found.frame.select("first_camera", "second_camera").rows() == [("CAM-0", "CAM-2")]
    assert 5900 < found.frame["distance_m"][0] < 6100 and found.frame["seconds"][0] == 20


def test_hotlist_matches_exact_and_look_alike_with_state_flags(
    town: AccessSession, admin_store: Store
) -> None:
    with admin_store.atomic() as conn:
        add_entries(
            conn,
            pl.DataFrame(
                {
                    "hotlist": ["Stolen"] * 2,
                    "plate": ["7ABC123", "ZZZ5S5"],
                    "state": ["OR", ""],
                    "kind": ["stolen-vehicle", "warrant"],
                }
            ),
        )
        created = match_new_reads(conn, 0)
        assert match_new_reads(conn, 0) == 0  # never alerted twice
    alerts = town.alerts(purpose="hit-verification", reason="checking hits").frame
    assert created == alerts.height == 5
    rows = {(r["read_plate"], r["match"], r["state_agrees"]) for r in alerts.to_dicts()}
    assert rows == {("7ABC123", "exact", False), ("7A8C123", "ocr", False), ("ZZZ555", "ocr", None)}
    ocr = alerts.filter(pl.col("read_plate") == "ZZZ555")
    assert ocr["detail"][0] == "position 5: S listed, 5 read"
    assert set(alerts["status"]) == {"unverified"} and not alerts["actionable"].any()
    first = int(alerts["alert_id"][0])
    done = town.verify_alert(
        first,
        result="confirmed",
        note="LEDS confirms stolen",
        purpose="hit-verification",
        reason="verifying a hit",
    )
    assert (done.frame["status"][0], done.frame["actionable"][0], done.frame["verified_by"][0]) == (
        "confirmed",
        True,
        "admin",
    )
    with pytest.raises(InvalidInput, match="already verified"):
        town.verify_alert(
            first,
            result="cleared",
            note="changed my mind",
            purpose="hit-verification",
            reason="verifying a hit",
        )


@pytest.mark.parametrize(
    "pattern",
    ["", "[AB", "[]", "A]", "A%B", "*", "???", "ABCDEFGHI?", "A[B-C]", "'; DROP TABLE reads;--"],
)
def test_malformed_patterns_are_refused(pattern: str) -> None:
    with pytest.raises(InvalidPattern):
        compile_pattern(pattern)


def test_bad_scenes_are_refused() -> None:
    for args in [
        (91, 0, 100, 0, 1),
        (0, 181, 100, 0, 1),
        (0, 0, 0, 0, 1),
        (0, 0, 60_000, 0, 1),
        (0, 0, 100, 5, 5),
    ]:
        with pytest.raises(InvalidInput):
            Scene(*args)
    with pytest.raises(InvalidInput, match="31 days"):
        Scene(0, 0, 100, 0, 40 * 86_400_000)
    with pytest.raises(InvalidInput, match="latitude"):
        Scene(float("nan"), 0, 100, 0, 1)


# -- brute force ---------------------------------------------------------------------------------

ALPHABET = "AB8O0Z2S51"
plates_st = st.lists(st.text(ALPHABET, min_size=2, max_size=7), min_size=1, max_size=60, unique=True)
pattern_st = st.text(ALPHABET + "?*", min_size=1, max_size=7).filter(lambda p: any(c in ALPHABET for c in p))


def brute_pattern(pattern: str, plate: str) -> bool:
    if not any(c in "?*[" for c in pattern):
        return pattern in plate
    regex = "".join("." if c == "?" else ".*" if c == "*" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, plate) is not None


@settings(max_examples=300, deadline=None)
@given(plates=plates_st, pattern=pattern_st)
def test_wildcard_search_agrees_with_a_brute_force_regex(plates: list[str], pattern: str) -> None:
    frame = pl.DataFrame({"plate_id": range(len(plates)), "plate": plates, "state": [""] * len(plates)})
    try:
        compiled = compile_pattern(pattern)
    except InvalidPattern:
        return  # e.g. longer than a plate: refused with a message
    expected = {p for p in plates if brute_pattern(pattern, p)}
    assert set(match_pattern(frame, compiled)["plate"]) == expected
    # and through the byte-matrix prefilter the door uses
    codes = plate_codes(frame["plate"])
    assert set(match_pattern(frame, compiled, codes=codes)["plate"]) == expected
    # and through its index of character pairs, with the last plates added after the index was built
    for indexed in (len(plates), len(plates) // 2):
        pairs = PairIndex(codes[:indexed])
        found = match_pattern(frame, compiled, codes=codes, pairs=pairs)
        assert set(found["plate"]) == expected
        assert found["plate_id"].is_sorted()  # in the plates' order, as without the index


def levenshtein(a: str, b: str) -> int:
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(plates=plates_st, query=st.text(ALPHABET, min_size=2, max_size=7), edits=st.integers(0, 2))
def test_fuzzy_search_agrees_with_a_brute_force_distance(
    fresh_store: Store, plates: list[str], query: str, edits: int
) -> None:
    from alpr_lib.store.plate_index import PlateIndex
    from alpr_lib.store.writes import ensure_plates

    with fresh_store.atomic() as conn:
        conn.exec_driver_sql("DELETE FROM plates")
        ensure_plates(conn, pl.DataFrame({"plate": plates, "state": [""] * len(plates)}))
        found = set(q.plates_by_key(conn, PlateIndex(), equivalence_key(query), edits)["plate"])
    expected = {p for p in plates if levenshtein(equivalence_key(query), equivalence_key(p)) <= edits}
    assert found == expected
    for p in expected:
        assert explain(query, p).distance == levenshtein(equivalence_key(query), equivalence_key(p))


# -- the planted scenarios of the synthetic city ---------------------------------------------------


@pytest.fixture
def detective(city: Store) -> AccessSession:
    session = login(city, "investigator", DEMO_PASSWORD)
    session.set_purpose("investigation", case="26-01234", reason="planted scenario check")
    return session


def test_the_witness_partial_plate_finds_the_vehicle(detective: AccessSession, manifest: dict) -> None:
    planted = manifest["scenarios"]["partial_plate"]
    result = detective.search_partial(planted["pattern"], state=planted["state"])
    assert planted["plate"] in set(result.frame["plate"])
    assert planted["camera"] in set(result.frame.filter(pl.col("plate") == planted["plate"])["camera"])


def test_the_suspect_is_the_plate_seen_at_all_three_burglaries(
    detective: AccessSession, manifest: dict
) -> None:
    planted = manifest["scenarios"]["burglary_series"]
    scenes = [Scene(s["lat"], s["lon"], s["radius_m"], s["from_ms"], s["to_ms"]) for s in planted["scenes"]]
    result = detective.common_plates(scenes, min_scenes=planted["min_scenes"])
    assert result.frame["plate"].to_list()[0] == planted["plate"]
    assert result.frame["n_scenes"][0] == 3


def test_the_convoy_companion_ranks_first(detective: AccessSession, manifest: dict) -> None:
    planted = manifest["scenarios"]["convoy"]
    result = detective.convoy(planted["target"], window_s=90, min_times=3)
    assert result.frame["plate"][0] == planted["companion"]
    assert result.frame["times"][0] >= planted["trips"]


def test_the_cloned_plate_is_found(detective: AccessSession, manifest: dict) -> None:
    planted = manifest["scenarios"]["clone"]
    result = detective.clones()
    assert planted["plate"] in set(result.frame["plate"])
    row = result.frame.filter(pl.col("plate") == planted["plate"]).row(0, named=True)
    assert {row["first_camera"], row["second_camera"]} == set(planted["cameras"])


def test_the_stolen_car_alerts_and_its_misread_is_flagged(detective: AccessSession, manifest: dict) -> None:
    planted = manifest["scenarios"]["stolen_vehicle"]
    alerts = detective.alerts(purpose="hit-verification", reason="planted stolen vehicle").frame
    mine = alerts.filter(pl.col("listed_plate") == planted["plate"])
    assert (mine["match"] == "exact").sum() >= 1
    misread = mine.filter(pl.col("read_plate") == planted["misread_as"])
    assert misread["match"].to_list() == ["ocr"] and "read" in misread["detail"][0]
    fuzzy = detective.search_fuzzy(planted["plate"], max_edits=0)
    assert planted["misread_as"] in set(fuzzy.frame["plate"])


@pytest.mark.postgresql_only
def test_postgres_finds_partial_plates_with_the_trigram_index_as_memory_does(demo_store: Store) -> None:
    from alpr_lib.store import queries as q

    with demo_store.read() as conn:
        assert demo_store.has_trigram_index(conn)
        frame, codes = demo_store.plate_index.codes(conn)
        some = frame["plate"].to_list()[::97][:12]
        patterns = [p[:3] + "*" for p in some] + ["*" + p[1:4] + "*" for p in some]
        patterns += [p[:3] + "?" * (len(p) - 3) for p in some] + [p[-4:] for p in some]
        for text in patterns:
            compiled = compile_pattern(text)
            for state in (None, "OR"):
                ours = q.plates_matching(conn, compiled.regex, state)
                memory = match_pattern(frame, compiled, state, codes)
                assert ours.equals(memory), text
                assert ours.height > 0 or state
