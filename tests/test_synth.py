"""The synthetic city: deterministic, the size asked for, planted scenarios hold (checked by brute force)."""

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from alpr_lib.plates import PLATE_FORMATS, equivalence_key
from alpr_lib.synth import CityConfig, generate

START = dt.date(2026, 11, 1)


@pytest.fixture(scope="module")
def city():
    return generate(CityConfig(reads=40_000, seed=11, start=START))


def test_same_seed_same_city() -> None:
    a = generate(CityConfig(reads=5_000, seed=3, start=START))
    b = generate(CityConfig(reads=5_000, seed=3, start=START))
    assert a.reads.equals(b.reads)
    assert a.manifest == b.manifest


def test_other_seed_other_city() -> None:
    a = generate(CityConfig(reads=5_000, seed=3, start=START))
    b = generate(CityConfig(reads=5_000, seed=4, start=START))
    assert not a.reads["plate"].equals(b.reads["plate"])


@pytest.mark.parametrize("n", [1_000, 10_000, 33_333])
def test_exact_number_of_reads(n: int) -> None:
    assert generate(CityConfig(reads=n, seed=1, start=START)).reads.height == n


def test_cameras(city) -> None:
    cams = city.cameras
    fixed = cams.filter(pl.col("kind") == "fixed")
    assert fixed.height == 40 and cams.filter(pl.col("kind") == "mobile").height == 3
    assert cams["name"].n_unique() == cams.height
    # Around Florence, Oregon.
    assert fixed["lat"].is_between(43.85, 44.10).all() and fixed["lon"].is_between(-124.20, -123.80).all()
    for corridor in ("US101N", "BRIDGE", "US101S", "OR126", "PORT", "RHODY", "35TH"):
        assert fixed["name"].str.starts_with(corridor + "-").any()


def test_reads_are_in_the_month_and_time_sorted(city) -> None:
    r = city.reads
    first = dt.datetime(2026, 11, 1, 7, tzinfo=dt.UTC).timestamp() * 1000  # local midnight, PDT
    last = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC).timestamp() * 1000  # local midnight, PST
    assert r["ts"].min() >= first and r["ts"].max() < last
    assert r["ts"].is_sorted()
    assert r["source_id"].n_unique() == r.height


def test_traffic_curves(city) -> None:
    local = city.reads.with_columns(
        t=pl.from_epoch("ts", time_unit="ms")
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone("America/Los_Angeles")
    )
    by_hour = local.group_by(pl.col("t").dt.hour().alias("h")).len().sort("h")
    counts = dict(zip(by_hour["h"], by_hour["len"], strict=True))
    assert counts[8] > 5 * counts.get(3, 0)  # rush hour against the small hours
    assert counts[17] > 5 * counts.get(3, 0)


def test_plates_follow_state_formats(city) -> None:
    true = city.reads.filter(pl.col("scenario").is_null()).unique("true_plate")
    for row in true.sample(300, seed=1).iter_rows(named=True):
        fmts = [f for f in PLATE_FORMATS if f.state == row["state"]]
        assert any(f.matches(row["true_plate"]) for f in fmts), row["state"]
    assert set(true["state"]) >= {"OR", "WA", "CA"}


def test_misreads(city) -> None:
    r = city.reads
    wrong = r.filter(pl.col("plate") != pl.col("true_plate"))
    share = wrong.height / r.height
    assert 0.015 < share < 0.05
    assert wrong["confidence"].mean() < r.filter(pl.col("plate") == pl.col("true_plate"))["confidence"].mean()
    confusable = wrong.filter(
        pl.col("plate").map_elements(equivalence_key, return_dtype=pl.String)
        == pl.col("true_plate").map_elements(equivalence_key, return_dtype=pl.String)
    )
    assert confusable.height > wrong.height / 2


def _metres(lat1, lon1, lat2, lon2):
    p1, p2 = np.radians(lat1), np.radians(lat2)
    h = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * np.arcsin(np.sqrt(h))


