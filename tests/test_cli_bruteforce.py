"""The command line against brute force: a random town of reads imported through `workbench import-reads`,
every search, canvass, convoy, clone check, alert and purge asked through the CLI, each answer compared with
the same question answered by plain Python over the CSV rows (no workbench code in the answers).

The town is made to catch what hand-built data misses: look-alike characters in every plate, the same plate
read with and without its state, reads on the hour at the edges of windows, travelling companions, a camera
reading one vehicle twice in a pass, fixed cameras whose exported positions jitter ~40 m beside patrol cars.
"""

from __future__ import annotations

import csv
import datetime as dt
import itertools
import json
import math
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from workbench.cli import main

from .engines import drop_database, new_database

PASSWORD = "brute-force-pass-2026"
WHY = ["--purpose", "investigation", "--case", "26-01234", "--reason", "brute-force check", "--user", "ana"]
TZ = ZoneInfo("America/Los_Angeles")  # the department's time zone (the default setting)
START = dt.datetime(2026, 11, 20)  # local, naive: how a vendor's CSV gives it
LAT0, LON0 = 44.0, -123.0
ALPHABET = "0O8BD1I5S2ZAXK7"  # many look-alikes
LOOK_ALIKE = str.maketrans("OQDILZSGB", "000112568")  # CLI.md: 0/O/D/Q, 1/I/L, 2/Z, 5/S, 6/G, 8/B


@dataclass
class Town:
    cli: Callable[..., Any]
    rows: list[dict[str, Any]]
    plates: list[str]
    rng: random.Random
    folder: Path

    def ask(self, *args: str) -> dict[str, Any]:
        return json.loads(self.cli(*args, *WHY, "--json").output)


def _cli(db: str, data_dir: Path) -> Callable[..., Any]:
    runner = CliRunner()
    env = {
        "WORKBENCH_DB_URL": db,
        "WORKBENCH_PASSWORD": PASSWORD,
        "WORKBENCH_NEW_PASSWORD": PASSWORD,
        "WORKBENCH_DATA_DIR": str(data_dir),
        "WORKBENCH_KEY_DIR": str(data_dir / "keys"),  # set up before any test's environment is
    }

    def cli(*args: str) -> Any:
        result = runner.invoke(main, list(args), env=env, catch_exceptions=False)
        assert result.exit_code == 0, f"{args[:2]}: {result.output}"
        return result

    return cli


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _random_reads(rng: random.Random, plates: list[str], n: int) -> list[dict[str, Any]]:
    # Cameras 1-4 are fixed, their exports jittering the position by up to ~45 m; 5-8 are patrol cars.
    posts = {c: (LAT0 + rng.uniform(-0.02, 0.02), LON0 + rng.uniform(-0.03, 0.03)) for c in range(1, 5)}
    rows = []
    for i in range(n):
        ts = START + dt.timedelta(seconds=rng.randint(0, 5 * 86400))
        if i % 40 == 0:
            ts = ts.replace(minute=0, second=0)  # on the hour: the edges of windows
        camera = rng.randint(1, 8)
        if camera in posts:
            lat, lon = (v + rng.uniform(-0.0004, 0.0004) for v in posts[camera])
        else:
            lat, lon = LAT0 + rng.uniform(-0.03, 0.03), LON0 + rng.uniform(-0.04, 0.04)
        rows.append(
            {
                "source_id": f"r{i}",
                "plate": rng.choice(plates),
                "ts": ts.isoformat(),
                "camera": f"cam{camera}",
                "lat": round(lat, 6),
                "lon": round(lon, 6),
                "state": rng.choice(["OR", "WA", "CA", ""]),
                "confidence": rng.choice(["", round(rng.uniform(0.3, 1.0), 3)]),
            }
        )
    # Companions: two plates behind each of three leaders, at the same camera within two minutes; and the
    # leader read again by the same camera, the state read once and not the other time.
    for leader in plates[:3]:
        for i, r in enumerate([r for r in rows if r["plate"] == leader]):
            for k, follower in enumerate(plates[plates.index(leader) + 1 : plates.index(leader) + 3]):
                if rng.random() < 0.8:
                    ts = dt.datetime.fromisoformat(r["ts"]) + dt.timedelta(seconds=rng.randint(-120, 120))
                    rows.append(
                        {**r, "source_id": f"f{leader}{i}{k}", "plate": follower, "ts": ts.isoformat()}
                    )
            if rng.random() < 0.4:
                ts = dt.datetime.fromisoformat(r["ts"]) + dt.timedelta(seconds=rng.randint(1, 30))
                state = "" if r["state"] else "OR"
                rows.append({**r, "source_id": f"d{leader}{i}", "ts": ts.isoformat(), "state": state})
    return rows


