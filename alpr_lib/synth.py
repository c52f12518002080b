"""The synthetic city: a deterministic month of ALPR reads around Florence, Oregon.

Used for the demo, for training and for tests: every plate in it is made up. The
generator lays fixed cameras along real-looking corridors (US-101, the Siuslaw River
bridge, OR-126 to Mapleton, Old Town and the port, Rhododendron Drive, 35th Street),
adds a few patrol cars with mobile readers, and drives a vehicle population through
it: commuters with home and work places, residents running errands, out-of-state
visitors and commercial vehicles, following daily and weekly traffic curves. A share
of reads are *misreads* with confusable characters and low confidence.

On top of that background it plants scenarios with known answers, listed in the
city's ``manifest``: a stolen vehicle on a hotlist, a suspect car seen near three
burglary scenes, two vehicles travelling in convoy, a cloned plate seen in two places
too far apart, and a witness's partial plate.

>>> city = generate(CityConfig(reads=5_000, seed=7, start=dt.date(2026, 11, 1)))
>>> city.reads.height
5000
"""

from __future__ import annotations

import datetime as dt
import heapq
import math
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from .plates import DEFAULT_EQUIVALENCE_CLASSES, PLATE_FORMATS
from .vehicles import compass

__all__ = ["CENTER", "CityConfig", "SyntheticCity", "generate"]

CENTER = (43.9826, -124.0998)  # Florence, Oregon
DEPARTMENT_TZ = "America/Los_Angeles"

# Corridors as polylines of (lat, lon). Shared vertices are junctions.
_CORRIDORS: dict[str, tuple[str, list[tuple[float, float]]]] = {
    "US101N": (
        "US-101 north of the bridge",
        [
            (44.0600, -124.1150),
            (44.0300, -124.1110),
            (44.0000, -124.1050),
            (43.9830, -124.1000),
            (43.9760, -124.1025),
            (43.9720, -124.1040),
            (43.9690, -124.1068),
        ],
    ),
    "BRIDGE": (
        "Siuslaw River bridge (US-101)",
        [(43.9690, -124.1068), (43.9640, -124.1100), (43.9590, -124.1130)],
    ),
    "US101S": (
        "US-101 south of the bridge (Glenada, Dunes City)",
        [(43.9590, -124.1130), (43.9450, -124.1150), (43.9250, -124.1170), (43.9000, -124.1200)],
    ),
    "OR126": (
        "OR-126 east to Mapleton",
        [
            (43.9830, -124.1000),
            (43.9850, -124.0800),
            (43.9920, -124.0500),
            (44.0020, -124.0000),
            (44.0180, -123.9300),
            (44.0310, -123.8700),
        ],
    ),
    "PORT": (
        "Bay Street, Old Town and the Port of Siuslaw",
        [(43.9720, -124.1040), (43.9680, -124.1010), (43.9675, -124.0960), (43.9700, -124.0900)],
    ),
    "RHODY": (
        "Rhododendron Drive and Heceta Beach Road",
        [
            (43.9760, -124.1025),
            (43.9780, -124.1150),
            (43.9900, -124.1300),
            (44.0100, -124.1250),
            (44.0300, -124.1110),
        ],
    ),
    "35TH": (
        "35th Street",
        [(44.0000, -124.1050), (44.0000, -124.0950), (44.0000, -124.0850)],
    ),
}
# What a map of the town shows besides the corridors: their short names, the coast and the river, local
# streets (no cameras on them) and place names. Coordinates are (lat, lon); all of it is made up to look
# like the place, as the plates are.
_STREET_NAMES = {
    "US101N": "US-101", "BRIDGE": "US-101", "US101S": "US-101", "OR126": "OR-126", "PORT": "Bay St",
    "RHODY": "Rhododendron Dr", "35TH": "35th St",
}  # fmt: skip
_COAST = [(44.4000, -124.1100), (44.0700, -124.1290), (44.0400, -124.1330), (44.0100, -124.1400),
          (43.9900, -124.1420),
          (43.9700, -124.1400), (43.9550, -124.1390), (43.9300, -124.1380), (43.9000, -124.1400),
          (43.8800, -124.1420), (43.6000, -124.1900)]  # fmt: skip
_RIVER = [(43.9580, -124.1390), (43.9620, -124.1250), (43.9650, -124.1100), (43.9680, -124.0980),
          (43.9700, -124.0850), (43.9760, -124.0650), (43.9850, -124.0400), (43.9980, -124.0050),
          (44.0150, -123.9400), (44.0290, -123.8750)]  # fmt: skip
_STREETS: dict[str, list[tuple[float, float]]] = {
    "Quince St": [(43.9705, -124.1000), (43.9800, -124.0985), (43.9900, -124.0975)],
    "Kingwood St": [(43.9700, -124.1075), (43.9800, -124.1060), (43.9900, -124.1045)],
    "9th St": [(43.9790, -124.1120), (43.9790, -124.0990), (43.9790, -124.0900)],
    "27th St": [(43.9930, -124.1100), (43.9930, -124.0990), (43.9930, -124.0880)],
    "Spruce St": [(43.9745, -124.1035), (43.9745, -124.0940)],
    "Munsel Lake Rd": [(44.0000, -124.0950), (44.0100, -124.0900), (44.0200, -124.0880)],
    "Heceta Beach Rd": [(44.0100, -124.1250), (44.0150, -124.1150), (44.0200, -124.1110)],
    "Ocean Dunes Dr": [(43.9830, -124.1160), (43.9880, -124.1220)],
    "Canary Rd": [(43.9450, -124.1150), (43.9400, -124.0950), (43.9300, -124.0800)],
}
_PLACES = {
    "Florence": (43.9826, -124.0998), "Old Town": (43.9665, -124.1030), "Glenada": (43.9560, -124.1070),
    "Dunes City": (43.9030, -124.1050), "Heceta Beach": (44.0330, -124.1210),
    "Mapleton": (44.0300, -123.8700), "Cushman": (43.9930, -124.0250), "Pacific Ocean": (43.9700, -124.1560),
    "Siuslaw River": (43.9750, -124.0700),
}  # fmt: skip


