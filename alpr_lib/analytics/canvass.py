"""Canvass: the reads near one or several scenes, each in its own time window; and the plates
seen near at least k of them (the suspect vehicle of a burglary series)."""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from ..errors import InvalidInput
from .geo import bounding_box, haversine_m

__all__ = ["MAX_RADIUS_M", "MAX_WINDOW", "Scene", "canvass", "common_plates", "plate_counts", "scene_summary"]

MAX_RADIUS_M = 50_000
MAX_WINDOW = dt.timedelta(days=31)


@dataclass(frozen=True)
class Scene:
    """A place and a time window: reads within ``radius_m`` metres of (lat, lon), ``[since_ms, until_ms)``."""

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
        if self.until_ms <= self.since_ms:
            raise InvalidInput("a scene's time window must end after it starts")
        if self.until_ms - self.since_ms > MAX_WINDOW.total_seconds() * 1000:
            raise InvalidInput(f"a scene's time window may span at most {MAX_WINDOW.days} days")

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


def cameras_near(cameras: pl.DataFrame, scene: Scene) -> tuple[list[int], list[int]]:
    """Ids of the fixed cameras within the scene's radius, and of every mobile unit (their reads are
    filtered by their own positions)."""
    fixed = cameras.filter(
        (pl.col("kind") != "mobile")
        & (haversine_m(pl.col("lat"), pl.col("lon"), scene.lat, scene.lon) <= scene.radius_m)
    )
    mobile = cameras.filter(pl.col("kind") == "mobile")
    return fixed["camera_id"].to_list(), mobile["camera_id"].to_list()


def canvass(reads_per_scene: Sequence[pl.DataFrame], scenes: Sequence[Scene]) -> pl.DataFrame:
    """The reads of each scene within its radius (by the read's own position), with ``scene`` (1-based)
    and ``distance_m``, ordered by scene then time."""
    parts = []
    for i, (reads, scene) in enumerate(zip(reads_per_scene, scenes, strict=True), start=1):
        ms = pl.col("ts").dt.epoch("ms")
        parts.append(
            reads.with_columns(
                scene=pl.lit(i, pl.Int64),
                distance_m=haversine_m(pl.col("lat"), pl.col("lon"), scene.lat, scene.lon).round(1),
            ).filter(
                (pl.col("distance_m") <= scene.radius_m) & (ms >= scene.since_ms) & (ms < scene.until_ms)
            )
        )
    return pl.concat(parts).sort("scene", "ts", "read_id")


def plate_counts(reads: pl.DataFrame) -> pl.DataFrame:
    """Per plate: reads, scenes it was seen at, first and last seen; most-seen first."""
    return (
        reads.group_by("plate", "state")
        .agg(
            reads=pl.len(),
            scenes=pl.col("scene").unique().sort(),
            first_seen=pl.col("ts").min(),
            last_seen=pl.col("ts").max(),
        )
        .with_columns(n_scenes=pl.col("scenes").list.len())
        .sort(["n_scenes", "reads", "plate", "state"], descending=[True, True, False, False])
    )


def scene_summary(reads: pl.DataFrame, scenes: Sequence[Scene]) -> pl.DataFrame:
    """Per scene: its place and window, and how many reads, plates and cameras fell in it."""
    counts = reads.group_by("scene").agg(
        reads=pl.len(), plates=pl.struct("plate", "state").n_unique(), cameras=pl.col("camera").n_unique()
    )
    base = pl.DataFrame(
        [{"scene": i, **s.as_dict()} for i, s in enumerate(scenes, start=1)],
        schema={
            "scene": pl.Int64,
            "lat": pl.Float64,
            "lon": pl.Float64,
            "radius_m": pl.Float64,
            "since": pl.String,
            "until": pl.String,
        },
    )
    return (
        base.join(counts, on="scene", how="left")
        .with_columns(pl.col("reads", "plates", "cameras").fill_null(0).cast(pl.Int64))
        .sort("scene")
    )


def common_plates(reads: pl.DataFrame, min_scenes: int) -> pl.DataFrame:
    """Plates seen near at least ``min_scenes`` of the scenes, most scenes first."""
    return plate_counts(reads).filter(pl.col("n_scenes") >= min_scenes)