def _build(tmp: Path, seed: int, n: int) -> tuple[Town, str]:
    db = new_database(tmp, "brute")
    cli = _cli(db, tmp / "data")
    cli("init", "--admin", "boss")
    cli("users", "add", "ana", "--role", "analyst", "--user", "boss")
    cli("users", "train", "ana", "--user", "boss")
    cli("users", "add", "tess", "--role", "trainer", "--user", "boss")  # holds reveal data: the
    cli("users", "train", "boss", "--user", "tess")  # administrator is trained too, by a trainer
    cli("cases", "open", "26-01234", "--offense", "burglary", "--assign", "ana", "--user", "boss")
    rng = random.Random(seed)
    plates = ["".join(rng.choice(ALPHABET) for _ in range(rng.randint(5, 7))) for _ in range(60)]
    rows = _random_reads(rng, plates, n)
    cli("import-reads", str(_write_csv(tmp / "reads.csv", rows)), "--user", "boss")
    return Town(cli, rows, plates, rng, tmp), db


@pytest.fixture(scope="module")
def town(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Town]:
    """A random town of ~1,400 reads, read-only for the tests that share it."""
    built, db = _build(tmp_path_factory.mktemp("brute"), seed=20261130, n=1200)
    yield built
    drop_database(db)


@pytest.fixture
def own_town(tmp_path: Path) -> Iterator[Town]:
    """A smaller random town a test may change."""
    built, db = _build(tmp_path, seed=7, n=600)
    yield built
    drop_database(db)


# -- plain Python answers --------------------------------------------------------------------------------


def local(ts: str) -> dt.datetime:
    """A time as the CSV gives it: the department's local time, naive."""
    t = dt.datetime.fromisoformat(ts)
    return t.astimezone(TZ).replace(tzinfo=None) if t.tzinfo else t


def metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    h = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * 6_371_008.8 * math.asin(math.sqrt(h))


def pattern_matches(pattern: str, plate: str) -> bool:
    if not re.search(r"[?*\[]", pattern):
        return pattern in plate
    regex = re.sub(r"\\\?", ".", re.sub(r"\\\*", ".*", re.escape(pattern)))
    regex = regex.replace("\\[", "[").replace("\\]", "]")
    return re.fullmatch(regex, plate) is not None