def _geography() -> list[dict[str, Any]]:
    """The map's features besides the corridors (GeoJSON, with a ``kind``: coast, river, street, place)."""

    def line(points: list[tuple[float, float]]) -> dict[str, Any]:
        return {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in points]}

    sea = [[lon, lat] for lat, lon in _COAST] + [
        [-124.25, 43.88],
        [-124.25, 44.07],
        [_COAST[0][1], _COAST[0][0]],
    ]
    features: list[dict[str, Any]] = [
        {"type": "Feature", "properties": {"kind": "sea", "name": "Pacific Ocean"},
         "geometry": {"type": "Polygon", "coordinates": [sea]}},
        {"type": "Feature", "properties": {"kind": "river", "name": "Siuslaw River"},
         "geometry": line(_RIVER)},
    ]  # fmt: skip
    for name, points in _STREETS.items():
        features.append(
            {"type": "Feature", "properties": {"kind": "street", "name": name}, "geometry": line(points)}
        )
    for name, (lat, lon) in _PLACES.items():
        features.append(
            {"type": "Feature", "properties": {"kind": "place", "name": name},
             "geometry": {"type": "Point", "coordinates": [lon, lat]}}
        )  # fmt: skip
    return features


# Corridor ends where visitors enter and leave town.
_GATEWAYS = [(44.0600, -124.1150), (43.9000, -124.1200), (44.0310, -123.8700)]

# Relative traffic by local hour (0-23) and by weekday (Monday first).
_HOURLY = np.array(
    [
        0.4,
        0.25,
        0.2,
        0.2,
        0.35,
        0.9,
        2.2,
        4.5,
        5.5,
        4.6,
        4.4,
        4.8,
        5.2,
        5.0,
        4.9,
        5.3,
        6.0,
        6.2,
        5.0,
        3.8,
        2.9,
        2.1,
        1.4,
        0.8,
    ]
)
_WEEKDAY = np.array([1.0, 1.0, 1.0, 1.05, 1.15, 1.2, 0.85])

