"""Canvass: the reads near one or several scenes, each in its own time window; and the plates
seen near at least k of them (the suspect vehicle of a burglary series)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from .. import validate
from ..errors import InvalidInput
from .geo import EARTH_RADIUS_M, bounding_box, distances_m, haversine

__all__ = [
    "MAX_RADIUS_M",
    "MAX_WINDOW",
    "Scene",
    "canvass",
    "canvass_all",
    "common_plates",
    "plate_counts",
    "scene_summary",
]

MAX_RADIUS_M = 50_000
MAX_WINDOW = dt.timedelta(days=31)


_FIRST_MS, _LAST_MS = -62_135_596_800_000, 253_402_300_799_999  # 0001-01-01 to 9999-12-31, UTC


@dataclass(frozen=True)
class Scene:
    """A place and a time window: reads within ``radius_m`` metres of (lat, lon), ``[since_ms, until_ms]``."""

    lat: float
    lon: float
    radius_m: float
    since_ms: int
    until_ms: int

    def __post_init__(self) -> None:
        if not (math.isfinite(self.lat) and -90 <= self.lat <= 90):
            raise InvalidInput("a scene's latitude must be between -90 and 90")
        if not (math.isfinite(self.lon) and -180 <= self.lon <= 180):
            raise InvalidInput("a scene's longitude must be between -180 and 180")
        if not (math.isfinite(self.radius_m) and 0 < self.radius_m <= MAX_RADIUS_M):
            raise InvalidInput(f"a radius is more than 0 and at most {MAX_RADIUS_M:,} metres")
        if not all(isinstance(t, int) and _FIRST_MS <= t <= _LAST_MS for t in (self.since_ms, self.until_ms)):
            raise InvalidInput("a scene's times must be epoch milliseconds within the calendar")
        if self.until_ms <= self.since_ms:
            raise InvalidInput("a scene's time window must end after it starts")
        if self.until_ms - self.since_ms > MAX_WINDOW.total_seconds() * 1000:
            raise InvalidInput(f"a scene's time window may span at most {MAX_WINDOW.days} days")

    @classmethod
    def from_times(
        cls, lat: float, lon: float, radius_m: float, since: dt.datetime, until: dt.datetime
    ) -> Scene:
        """A scene from a place and a window of aware times (what a dashboard or a notebook has in hand).

        >>> Scene.from_times(43.97, -124.10, 500, start, start + dt.timedelta(hours=2))  # doctest: +SKIP
        """
        if since.tzinfo is None or until.tzinfo is None:
            raise InvalidInput("a scene's times must carry a time zone")
        clamped = validate.window(since, until)
        since, until = clamped[0] or since, clamped[1] or until
        try:
            lat, lon, radius_m = float(lat), float(lon), float(radius_m)
        except (TypeError, ValueError):
            raise InvalidInput("a scene's place is a latitude, a longitude and a radius in metres") from None
        return cls(lat, lon, radius_m, round(since.timestamp() * 1000), round(until.timestamp() * 1000))

    @property
    def box(self) -> tuple[float, float, float, float]:
        return bounding_box(self.lat, self.lon, self.radius_m)

    def as_dict(self) -> dict[str, object]:
        return {
            "lat": self.lat,
            "lon": self.lon,
            "radius_m": self.radius_m,
            "since": dt.datetime.fromtimestamp(self.since_ms / 1000, dt.UTC).isoformat(),
            "until": dt.datetime.fromtimestamp(self.until_ms / 1000, dt.UTC).isoformat(),
        }


def cameras_near(
    cameras: pl.DataFrame, scene: Scene, *, spread_deg: float = 0.0
) -> tuple[list[int], list[int]]:
    """Ids of the fixed cameras within the scene's radius, whose reads are fetched whole; and of the cameras
    whose reads are fetched within the scene's box and kept by their own positions: every mobile unit, and
    the fixed cameras just beyond the radius, by as far as a read may lie from its fixed camera
    (``spread_deg`` of latitude and of longitude: a read of one may be inside when its camera is not). A
    plain loop: a department has tens of cameras, not millions."""
    spread_m = math.radians(math.hypot(spread_deg, spread_deg)) * EARTH_RADIUS_M
    fixed, by_position = [], []
    # The columns one by one, not polars' select (a trip through its query engine: 0.1 ms).
    columns = (cameras[c].to_list() for c in ("camera_id", "kind", "lat", "lon"))
    for cid, kind, lat, lon in zip(*columns, strict=True):
        if kind == "mobile" or lat is None or lon is None:
            by_position.append(cid)
            continue
        distance = haversine(lat, lon, scene.lat, scene.lon)
        if distance <= scene.radius_m:
            fixed.append(cid)
        elif distance <= scene.radius_m + spread_m:
            by_position.append(cid)
    return fixed, by_position


def _ms(frame: pl.DataFrame) -> np.ndarray:
    return frame["ts"].to_physical().to_numpy()


# Canvass results are hundreds to thousands of rows: numpy and plain Python answer them in
# microseconds, where each trip through polars' query engine costs a fraction of a millisecond.


def canvass(reads_per_scene: Sequence[pl.DataFrame], scenes: Sequence[Scene]) -> pl.DataFrame:
    """The reads of each scene within its radius (by the read's own position), with ``scene`` (1-based)
    and ``distance_m``, ordered by scene then time."""
    parts = []
    for i, (reads, scene) in enumerate(zip(reads_per_scene, scenes, strict=True), start=1):
        d = distances_m(reads["lat"].to_numpy(), reads["lon"].to_numpy(), scene.lat, scene.lon)
        ts = _ms(reads)
        keep = np.flatnonzero((d <= scene.radius_m) & (ts >= scene.since_ms) & (ts <= scene.until_ms))
        parts.append(
            reads.gather(keep).hstack(
                [
                    pl.Series("scene", np.full(len(keep), i, dtype=np.int64)),
                    pl.Series("distance_m", np.round(d[keep], 1)),
                ]
            )
        )
    if not parts:
        raise InvalidInput("give at least one scene")
    out = pl.concat(parts)
    order = np.lexsort((out["read_id"].to_numpy(), _ms(out), out["scene"].to_numpy()))
    return out.gather(order)


def plate_counts(reads: pl.DataFrame) -> pl.DataFrame:
    """Per plate: reads, scenes it was seen at, first and last seen; most scenes, then most reads first."""
    counted = reads.group_by("plate", "state").agg(
        reads=pl.len().cast(pl.Int64),
        scenes=pl.col("scene").unique().sort(),
        first_seen=pl.col("ts").min(),
        last_seen=pl.col("ts").max(),
    )
    counted = counted.with_columns(n_scenes=pl.col("scenes").list.len().cast(pl.Int64))
    return counted.sort(["n_scenes", "reads", "plate", "state"], descending=[True, True, False, False])


def scene_summary(reads: pl.DataFrame, scenes: Sequence[Scene]) -> pl.DataFrame:
    """Per scene: its place and window, and how many reads, plates and cameras fell in it."""
    counts = dict(
        (row[0], row[1:])
        for row in reads.group_by("scene")
        .agg(
            reads=pl.len(), plates=pl.struct("plate", "state").n_unique(), cameras=pl.col("camera").n_unique()
        )
        .iter_rows()
    )
    rows = []
    for i, scene in enumerate(scenes, start=1):
        n, plates, cameras = counts.get(i, (0, 0, 0))
        rows.append({"scene": i, **scene.as_dict(), "reads": n, "plates": plates, "cameras": cameras})
    return pl.DataFrame(
        rows,
        schema={
            "scene": pl.Int64,
            "lat": pl.Float64,
            "lon": pl.Float64,
            "radius_m": pl.Float64,
            "since": pl.String,
            "until": pl.String,
            "reads": pl.Int64,
            "plates": pl.Int64,
            "cameras": pl.Int64,
        },
    )


def canvass_all(
    reads_per_scene: Sequence[pl.DataFrame], scenes: Sequence[Scene]
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """:func:`canvass`, :func:`plate_counts` and :func:`scene_summary` together."""
    reads = canvass(reads_per_scene, scenes)
    return reads, plate_counts(reads), scene_summary(reads, scenes)


def common_plates(reads: pl.DataFrame, min_scenes: int) -> pl.DataFrame:
    """Plates seen near at least ``min_scenes`` of the scenes, most scenes first."""
    return plate_counts(reads).filter(pl.col("n_scenes") >= min_scenes)