def edits(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def key(r: dict[str, Any]) -> tuple[str, dt.datetime, str]:
    """A read as both sides can name it: plate, local time, camera."""
    return r["plate"], local(r["ts"]), r["camera"]


def some_time(rng: random.Random, hours: int, span: tuple[int, int]) -> tuple[dt.datetime, dt.datetime]:
    since = START + dt.timedelta(hours=rng.randint(0, hours))
    return since, since + dt.timedelta(hours=rng.randint(*span))


# -- the checks ------------------------------------------------------------------------------------------


def test_canvass_of_one_or_several_scenes_agrees(town: Town) -> None:
    rng = town.rng
    for _ in range(8):
        places = [
            (LAT0 + rng.uniform(-0.02, 0.02), LON0 + rng.uniform(-0.03, 0.03))
            for _ in range(rng.randint(1, 3))
        ]
        radius = rng.choice([300, 800, 1500])
        since, until = some_time(rng, 100, (2, 30))
        at = [a for lat, lon in places for a in ("--at", f"{lat},{lon}")]
        window = ["--from", since.isoformat(), "--to", until.isoformat()]
        got = town.ask("canvass", *at, "--radius", str(radius), *window)
        expected = [
            (i, *key(r))
            for i, (lat, lon) in enumerate(places, start=1)
            for r in town.rows
            if since <= local(r["ts"]) <= until and metres(lat, lon, r["lat"], r["lon"]) <= radius
        ]
        assert sorted((r["scene"], *key(r)) for r in got["rows"]) == sorted(expected)
        for r in got["rows"]:
            lat, lon = places[r["scene"] - 1]
            assert r["distance_m"] == pytest.approx(metres(lat, lon, r["lat"], r["lon"]), abs=0.1)


def test_common_plates_agree(town: Town) -> None:
    rng = town.rng
    for _ in range(6):
        scenes = []
        for _ in range(rng.randint(2, 4)):
            since, until = some_time(rng, 100, (5, 40))
            lat, lon = LAT0 + rng.uniform(-0.02, 0.02), LON0 + rng.uniform(-0.03, 0.03)
            scenes.append((lat, lon, rng.choice([500, 1500, 3000]), since, until))
        least = rng.randint(1, len(scenes))
        args = [
            a
            for s in scenes
            for a in ("--scene", ",".join(str(v) if i < 3 else v.isoformat() for i, v in enumerate(s)))
        ]
        got = town.ask("common", *args, "--min", str(least))
        seen: dict[tuple[str, str], set[int]] = {}  # a plate is its text and its state (GLOSSARY.md)
        for i, (lat, lon, radius, since, until) in enumerate(scenes):
            for r in town.rows:
                if since <= local(r["ts"]) <= until and metres(lat, lon, r["lat"], r["lon"]) <= radius:
                    seen.setdefault((r["plate"], r["state"]), set()).add(i)
        expected = {p: len(s) for p, s in seen.items() if len(s) >= least}
        assert {(r["plate"], r["state"] or ""): r["n_scenes"] for r in got["rows"]} == expected


def test_partial_patterns_and_fuzzy_search_agree(town: Town) -> None:
    rng = town.rng
    for _ in range(16):
        plate = rng.choice(town.plates)
        chars = list(plate)
        kind = rng.choice(["?", "*", "class", "contains"])
        if kind == "?":
            for i in rng.sample(range(len(chars)), 2):
                chars[i] = "?"
        elif kind == "*":
            a = rng.randint(0, len(plate) - 2)
            chars[a : a + 2] = ["*"]
        elif kind == "class":
            i = rng.randrange(len(chars))
            chars[i] = "[" + "".join(rng.sample(ALPHABET, 3)) + chars[i] + "]"
        else:
            a = rng.randint(0, len(plate) - 3)
            chars = chars[a : a + 3]
        pattern = "".join(chars)
        got = town.ask("search", "partial", pattern)
        assert sorted(key(r) for r in got["rows"]) == sorted(
            key(r) for r in town.rows if pattern_matches(pattern, r["plate"])
        )
    for _ in range(10):
        plate, most = rng.choice(town.plates), rng.randint(0, 2)
        got = town.ask("search", "fuzzy", plate, "--max-edits", str(most))
        query = plate.translate(LOOK_ALIKE)
        expected = [key(r) for r in town.rows if edits(query, r["plate"].translate(LOOK_ALIKE)) <= most]
        assert sorted(key(r) for r in got["rows"]) == sorted(expected)


def test_plate_search_and_its_filters_agree(town: Town) -> None:
    rng = town.rng
    for _ in range(14):
        plate = rng.choice(town.plates)
        exact = rng.random() < 0.4
        args, keep = ["search", "partial", plate[:2] + "*"], [lambda r, p=plate[:2]: r["plate"].startswith(p)]
        if exact:
            args, keep = ["search", "plate", plate], [lambda r, p=plate: r["plate"] == p]
        if rng.random() < 0.5:
            cameras = rng.sample([f"cam{i}" for i in range(1, 9)], 2)
            args += [a for c in cameras for a in ("--camera", c)]
            keep.append(lambda r, c=cameras: r["camera"] in c)
        if rng.random() < 0.5:
            lat, lon, m = (
                LAT0 + rng.uniform(-0.02, 0.02),
                LON0 + rng.uniform(-0.03, 0.03),
                rng.choice([500, 2000]),
            )
            args += ["--near", f"{lat},{lon},{m}"]
            keep.append(lambda r, lat=lat, lon=lon, m=m: metres(lat, lon, r["lat"], r["lon"]) <= m)
        if rng.random() < 0.5:
            least = round(rng.uniform(0.4, 0.9), 2)
            args += ["--min-confidence", str(least)]
            keep.append(lambda r, c=least: r["confidence"] != "" and r["confidence"] >= c)
        if rng.random() < 0.4:
            state = rng.choice(["OR", "WA"])
            args += ["--state", state]
            keep.append(lambda r, s=state: r["state"] == s)
        if rng.random() < 0.5:
            since, until = some_time(rng, 80, (1, 60))
            args += ["--from", since.isoformat(), "--to", until.isoformat()]
            keep.append(lambda r, a=since, b=until: a <= local(r["ts"]) <= b)
        got = town.ask(*args)
        assert sorted(key(r) for r in got["rows"]) == sorted(
            key(r) for r in town.rows if all(k(r) for k in keep)
        ), args
    capped = town.ask("search", "partial", "*[0O]*", "--limit", "7")
    assert capped["truncated"] is True and len(capped["rows"]) == 7
    whole = town.ask("search", "partial", "*[0O]*")  # the command line's page is its usual limit
    assert not whole["truncated"] and whole["total"] == len(whole["rows"]) > 20
    pages = [town.ask("search", "partial", "*[0O]*", "--limit", "7", "--page", str(k)) for k in (1, 2, 3)]
    assert [r["read_id"] for p in pages for r in p["rows"]] == [r["read_id"] for r in whole["rows"][:21]]
    assert {(p["page"], p["total"], p["page_size"]) for p in pages} == {
        (k, whole["total"], 7) for k in (1, 2, 3)
    }
    said = town.cli("search", "partial", "*[0O]*", "--limit", "7", "--page", "2", *WHY)
    assert f"rows 8-14 of {whole['total']:,} (page 2; --page 3 for the next)" in said.stderr


def test_timelines_agree(town: Town) -> None:
    for plate in town.rng.sample(town.plates, 4):
        got = town.ask("timeline", plate)
        assert [local(r["ts"]) for r in got["rows"]] == sorted(
            local(r["ts"]) for r in town.rows if r["plate"] == plate
        )


def test_convoys_agree_and_a_plate_is_never_its_own_companion(town: Town) -> None:
    rng = town.rng
    for leader in town.plates[:3]:
        window, least = rng.choice([30, 60, 90]), rng.randint(1, 3)
        got = town.ask("convoy", leader, "--window", str(window), "--min-times", str(least))
        sightings = [r for r in town.rows if r["plate"] == leader]
        expected = {}
        for other in {(r["plate"], r["state"]) for r in town.rows if r["plate"] != leader}:
            times = sum(
                any(
                    (r["plate"], r["state"]) == other
                    and r["camera"] == t["camera"]
                    and abs((local(r["ts"]) - local(t["ts"])).total_seconds()) <= window
                    for r in town.rows
                )
                for t in sightings
            )
            if times >= least:
                expected[other] = times
        assert {(r["plate"], r["state"] or ""): r["times"] for r in got["rows"]} == expected
        assert expected, "the town plants companions for its leaders"


def test_clones_agree(town: Town) -> None:
    for kmh, apart in [(60, 1000), (100, 3000), (200, 5000)]:
        got = town.ask("clones", "--min-kmh", str(kmh), "--min-distance", str(apart))
        per_plate: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for r in town.rows:
            per_plate.setdefault((r["plate"], r["state"]), []).append(r)
        expected = set()
        for (plate, state), reads in per_plate.items():
            reads.sort(key=lambda r: local(r["ts"]))
            for a, b in itertools.combinations(reads, 2):  # any two reads: a chain of short hops too
                d, s = (
                    metres(a["lat"], a["lon"], b["lat"], b["lon"]),
                    (local(b["ts"]) - local(a["ts"])).total_seconds(),
                )
                if d >= apart and (s <= 0 or d / s * 3.6 >= kmh):
                    expected.add((plate, state, local(a["ts"]), local(b["ts"])))
        assert {
            (r["plate"], r["state"] or "", local(r["first_ts"]), local(r["second_ts"])) for r in got["rows"]
        } == expected


def test_alerts_of_new_reads_agree(own_town: Town) -> None:
    rng, town = own_town.rng, own_town
    entries = []
    for plate in rng.sample(town.plates, 8):
        listed = "".join(c.translate(LOOK_ALIKE) if rng.random() < 0.3 else c for c in plate)
        expiry = rng.choice(["", "2020-01-01", "2030-01-01T00:00"])
        entries.append(
            {"plate": listed, "reason": "stolen vehicle", "state": rng.choice(["OR", ""]), "expiry": expiry}
        )
    town.cli("hotlist", "import", str(_write_csv(town.folder / "hot.csv", entries)), "--user", "boss")
    groups = {"0": "0ODQ", "1": "1IL", "2": "2Z", "5": "5S", "6": "6G", "8": "8B"}
    new = []
    for i in range(400):
        plate = rng.choice(town.plates + [e["plate"] for e in entries])
        plate = "".join(
            rng.choice(groups[c.translate(LOOK_ALIKE)])
            if c.translate(LOOK_ALIKE) in groups and rng.random() < 0.3
            else c
            for c in plate
        )
        ts = START + dt.timedelta(days=5, seconds=rng.randint(0, 86400))
        new.append(
            {
                "source_id": f"n{i}",
                "plate": plate,
                "ts": ts.isoformat(),
                "lat": LAT0,
                "lon": LON0,
                "camera": "cam1",
                "state": rng.choice(["OR", ""]),
            }
        )
    town.cli("import-reads", str(_write_csv(town.folder / "new.csv", new)), "--user", "boss")
    got = json.loads(
        town.cli(
            "alerts",
            "list",
            "--purpose",
            "hit-verification",
            "--reason",
            "shift check",
            "--user",
            "ana",
            "--json",
        ).output
    )
    expected = {
        (r["plate"], local(r["ts"]), e["plate"])
        for r in new
        for e in entries
        if e["expiry"] != "2020-01-01"  # expired before the reads came in
        and len(r["plate"]) == len(e["plate"])
        and r["plate"].translate(LOOK_ALIKE) == e["plate"].translate(LOOK_ALIKE)
        and sum(a != b for a, b in zip(r["plate"], e["plate"], strict=True)) <= 2
    }
    assert {(a["read_plate"], local(a["ts"]), a["listed_plate"]) for a in got["rows"]} == expected
    assert expected, "the hotlist's plates are read"


def test_purge_with_holds_agrees(own_town: Town) -> None:
    rng, town = own_town.rng, own_town
    holds = []
    for plate in rng.sample(town.plates[:3], 2) + rng.sample(town.plates[3:], 1):  # leaders: several states
        since, until = some_time(rng, 48, (1, 48))
        window = ["--from", since.isoformat(), "--to", until.isoformat()]
        town.cli(
            "hold",
            "add",
            "--plate",
            plate,
            *window,
            "--case",
            "26-05555",
            "--reason",
            "kept for a case",
            "--user",
            "boss",
        )
        holds.append((plate, since, until))
    before = town.ask("search", "partial", f"*[{ALPHABET}]*", "--limit", "100000")["rows"]
    kept_ids = {r["read_id"] for r in rng.sample(before, 3)}
    by_id = [a for i in sorted(kept_ids) for a in ("--read", str(i))]
    town.cli("hold", "add", *by_id, "--case", "26-05556", "--reason", "kept for a case", "--user", "boss")
    now = START + dt.timedelta(days=32, hours=rng.randint(0, 60), minutes=rng.randint(0, 59))
    with pytest.MonkeyPatch.context() as period:  # the purge of 30 days (the default setting) at ``now``;
        period.setenv("WORKBENCH_RETENTION_DAYS", "30")  # the searches keep the tests' long period
        town.cli("purge", "--now", now.isoformat(), "--yes", "--user", "boss")
    after = town.ask("search", "partial", f"*[{ALPHABET}]*", "--limit", "100000")["rows"]
    cutoff = now - dt.timedelta(days=30)

    def kept(r: dict[str, Any]) -> bool:
        t = local(r["ts"])
        held = any(r["plate"] == p and a <= t <= b for p, a, b in holds)
        return t >= cutoff or held or r["read_id"] in kept_ids

    assert {r["read_id"] for r in after} == {r["read_id"] for r in before if kept(r)}
    assert len(after) < len(before)