_LETTERS = np.array(list("ABCDEFGHJKLMNPRSTUVWXYZ"))  # no I, O, Q on issued plates
_DIGITS = np.array(list("0123456789"))
_ALNUM = list("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


@dataclass(frozen=True)
class CityConfig:
    """What to generate. ``start`` is the first local day; the city covers ``days`` days."""

    reads: int = 200_000
    seed: int = 7
    start: dt.date = dt.date(2026, 11, 1)
    days: int = 30
    fixed_cameras: int = 40
    mobile_units: int = 3
    misread_rate: float = 0.03
    timezone: str = DEPARTMENT_TZ

    def __post_init__(self) -> None:
        if self.reads < 1_000:
            raise ValueError("the synthetic city needs at least 1,000 reads")
        if not 20 <= self.fixed_cameras <= 60:
            raise ValueError("fixed_cameras must be between 20 and 60")
        if self.days < 7:
            raise ValueError("the synthetic city covers at least 7 days")
        if not 0 <= self.misread_rate < 0.5:
            raise ValueError("misread_rate must be between 0 and 0.5")


@dataclass
class SyntheticCity:
    """A generated city: cameras, reads, hotlist entries, the scenario manifest, the roads."""

    config: CityConfig
    cameras: pl.DataFrame
    reads: pl.DataFrame
    hotlist: pl.DataFrame
    manifest: dict[str, Any]
    roads: dict[str, Any] = field(repr=False)


# -- geometry ---------------------------------------------------------------------------------


def _metres(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = math.sin((lat2 - lat1) / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    return 2 * 6_371_000 * math.asin(math.sqrt(h))


def _bearing(a: tuple[float, float], b: tuple[float, float]) -> float:
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    y = math.sin(lon2 - lon1) * math.cos(lat2)
    x = math.cos(lat1) * math.sin(lat2) - math.sin(lat1) * math.cos(lat2) * math.cos(lon2 - lon1)
    return (math.degrees(math.atan2(y, x)) + 360) % 360


def _along(line: list[tuple[float, float]], d: float) -> tuple[tuple[float, float], float]:
    """The point ``d`` metres along a polyline, and the bearing there."""
    for a, b in zip(line, line[1:], strict=False):
        seg = _metres(a, b)
        if d <= seg or b == line[-1]:
            f = min(max(d / seg, 0.0), 1.0) if seg else 0.0
            return (a[0] + f * (b[0] - a[0]), a[1] + f * (b[1] - a[1])), _bearing(a, b)
        d -= seg
    return line[-1], 0.0


def _length(line: list[tuple[float, float]]) -> float:
    return sum(_metres(a, b) for a, b in zip(line, line[1:], strict=False))


@dataclass
class _Network:
    cameras: pl.DataFrame  # name, kind, lat, lon, heading, location
    places: np.ndarray  # (n, 2) lat/lon of trip endpoints
    place_weight: np.ndarray
    gateways: np.ndarray  # indices into places
    pair_offsets: np.ndarray  # CSR over pairs (origin * n + dest) -> cameras on the path
    pair_cams: np.ndarray
    pair_dist: np.ndarray  # metres from the origin to each camera
    roads: dict[str, Any]

    def pairs_through(self, camera: int) -> np.ndarray:
        hit = np.flatnonzero(self.pair_cams == camera)
        return np.searchsorted(self.pair_offsets, hit, side="right") - 1


def _build_network(n_fixed: int, n_mobile: int) -> _Network:
    lengths = {code: _length(line) for code, (_, line) in _CORRIDORS.items()}
    total = sum(lengths.values())
    # Each corridor gets at least two cameras; the rest in proportion to its length.
    alloc = {code: 2 for code in _CORRIDORS}
    spare = n_fixed - 2 * len(alloc)
    shares = {code: spare * lengths[code] / total for code in _CORRIDORS}
    for code in alloc:
        alloc[code] += int(shares[code])
    for code in sorted(shares, key=lambda c: shares[c] - int(shares[c]), reverse=True):
        if sum(alloc.values()) >= n_fixed:
            break
        alloc[code] += 1

    cam_rows: list[dict[str, Any]] = []
    node_index: dict[tuple[float, float], int] = {}
    coords: list[tuple[float, float]] = []
    node_camera: dict[int, int] = {}
    edges: dict[int, list[tuple[int, float]]] = {}
    places: list[int] = []

    def node(p: tuple[float, float]) -> int:
        key = (round(p[0], 6), round(p[1], 6))
        if key not in node_index:
            node_index[key] = len(coords)
            coords.append(p)
        return node_index[key]

    features = []
    for code, (label, line) in _CORRIDORS.items():
        length = lengths[code]
        k = alloc[code]
        points: list[tuple[float, int]] = []  # (distance along, node)
        acc = 0.0
        for a, b in zip(line, line[1:], strict=False):
            points.append((acc, node(a)))
            acc += _metres(a, b)
        points.append((length, node(line[-1])))
        for j in range(k):
            d = length * (j + 0.5) / k
            p, heading = _along(line, d)
            n = node(p)
            node_camera[n] = len(cam_rows)
            cam_rows.append(
                {
                    "name": f"{code}-{j + 1:02d}",
                    "kind": "fixed",
                    "lat": round(p[0], 6),
                    "lon": round(p[1], 6),
                    "heading": round(heading, 1),
                    "location": label,
                }
            )
            points.append((d, n))
        points.sort()
        # Trip endpoints sit between consecutive points, so trips start and end off-camera.
        for (d1, n1), (d2, n2) in zip(points, points[1:], strict=False):
            if d2 - d1 < 1:
                continue
            mid, _ = _along(line, (d1 + d2) / 2)
            m = node(mid)
            places.append(m)
            for u, v, w in ((n1, m, (d2 - d1) / 2), (m, n2, (d2 - d1) / 2)):
                edges.setdefault(u, []).append((v, w))
                edges.setdefault(v, []).append((u, w))
        features.append(
            {
                "type": "Feature",
                "properties": {"name": label, "code": code, "kind": "road", "street": _STREET_NAMES[code]},
                "geometry": {"type": "LineString", "coordinates": [[lon, lat] for lat, lon in line]},
            }
        )
    gateway_nodes = [node(g) for g in _GATEWAYS]
    places.extend(gateway_nodes)
    place_arr = np.array(places)

    # Shortest paths from every place; record the cameras passed and their distances.
    n_places = len(place_arr)
    offsets = [0]
    cams: list[int] = []
    dists: list[float] = []
    for origin in place_arr:
        dist = {int(origin): 0.0}
        prev: dict[int, int] = {}
        heap = [(0.0, int(origin))]
        while heap:
            d, u = heapq.heappop(heap)
            if d > dist[u]:
                continue
            for v, w in edges.get(u, []):
                if d + w < dist.get(v, math.inf):
                    dist[v] = d + w
                    prev[v] = u
                    heapq.heappush(heap, (d + w, v))
        for dest in place_arr:
            path = []
            n = int(dest)
            while n != origin and n in prev:
                path.append(n)
                n = prev[n]
            for n in reversed(path):
                if n in node_camera:
                    cams.append(node_camera[n])
                    dists.append(dist[n])
            offsets.append(len(cams))

    for u in range(n_mobile):
        cam_rows.append(
            {
                "name": f"PATROL-{u + 1}",
                "kind": "mobile",
                "lat": None,
                "lon": None,
                "heading": None,
                "location": "mobile reader on a patrol car",
            }
        )
    coords_arr = np.array(coords)
    place_xy = coords_arr[place_arr]
    # Town places are busier than the far ends of the corridors.
    d_center = np.array([_metres((lat, lon), CENTER) for lat, lon in place_xy])
    weight = 1.0 / (1.0 + d_center / 2_500.0)
    return _Network(
        cameras=pl.DataFrame(
            cam_rows,
            schema={
                "name": pl.String,
                "kind": pl.String,
                "lat": pl.Float64,
                "lon": pl.Float64,
                "heading": pl.Float64,
                "location": pl.String,
            },
        ),
        places=place_xy,
        place_weight=weight / weight.sum(),
        gateways=np.arange(n_places - len(gateway_nodes), n_places),
        pair_offsets=np.array(offsets, dtype=np.int64),
        pair_cams=np.array(cams, dtype=np.int64),
        pair_dist=np.array(dists),
        roads={"type": "FeatureCollection", "features": features + _geography()},
    )


# -- time ------------------------------------------------------------------------------------


def _day_starts(cfg: CityConfig) -> tuple[np.ndarray, np.ndarray]:
    """UTC epoch seconds of each local midnight, and each day's weekday (Monday 0)."""
    tz = zoneinfo.ZoneInfo(cfg.timezone)
    starts, weekdays = [], []
    for d in range(cfg.days):
        day = cfg.start + dt.timedelta(days=d)
        starts.append(dt.datetime(day.year, day.month, day.day, tzinfo=tz).timestamp())
        weekdays.append(day.weekday())
    return np.array(starts), np.array(weekdays)


def _local_seconds(rng: np.random.Generator, n: int, hourly: np.ndarray = _HOURLY) -> np.ndarray:
    hours = rng.choice(24, size=n, p=hourly / hourly.sum())
    return hours * 3600 + rng.uniform(0, 3600, n)


# -- plates ----------------------------------------------------------------------------------

_STATE_MIX = {
    "resident": {"OR": 0.93, "WA": 0.03, "CA": 0.02, "ID": 0.01, "NV": 0.01},
    "visitor": {"OR": 0.35, "WA": 0.25, "CA": 0.25, "ID": 0.08, "NV": 0.07},
    "commercial": {"OR": 0.70, "WA": 0.15, "CA": 0.10, "ID": 0.05},
}


def _make_plates(rng: np.random.Generator, states: np.ndarray, taken: set[str]) -> np.ndarray:
    """One new plate per vehicle, in its state's standard layout, none already in ``taken``."""
    out = np.empty(len(states), dtype=object)
    todo = np.arange(len(states))
    while len(todo):
        for state in np.unique(states[todo]):
            idx = todo[states[todo] == state]
            fmts = [f for f in PLATE_FORMATS if f.state == state]
            which = rng.integers(0, len(fmts), len(idx))
            for fi, fmt in enumerate(fmts):
                sub = idx[which == fi]
                cols = [
                    (rng.choice(_DIGITS, len(sub)) if ch == "9" else rng.choice(_LETTERS, len(sub)))
                    for ch in fmt.template
                ]
                joined = np.array(["".join(chars) for chars in zip(*cols, strict=True)], dtype=object)
                out[sub] = joined
        retry = []
        for i in todo:
            if out[i] in taken:
                retry.append(i)
            else:
                taken.add(out[i])
        todo = np.array(retry, dtype=np.int64)
    return out


def _states(rng: np.random.Generator, kind: str, n: int) -> np.ndarray:
    mix = _STATE_MIX[kind]
    return rng.choice(np.array(list(mix)), size=n, p=np.array(list(mix.values())))


_CONFUSABLE = {
    ch: [o for o in group if o != ch] for group in DEFAULT_EQUIVALENCE_CLASSES.groups for ch in group
}


def _misread(rng: np.random.Generator, plate: str) -> str:
    """A plausible OCR error: a confusable swap mostly, else a wrong or a dropped character."""
    roll = rng.random()
    swappable = [i for i, ch in enumerate(plate) if ch in _CONFUSABLE]
    if roll < 0.75 and swappable:
        i = swappable[int(rng.integers(len(swappable)))]
        alts = _CONFUSABLE[plate[i]]
        return plate[:i] + alts[int(rng.integers(len(alts)))] + plate[i + 1 :]
    i = int(rng.integers(len(plate)))
    if roll < 0.9 or len(plate) <= 5:
        choices = [c for c in _ALNUM if c != plate[i]]
        return plate[:i] + choices[int(rng.integers(len(choices)))] + plate[i + 1 :]
    return plate[:i] + plate[i + 1 :]


# -- trips -----------------------------------------------------------------------------------


@dataclass
class _Trips:
    vehicle: list[np.ndarray] = field(default_factory=list)
    start: list[np.ndarray] = field(default_factory=list)  # UTC epoch seconds
    pair: list[np.ndarray] = field(default_factory=list)
    speed: list[np.ndarray] = field(default_factory=list)  # metres per second

    def add(self, vehicle: np.ndarray, start: np.ndarray, pair: np.ndarray, speed: np.ndarray) -> None:
        self.vehicle.append(np.asarray(vehicle, dtype=np.int64))
        self.start.append(np.asarray(start, dtype=np.float64))
        self.pair.append(np.asarray(pair, dtype=np.int64))
        self.speed.append(np.asarray(speed, dtype=np.float64))

    def expand(self, net: _Network, rng: np.random.Generator, jitter_s: float = 4.0) -> dict[str, np.ndarray]:
        """Turn trips into reads: one per camera on each trip's path."""
        vehicle, start = np.concatenate(self.vehicle), np.concatenate(self.start)
        pair, speed = np.concatenate(self.pair), np.concatenate(self.speed)
        counts = net.pair_offsets[pair + 1] - net.pair_offsets[pair]
        trip = np.repeat(np.arange(len(pair)), counts)
        pos = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
        flat = net.pair_offsets[pair[trip]] + pos
        ts = start[trip] + net.pair_dist[flat] / speed[trip] + rng.uniform(0, jitter_s, len(trip))
        camera = net.pair_cams[flat]
        return {
            "vehicle": vehicle[trip],
            "camera": camera,
            "ts": ts,
            "bearing": _travel_bearing(net, camera, trip),
        }


def _travel_bearing(net: _Network, camera: np.ndarray, trip: np.ndarray) -> np.ndarray:
    """Each read's direction of travel in degrees: from its camera to the trip's next camera (from the
    previous one at the trip's last camera); the camera's own heading on a trip that passes only one."""
    xy = np.radians(net.cameras.select("lat", "lon").to_numpy())
    heading = net.cameras["heading"].fill_null(float("nan")).to_numpy()
    n = len(camera)
    if n == 0:
        return np.zeros(0)
    nxt = np.minimum(np.arange(n) + 1, n - 1)
    prv = np.maximum(np.arange(n) - 1, 0)
    has_next = (trip[nxt] == trip) & (nxt != np.arange(n))
    has_prev = (trip[prv] == trip) & (prv != np.arange(n))
    a = np.where(has_next, camera, camera[prv])
    b = np.where(has_next, camera[nxt], camera)
    (lat1, lon1), (lat2, lon2) = xy[a].T, xy[b].T
    y = np.sin(lon2 - lon1) * np.cos(lat2)
    x = np.cos(lat1) * np.sin(lat2) - np.sin(lat1) * np.cos(lat2) * np.cos(lon2 - lon1)
    bearing = (np.degrees(np.arctan2(y, x)) + 360) % 360
    return np.where(has_next | has_prev, bearing, heading[camera])


#: Vehicle descriptions: (make, model, body) by the share of the fleet, and colours by their share.
_MODELS: tuple[tuple[str, str, str, float], ...] = (
    ("Ford", "F-150", "pickup", 0.08), ("Chevrolet", "Silverado", "pickup", 0.06),
    ("Toyota", "Tacoma", "pickup", 0.05), ("Ram", "1500", "pickup", 0.04), ("Toyota", "Camry", "sedan", 0.06),
    ("Honda", "Civic", "sedan", 0.06), ("Honda", "Accord", "sedan", 0.04),
    ("Nissan", "Altima", "sedan", 0.03),
    ("Toyota", "RAV4", "suv", 0.07), ("Honda", "CR-V", "suv", 0.06), ("Subaru", "Outback", "wagon", 0.07),
    ("Subaru", "Forester", "suv", 0.05), ("Jeep", "Cherokee", "suv", 0.04), ("Ford", "Explorer", "suv", 0.04),
    ("Chevrolet", "Equinox", "suv", 0.03), ("Toyota", "Sienna", "minivan", 0.03),
    ("Honda", "Odyssey", "minivan", 0.02), ("Mazda", "3", "hatchback", 0.03),
    ("Volkswagen", "Golf", "hatchback", 0.02), ("Ford", "Transit", "van", 0.03),
    ("Ford", "Mustang", "coupe", 0.02), ("Tesla", "Model 3", "sedan", 0.03),
    ("Hyundai", "Tucson", "suv", 0.04),
)  # fmt: skip
_COMMERCIAL: tuple[tuple[str, str, str], ...] = (
    ("Ford", "Transit", "van"), ("Ram", "ProMaster", "van"), ("Freightliner", "M2", "truck"),
    ("Isuzu", "NPR", "truck"), ("Chevrolet", "Silverado", "pickup"),
)  # fmt: skip
_COLOURS = (("white", 0.25), ("black", 0.20), ("gray", 0.17), ("silver", 0.12), ("blue", 0.09),
            ("red", 0.09), ("brown", 0.03), ("green", 0.03), ("beige", 0.01), ("yellow", 0.005),
            ("orange", 0.005))  # fmt: skip
#: The planted scenarios' vehicles, as a witness or a camera describes them.
SCENARIO_VEHICLES: dict[str, tuple[str, str, str, str]] = {
    "stolen": ("Honda", "Accord", "silver", "sedan"),
    "suspect": ("Jeep", "Cherokee", "black", "suv"),
    "convoy_target": ("Subaru", "Outback", "blue", "wagon"),
    "convoy_companion": ("Toyota", "Camry", "gray", "sedan"),
    "clone": ("Mazda", "3", "red", "hatchback"),
    "witnessed": ("Ford", "F-150", "white", "pickup"),
}


def _fleet(rng: np.random.Generator, n_private: int, n_commercial: int) -> dict[str, np.ndarray]:
    """Make, model, body type and colour of each background vehicle (private ones first)."""
    weights = np.array([m[3] for m in _MODELS])
    pick = rng.choice(len(_MODELS), n_private, p=weights / weights.sum())
    work = rng.integers(0, len(_COMMERCIAL), n_commercial)
    rows = [_MODELS[i][:3] for i in pick] + [_COMMERCIAL[i] for i in work]
    shares = np.array([c[1] for c in _COLOURS])
    colour = np.array([c[0] for c in _COLOURS])[rng.choice(len(_COLOURS), len(rows), p=shares / shares.sum())]
    return {
        "make": np.array([r[0] for r in rows], dtype=object),
        "model": np.array([r[1] for r in rows], dtype=object),
        "body": np.array([r[2] for r in rows], dtype=object),
        "color": colour.astype(object),
    }


_MAX_SPEED_MS = 45.0  # 162 km/h: faster than any honest trip on these roads


def _physically_possible(vehicle: np.ndarray, ts: np.ndarray, lat: np.ndarray, lon: np.ndarray) -> np.ndarray:
    """A mask of the reads each vehicle could really have made: none needs travel faster than
    :data:`_MAX_SPEED_MS` over more than a kilometre from the vehicle's read before it."""
    keep = np.ones(len(ts), dtype=bool)
    order = np.lexsort((ts, vehicle))
    for _ in range(8):
        idx = order[keep[order]]
        v, t, la, lo = vehicle[idx], ts[idx], np.radians(lat[idx]), np.radians(lon[idx])
        same = v[1:] == v[:-1]
        a = (
            np.sin((la[1:] - la[:-1]) / 2) ** 2
            + np.cos(la[1:]) * np.cos(la[:-1]) * np.sin((lo[1:] - lo[:-1]) / 2) ** 2
        )
        dist = 2 * 6_371_000 * np.arcsin(np.sqrt(a))
        dt_s = np.maximum(t[1:] - t[:-1], 1e-3)
        bad = same & (dist > 1000) & (dist / dt_s > _MAX_SPEED_MS)
        if not bad.any():
            break
        keep[idx[1:][bad]] = False
    return keep


def _pairs(net: _Network, origin: np.ndarray, dest: np.ndarray) -> np.ndarray:
    return origin * len(net.places) + dest


def _random_places(rng: np.random.Generator, net: _Network, n: int) -> np.ndarray:
    return rng.choice(len(net.places), size=n, p=net.place_weight)


def _speeds(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.uniform(11.0, 22.0, n)  # 40-80 km/h


# -- the generator ---------------------------------------------------------------------------


def generate(config: CityConfig | None = None, progress: Any = None) -> SyntheticCity:
    """Generate the synthetic city described by ``config`` (deterministic for a given seed).

    ``progress``, if given, is called with a short description of each stage.

    >>> a = generate(CityConfig(reads=2_000, seed=1))
    >>> b = generate(CityConfig(reads=2_000, seed=1))
    >>> a.reads.equals(b.reads)
    True
    """
    cfg = config or CityConfig()
    say = progress or (lambda _msg: None)
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(cfg.seed).spawn(4)]
    rng_pop, rng_trips, rng_noise, rng_scen = streams
    say("laying out cameras and roads")
    net = _build_network(cfg.fixed_cameras, cfg.mobile_units)
    day0, weekday = _day_starts(cfg)
    n_places = len(net.places)
    taken: set[str] = set()

    say("planting scenarios")
    scen = _Scenarios(cfg, net, day0, rng_scen, taken)
    scen_reads = scen.reads()

    say("driving the background traffic")
    target = cfg.reads - len(scen_reads["ts"])
    if target <= 0:
        raise ValueError("too few reads requested for the planted scenarios")
    pair_counts = np.diff(net.pair_offsets)
    mean_cams = float(
        (
            pair_counts.reshape(n_places, n_places) * net.place_weight[:, None] * net.place_weight[None, :]
        ).sum()
    )
    workdays = np.flatnonzero(weekday < 5)
    oversample = 1.15
    # Reads by source: commuters 38%, errands 38%, visitors 15%, commercial 5%, patrol cars 4%.
    n_comm = max(4, round(0.38 * target * oversample / (2 * 0.85 * max(len(workdays), 1) * mean_cams)))
    n_resident = max(n_comm + 2, round(n_comm / 0.6))
    errand_trips = round(0.38 * target * oversample / mean_cams / 2)
    visitor_trips = round(0.15 * target * oversample / mean_cams)
    n_visitor = max(2, visitor_trips // 8)
    commercial_trips = round(0.05 * target * oversample / mean_cams)
    n_commercial = max(1, commercial_trips // 60)
    n_mobile_reads = round(0.04 * target * oversample) if cfg.mobile_units else 0

    states = np.concatenate(
        [
            _states(rng_pop, "resident", n_resident),
            _states(rng_pop, "visitor", n_visitor),
            _states(rng_pop, "commercial", n_commercial),
        ]
    )
    plates = _make_plates(rng_pop, states, taken)
    home = _random_places(rng_pop, net, n_resident)
    work = _random_places(rng_pop, net, n_resident)
    activity = rng_pop.gamma(2.0, 1.0, n_resident)

    trips = _Trips()
    # Commuters: out in the morning, back in the afternoon, on working days.
    comm = np.arange(n_comm)
    depart = rng_trips.normal(7.6, 0.6, n_comm) * 3600
    ret = rng_trips.normal(16.9, 0.8, n_comm) * 3600
    grid_v = np.repeat(comm, len(workdays))
    grid_d = np.tile(workdays, n_comm)
    for leave, orig, dest in ((depart, home, work), (ret, work, home)):
        go = rng_trips.random(len(grid_v)) < 0.85
        v, d = grid_v[go], grid_d[go]
        t = day0[d] + leave[v] + rng_trips.normal(0, 900, len(v))
        trips.add(v, t, _pairs(net, orig[v], dest[v]), _speeds(rng_trips, len(v)))
    # Errands: any resident, any day, out and back.
    v = rng_trips.choice(n_resident, size=errand_trips, p=activity / activity.sum())
    d = rng_trips.choice(cfg.days, size=errand_trips, p=_WEEKDAY[weekday] / _WEEKDAY[weekday].sum())
    t = day0[d] + _local_seconds(rng_trips, errand_trips)
    dest = _random_places(rng_trips, net, errand_trips)
    trips.add(v, t, _pairs(net, home[v], dest), _speeds(rng_trips, errand_trips))
    back = t + rng_trips.uniform(1800, 3 * 3600, errand_trips)
    trips.add(v, back, _pairs(net, dest, home[v]), _speeds(rng_trips, errand_trips))
    # Visitors: a stay of one to four days, coming in through a gateway.
    arrive = rng_trips.integers(0, cfg.days, n_visitor)
    stay = rng_trips.integers(1, 5, n_visitor)
    vv = rng_trips.integers(0, n_visitor, visitor_trips)
    d = np.minimum(arrive[vv] + rng_trips.integers(0, stay[vv]), cfg.days - 1)
    t = day0[d] + _local_seconds(rng_trips, visitor_trips)
    origin = _random_places(rng_trips, net, visitor_trips)
    at_gate = rng_trips.random(visitor_trips) < 0.3
    origin[at_gate] = rng_trips.choice(net.gateways, at_gate.sum())
    trips.add(
        n_resident + vv,
        t,
        _pairs(net, origin, _random_places(rng_trips, net, visitor_trips)),
        _speeds(rng_trips, visitor_trips),
    )
    # Commercial vehicles: working hours, anywhere.
    vc = rng_trips.integers(0, n_commercial, commercial_trips)
    d = rng_trips.choice(workdays if len(workdays) else np.arange(cfg.days), commercial_trips)
    t = day0[d] + rng_trips.uniform(6.5, 18.0, commercial_trips) * 3600
    trips.add(
        n_resident + n_visitor + vc,
        t,
        _pairs(
            net,
            _random_places(rng_trips, net, commercial_trips),
            _random_places(rng_trips, net, commercial_trips),
        ),
        _speeds(rng_trips, commercial_trips),
    )
    bg = trips.expand(net, rng_trips)

    # Patrol cars reading parked cars near residents' homes during day shifts.
    n_fixed = cfg.fixed_cameras
    mv = rng_trips.choice(n_resident, size=n_mobile_reads, p=activity / activity.sum())
    md = rng_trips.integers(0, cfg.days, n_mobile_reads)
    mobile_ts = day0[md] + rng_trips.uniform(8, 18, n_mobile_reads) * 3600
    jitter = rng_trips.normal(0, 0.002, (n_mobile_reads, 2))
    mobile_xy = net.places[home[mv]] + jitter

    say("writing reads")
    vehicle = np.concatenate([bg["vehicle"], mv])
    camera = np.concatenate(
        [bg["camera"], n_fixed + rng_trips.integers(0, max(cfg.mobile_units, 1), n_mobile_reads)]
    )
    ts = np.concatenate([bg["ts"], mobile_ts])
    bearing = np.concatenate([bg["bearing"], np.full(n_mobile_reads, np.nan)])  # parked cars: no direction
    cam_xy = net.cameras.select("lat", "lon").to_numpy()
    lat = np.concatenate([cam_xy[bg["camera"], 0], mobile_xy[:, 0]])
    lon = np.concatenate([cam_xy[bg["camera"], 1], mobile_xy[:, 1]])
    # One vehicle is in one place at a time: trips drawn independently can overlap, so reads
    # that would need impossible travel from the vehicle's previous read are dropped.
    possible = _physically_possible(vehicle, ts, lat, lon)
    # Only reads inside the month, then exactly the number asked for.
    inside = np.flatnonzero(possible & (ts >= day0[0]) & (ts < day0[-1] + 86_400))
    if len(inside) < target:
        raise RuntimeError("the background traffic came out short; raise the oversampling")
    keep = np.sort(rng_trips.choice(inside, size=target, replace=False))
    truth = plates[vehicle[keep]]
    bg_frame = pl.DataFrame(
        {
            "true_plate": truth.astype(str),
            "state": states[vehicle[keep]].astype(str),
            "ts_s": ts[keep],
            "camera": net.cameras["name"].to_numpy()[camera[keep]],
            "lat": np.round(lat[keep], 6),
            "lon": np.round(lon[keep], 6),
            "scenario": pl.Series([None] * target, dtype=pl.String),
            "bearing": bearing[keep],
            "vehicle": vehicle[keep],
        }
    )
    say("describing the vehicles")
    # A stream of its own, so that the reads, plates and scenarios are those of a seed as before.
    rng_desc = np.random.default_rng([cfg.seed, 26])
    fleet = _fleet(rng_desc, n_resident + n_visitor, n_commercial)
    bg_frame = bg_frame.with_columns(
        pl.Series(name, fleet[name].tolist(), dtype=pl.String).gather(bg_frame["vehicle"]) for name in fleet
    ).drop("vehicle")
    frame = pl.concat(
        [bg_frame, scen.frame(scen_reads, net).select(bg_frame.columns)], how="vertical_relaxed"
    )

    say("adding misreads")
    frame = frame.sort("ts_s", "camera", "true_plate")
    n = frame.height
    is_bg = frame["scenario"].is_null().to_numpy()
    bad = (rng_noise.random(n) < cfg.misread_rate) & is_bg
    read_text = frame["true_plate"].to_numpy().astype(object)
    for i in np.flatnonzero(bad):
        read_text[i] = _misread(rng_noise, read_text[i])
    for i in np.flatnonzero(frame["scenario"].to_numpy() == "stolen_vehicle:misread"):
        read_text[i] = scen.stolen_misread
        bad[i] = True
    confidence = np.where(bad, rng_noise.uniform(0.30, 0.75, n), 1 - rng_noise.beta(1.5, 25, n))
    ts_ms = np.round(frame["ts_s"].to_numpy() * 1000).astype(np.int64)
    # A misread's second reading is most often the true plate (the reader was unsure of one character).
    second = bad & (rng_desc.random(n) < 0.7)
    second[frame["scenario"].to_numpy() == "stolen_vehicle:misread"] = True
    alt_conf = np.round(confidence * rng_desc.uniform(0.6, 0.95, n), 3)
    wrong = pl.Series(second) & (frame["true_plate"] != pl.Series(read_text.astype(str)))
    alternatives = (
        pl.when(wrong)
        .then(pl.concat_list(pl.struct(plate=frame["true_plate"], confidence=pl.Series(alt_conf))))
        .otherwise(pl.lit([], dtype=ALTERNATIVES))
    )
    # Not every camera classifies the make and model; a few miss the colour.
    no_make = rng_desc.random(n) < 0.3
    no_colour = rng_desc.random(n) < 0.05
    reads = frame.with_columns(
        plate=pl.Series(read_text.astype(str)),
        raw=pl.Series(read_text.astype(str)),
        confidence=pl.Series(np.round(confidence, 3)),
        ts=pl.Series(ts_ms),
        source_id=pl.Series([f"synth-{cfg.seed}-{i:09d}" for i in range(n)]),
        make=pl.when(pl.Series(no_make)).then(pl.lit("")).otherwise(pl.col("make")),
        model=pl.when(pl.Series(no_make)).then(pl.lit("")).otherwise(pl.col("model")),
        color=pl.when(pl.Series(no_colour)).then(pl.lit("")).otherwise(pl.col("color")),
        direction=pl.Series([compass(float(b)) for b in frame["bearing"].to_numpy()], dtype=pl.String),
        alternatives=alternatives,
    ).select(
        "source_id",
        "plate",
        "state",
        "raw",
        "confidence",
        "ts",
        "camera",
        "lat",
        "lon",
        "true_plate",
        "scenario",
        "make",
        "model",
        "color",
        "body",
        "direction",
        "alternatives",
    )
    manifest = scen.manifest(reads)
    manifest.update(
        {
            "seed": cfg.seed,
            "reads": n,
            "start": cfg.start.isoformat(),
            "days": cfg.days,
            "timezone": cfg.timezone,
            "fixed_cameras": cfg.fixed_cameras,
            "mobile_units": cfg.mobile_units,
            "vehicles": {
                "resident": n_resident,
                "commuter": n_comm,
                "visitor": n_visitor,
                "commercial": n_commercial,
            },
        }
    )
    return SyntheticCity(cfg, net.cameras, reads, scen.hotlist(rng_scen), manifest, net.roads)


# -- planted scenarios -----------------------------------------------------------------------


def _iso_ms(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, dt.UTC).isoformat().replace("+00:00", "Z")


class _Scenarios:
    """Vehicles whose reads have known answers; their trips are never thinned out."""

    def __init__(
        self, cfg: CityConfig, net: _Network, day0: np.ndarray, rng: np.random.Generator, taken: set[str]
    ) -> None:
        self.cfg, self.net, self.day0, self.rng = cfg, net, day0, rng
        names = ["stolen", "suspect", "convoy_target", "convoy_companion", "clone", "witnessed"]
        st = np.array(["OR", "OR", "WA", "WA", "OR", "CA"])
        self.plates = dict(zip(names, _make_plates(rng, st, taken), strict=True))
        self.states = dict(zip(names, st, strict=True))
        self.trips = _Trips()
        self.extra: list[tuple[str, int, float]] = []  # single planted reads: (vehicle, camera, ts)
        self.vid = {name: i for i, name in enumerate(names)}
        self.info: dict[str, Any] = {}
        days = cfg.days
        n = len(net.places)
        home = _random_places(rng, net, len(names))

        # Ordinary life for every scenario vehicle: a few errands each.
        for name, vi in self.vid.items():
            k = 8 if name == "stolen" else 5
            d = rng.integers(1, days, k)
            t = day0[d] + _local_seconds(rng, k)
            dest = _random_places(rng, net, k)
            self.trips.add(np.full(k, vi), t, _pairs(net, np.full(k, home[vi]), dest), _speeds(rng, k))
            self.trips.add(np.full(k, vi), t + 5400, _pairs(net, dest, np.full(k, home[vi])), _speeds(rng, k))

        # Burglary series: three night-time scenes near cameras on different corridors.
        cam = net.cameras
        scene_cams = []
        for code in ("RHODY", "35TH", "US101S"):
            idx = np.flatnonzero(cam["name"].str.starts_with(code + "-").to_numpy())
            scene_cams.append(int(rng.choice(idx)))
        scene_days = np.sort(rng.choice(np.arange(2, days - 1), 3, replace=False))
        scenes = []
        for c, d in zip(scene_cams, scene_days, strict=True):
            angle = rng.uniform(0, 2 * math.pi)
            off = rng.uniform(100, 200)
            lat = cam["lat"][c] + off * math.cos(angle) / 111_320
            lon = cam["lon"][c] + off * math.sin(angle) / (111_320 * math.cos(math.radians(cam["lat"][c])))
            t_from = day0[d] + 3600 * float(rng.uniform(0.5, 2.5))
            t_to = t_from + 2 * 3600
            seen = t_from + rng.uniform(900, 2 * 3600 - 900)
            self._pass_camera("suspect", c, seen)
            scenes.append(
                {
                    "lat": round(lat, 6),
                    "lon": round(lon, 6),
                    "radius_m": 400,
                    "from": _iso_ms(int(t_from * 1000)),
                    "to": _iso_ms(int(t_to * 1000)),
                    "from_ms": int(t_from * 1000),
                    "to_ms": int(t_to * 1000),
                }
            )
        self.info["burglary_series"] = {
            "plate": self.plates["suspect"],
            "state": self.states["suspect"],
            "scenes": scenes,
            "min_scenes": 3,
        }

        # Convoy: the companion follows the target through the same cameras, 20-60 s behind.
        long_pairs = [p for p in range(n * n) if net.pair_offsets[p + 1] - net.pair_offsets[p] >= 4]
        convoy_days = np.sort(rng.choice(np.arange(1, days), 5, replace=False))
        lags = []
        for d in convoy_days:
            p = int(rng.choice(long_pairs))
            t = day0[d] + rng.uniform(9, 19) * 3600
            lag = float(rng.uniform(20, 60))
            speed = float(rng.uniform(13, 20))
            self.trips.add([self.vid["convoy_target"]], [t], [p], [speed])
            self.trips.add([self.vid["convoy_companion"]], [t + lag], [p], [speed])
            lags.append(round(lag, 1))
        self.info["convoy"] = {
            "target": self.plates["convoy_target"],
            "companion": self.plates["convoy_companion"],
            "state": "WA",
            "trips": len(convoy_days),
            "lags_s": lags,
        }

        # Clone: the same plate at the Mapleton end of OR-126 and the north end of US-101 minutes apart.
        names_arr = cam["name"].to_list()
        east = max(
            (i for i, nm in enumerate(names_arr) if nm.startswith("OR126-")), key=lambda i: cam["lon"][i]
        )
        north = max(
            (i for i, nm in enumerate(names_arr) if nm.startswith("US101N-")), key=lambda i: cam["lat"][i]
        )
        d = int(rng.integers(3, days - 1))
        t1 = day0[d] + rng.uniform(10, 16) * 3600
        gap = float(rng.uniform(240, 420))
        self.extra.append(("clone", east, t1))
        self.extra.append(("clone", north, t1 + gap))
        dist = _metres((cam["lat"][east], cam["lon"][east]), (cam["lat"][north], cam["lon"][north]))
        self.info["clone"] = {
            "plate": self.plates["clone"],
            "state": "OR",
            "cameras": [names_arr[east], names_arr[north]],
            "at": [_iso_ms(int(t1 * 1000)), _iso_ms(int((t1 + gap) * 1000))],
            "distance_m": round(dist),
            "minutes": round(gap / 60, 1),
            "implied_kmh": round(dist / gap * 3.6),
        }

        # Stolen vehicle: on a hotlist, plus one misread of it at a camera (the reason to verify).
        mis = _misread_confusable(rng, self.plates["stolen"])
        self.stolen_misread = mis
        c = int(rng.integers(0, cfg.fixed_cameras))
        self.extra.append(("stolen:misread", c, day0[int(rng.integers(1, days))] + rng.uniform(8, 20) * 3600))
        self.info["stolen_vehicle"] = {
            "plate": self.plates["stolen"],
            "state": "OR",
            "hotlist": "Stolen vehicles (synthetic)",
            "misread_as": mis,
        }

        # Witness's partial plate: a hit-and-run seen near a camera on Bay Street.
        port = np.flatnonzero(cam["name"].str.starts_with("PORT-").to_numpy())
        c = int(rng.choice(port))
        d = int(rng.integers(2, days - 1))
        seen = day0[d] + rng.uniform(12, 18) * 3600
        self._pass_camera("witnessed", c, seen)
        w = self.plates["witnessed"]
        self.info["partial_plate"] = {
            "plate": w,
            "state": "CA",
            "pattern": w[0] + "?" + w[2:4] + "*",
            "camera": names_arr[c],
            "at": _iso_ms(int(seen * 1000)),
        }

    def _pass_camera(self, name: str, camera: int, at: float) -> None:
        """A trip of ``name`` that passes ``camera`` at time ``at``."""
        pairs = self.net.pairs_through(camera)
        p = int(self.rng.choice(pairs))
        lo, hi = self.net.pair_offsets[p], self.net.pair_offsets[p + 1]
        dist = float(self.net.pair_dist[lo:hi][self.net.pair_cams[lo:hi] == camera][0])
        speed = float(self.rng.uniform(11, 18))
        self.trips.add([self.vid[name]], [at - dist / speed], [p], [speed])

    def reads(self) -> dict[str, np.ndarray]:
        # Planted timing must hold exactly: no random jitter on the scenario reads.
        out = self.trips.expand(self.net, self.rng, jitter_s=0.0)
        tags = np.full(len(out["ts"]), None, dtype=object)
        vehicles = [self.vid[name.split(":")[0]] for name, _, _ in self.extra]
        headings = self.net.cameras["heading"].fill_null(float("nan")).to_numpy()
        out = {
            "vehicle": np.concatenate([out["vehicle"], vehicles]),
            "bearing": np.concatenate([out["bearing"], [headings[c] for _, c, _ in self.extra]]),
            "camera": np.concatenate([out["camera"], [c for _, c, _ in self.extra]]),
            "ts": np.concatenate([out["ts"], [t for _, _, t in self.extra]]),
            "tag": np.concatenate([tags, [_extra_tag(name) for name, _, _ in self.extra]]),
        }
        # Keep only reads inside the month.
        inside = (out["ts"] >= self.day0[0]) & (out["ts"] < self.day0[-1] + 86_400)
        return {k: v[inside] for k, v in out.items()}

    def frame(self, r: dict[str, np.ndarray], net: _Network) -> pl.DataFrame:
        names = list(self.vid)
        cam_xy = net.cameras.select("lat", "lon").to_numpy()
        vehicle_names = [names[int(v)] for v in r["vehicle"]]
        described = [SCENARIO_VEHICLES[nm] for nm in vehicle_names]
        return pl.DataFrame(
            {
                "make": [d[0] for d in described],
                "model": [d[1] for d in described],
                "color": [d[2] for d in described],
                "body": [d[3] for d in described],
                "bearing": r["bearing"].astype(np.float64),
                "true_plate": [self.plates[nm] for nm in vehicle_names],
                "state": [self.states[nm] for nm in vehicle_names],
                "ts_s": r["ts"].astype(np.float64),
                "camera": net.cameras["name"].to_numpy()[r["camera"].astype(np.int64)],
                "lat": cam_xy[r["camera"].astype(np.int64), 0],
                "lon": cam_xy[r["camera"].astype(np.int64), 1],
                "scenario": [
                    tag if tag else _scenario_of(nm) for tag, nm in zip(r["tag"], vehicle_names, strict=True)
                ],
            }
        )

    def manifest(self, reads: pl.DataFrame) -> dict[str, Any]:
        info = dict(self.info)
        for key, name in (("burglary_series", "suspect"), ("partial_plate", "witnessed"),
                          ("stolen_vehicle", "stolen"), ("clone", "clone")):  # fmt: skip
            make, model, color, body = SCENARIO_VEHICLES[name]
            info[key] = {**info[key], "vehicle": {"make": make, "model": model, "color": color, "body": body}}
        for key, tag in (("clone", "clone:pair"), ("stolen_vehicle", "stolen_vehicle:misread")):
            ids = reads.filter(pl.col("scenario") == tag)["source_id"].to_list()
            info[key] = {**info[key], "source_ids": ids}
        return {"scenarios": info}

    def hotlist(self, rng: np.random.Generator) -> pl.DataFrame:
        """The stolen vehicle and a handful of other synthetic entries, most never seen."""
        others = _make_plates(rng, np.array(["OR"] * 12 + ["WA"] * 4 + ["CA"] * 4), set(self.plates.values()))
        kinds = ["stolen-vehicle"] * 8 + ["stolen-plate"] * 4 + ["wanted"] * 4 + ["warrant"] * 4
        rows = [
            {
                "hotlist": "Stolen vehicles (synthetic)",
                "plate": self.plates["stolen"],
                "state": "OR",
                "kind": "stolen-vehicle",
                "note": "planted scenario: stolen vehicle",
            }
        ]
        for p, k in zip(others, kinds, strict=True):
            name = (
                "Stolen vehicles (synthetic)" if k.startswith("stolen") else "Wanted and warrants (synthetic)"
            )
            rows.append({"hotlist": name, "plate": str(p), "state": "", "kind": k, "note": ""})
        return pl.DataFrame(rows)


def _extra_tag(name: str) -> str:
    return {"clone": "clone:pair", "stolen:misread": "stolen_vehicle:misread"}[name]


def _scenario_of(vehicle: str) -> str:
    return {
        "stolen": "stolen_vehicle",
        "suspect": "burglary_series",
        "convoy_target": "convoy",
        "convoy_companion": "convoy",
        "clone": "clone",
        "witnessed": "partial_plate",
    }[vehicle]


ALTERNATIVES = pl.List(pl.Struct({"plate": pl.String, "confidence": pl.Float64}))


def _misread_confusable(rng: np.random.Generator, plate: str) -> str:
    swappable = [i for i, ch in enumerate(plate) if ch in _CONFUSABLE]
    i = swappable[int(rng.integers(len(swappable)))] if swappable else 0
    alts = _CONFUSABLE.get(plate[i], ["X"])
    return plate[:i] + alts[int(rng.integers(len(alts)))] + plate[i + 1 :]