def _near(reads: pl.DataFrame, scene: dict) -> set[str]:
    d = _metres(reads["lat"].to_numpy(), reads["lon"].to_numpy(), scene["lat"], scene["lon"])
    inside = (d <= scene["radius_m"]) & reads["ts"].is_between(scene["from_ms"], scene["to_ms"]).to_numpy()
    return set(reads.filter(pl.Series(inside))["plate"])


def test_burglary_suspect_near_every_scene(city) -> None:
    series = city.manifest["scenarios"]["burglary_series"]
    per_scene = [_near(city.reads, scene) for scene in series["scenes"]]
    assert all(series["plate"] in plates for plates in per_scene)
    everywhere = set.intersection(*per_scene)
    assert series["plate"] in everywhere
    # The answer is crisp: few other plates, if any, are at all three scenes at night.
    assert len(everywhere) <= 3


def test_convoy_companion_follows_the_target(city) -> None:
    c = city.manifest["scenarios"]["convoy"]
    t = city.reads.filter(pl.col("plate") == c["target"]).select("camera", "ts")
    f = city.reads.filter(pl.col("plate") == c["companion"]).select("camera", pl.col("ts").alias("ts_f"))
    pairs = t.join(f, on="camera").filter((pl.col("ts_f") - pl.col("ts")).is_between(1, 90_000))
    assert pairs.height >= 4 * c["trips"] - 2  # nearly every camera of every convoy trip
    days = pairs.with_columns(day=pl.col("ts") // 86_400_000)["day"].n_unique()
    assert days >= c["trips"] - 1


def test_clone_pair_is_impossible_travel(city) -> None:
    c = city.manifest["scenarios"]["clone"]
    pair = city.reads.filter(pl.col("source_id").is_in(c["source_ids"])).sort("ts")
    assert pair.height == 2 and set(pair["plate"]) == {c["plate"]}
    d = _metres(pair["lat"][0], pair["lon"][0], pair["lat"][1], pair["lon"][1])
    hours = (pair["ts"][1] - pair["ts"][0]) / 3_600_000
    assert d > 10_000 and d / 1000 / hours > 150


def test_stolen_vehicle_and_its_misread(city) -> None:
    s = city.manifest["scenarios"]["stolen_vehicle"]
    assert city.reads.filter(pl.col("plate") == s["plate"]).height >= 5
    assert s["misread_as"] != s["plate"] and equivalence_key(s["misread_as"]) == equivalence_key(s["plate"])
    misread = city.reads.filter(pl.col("source_id").is_in(s["source_ids"]))
    assert misread["plate"].to_list() == [s["misread_as"]]
    assert city.hotlist.filter(pl.col("plate") == s["plate"]).height == 1


def test_witness_partial_plate(city) -> None:
    p = city.manifest["scenarios"]["partial_plate"]
    regex = "^" + p["pattern"].replace("?", ".").replace("*", ".*") + "$"
    matches = set(city.reads.filter(pl.col("plate").str.contains(regex))["plate"])
    assert p["plate"] in matches
    seen = city.reads.filter((pl.col("plate") == p["plate"]) & (pl.col("camera") == p["camera"]))
    at = dt.datetime.fromisoformat(p["at"]).timestamp() * 1000
    assert (seen["ts"] - at).abs().min() < 1000


@pytest.mark.parametrize("bad", [dict(reads=10), dict(fixed_cameras=5), dict(days=2), dict(misread_rate=0.9)])
def test_bad_configs_are_refused(bad) -> None:
    with pytest.raises(ValueError):
        CityConfig(**bad)


def test_roads_are_geojson(city) -> None:
    assert city.roads["type"] == "FeatureCollection"
    kinds = {f["properties"]["kind"]: f["geometry"]["type"] for f in city.roads["features"]}
    assert kinds == {"road": "LineString", "street": "LineString", "river": "LineString", "sea": "Polygon",
                     "place": "Point"}  # fmt: skip
    assert math.isclose(city.roads["features"][0]["geometry"]["coordinates"][0][1], 44.06, abs_tol=0.01)
    # Every road and street a map labels has a name; the corridors a short one.
    lines = [f["properties"] for f in city.roads["features"] if f["properties"]["kind"] in ("road", "street")]
    assert all(p.get("street") or p["kind"] == "street" and p["name"] for p in lines)
