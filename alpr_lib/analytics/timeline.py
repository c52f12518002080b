"""One plate's movements: sightings in order, the places it dwells, the hours it is seen, the path."""

from __future__ import annotations

import zoneinfo
from typing import Any

import polars as pl

from .geo import haversine, haversine_m

__all__ = ["timeline"]


def _places(reads: pl.DataFrame, radius_m: float) -> pl.DataFrame:
    """Greedy clustering of sighting positions: each position joins the first place within ``radius_m``."""
    spots = (
        reads.group_by("lat", "lon").agg(n=pl.len()).sort("n", "lat", "lon", descending=[True, False, False])
    )
    centres: list[tuple[float, float]] = []
    labels: dict[tuple[float, float], int] = {}
    for lat, lon, _n in spots.iter_rows():
        for k, (clat, clon) in enumerate(centres):
            if haversine(lat, lon, clat, clon) <= radius_m:
                labels[(lat, lon)] = k + 1
                break
        else:
            centres.append((lat, lon))
            labels[(lat, lon)] = len(centres)
    keys = pl.DataFrame(
        [(lat, lon, p) for (lat, lon), p in labels.items()],
        schema={"lat": pl.Float64, "lon": pl.Float64, "place": pl.Int64},
        orient="row",
    )
    return reads.join(keys, on=["lat", "lon"], how="left")


def timeline(
    reads: pl.DataFrame, *, timezone: str = "America/Los_Angeles", dwell_radius_m: float = 300
) -> dict[str, Any]:
    """From one plate's reads: ``sightings`` (time order, with the step from the one before),
    ``places`` (clustered within ``dwell_radius_m``: visits, first/last, night share — a night place is
    often home), ``hours`` (local hour histogram), ``path`` (one row per step) and ``summary``."""
    tz = zoneinfo.ZoneInfo(timezone)
    ordered = reads.sort("ts", "read_id")
    if ordered.is_empty():
        empty_hours = pl.DataFrame(
            {"hour": list(range(24)), "reads": [0] * 24}, schema={"hour": pl.Int64, "reads": pl.Int64}
        )
        return {
            "sightings": ordered,
            "places": pl.DataFrame(),
            "hours": empty_hours,
            "path": pl.DataFrame(),
            "summary": {"reads": 0},
        }
    sightings = (
        _places(ordered, dwell_radius_m)
        .with_columns(
            local=pl.col("ts").dt.convert_time_zone(timezone),
            step_m=haversine_m(
                pl.col("lat").shift(1), pl.col("lon").shift(1), pl.col("lat"), pl.col("lon")
            ).round(0),
            gap_s=(pl.col("ts") - pl.col("ts").shift(1)).dt.total_seconds(),
        )
        .with_columns(
            kmh=pl.when(pl.col("gap_s") > 0).then((pl.col("step_m") / pl.col("gap_s") * 3.6).round(1)),
            hour=pl.col("local").dt.hour().cast(pl.Int64),
        )
    )
    night = (pl.col("hour") >= 22) | (pl.col("hour") < 6)
    places = (
        sightings.group_by("place")
        .agg(
            lat=pl.col("lat").mean(),
            lon=pl.col("lon").mean(),
            reads=pl.len(),
            days=pl.col("local").dt.date().n_unique(),
            cameras=pl.col("camera").unique().sort(),
            first_seen=pl.col("ts").min(),
            last_seen=pl.col("ts").max(),
            night_share=night.mean().round(2),
        )
        .sort(["reads", "place"], descending=[True, False])
    )
    hours = (
        pl.DataFrame({"hour": list(range(24))}, schema={"hour": pl.Int64})
        .join(sightings.group_by("hour").agg(reads=pl.len()), on="hour", how="left")
        .with_columns(pl.col("reads").fill_null(0).cast(pl.Int64))
    )
    path = sightings.select(
        from_ts=pl.col("ts").shift(1),
        to_ts="ts",
        from_lat=pl.col("lat").shift(1),
        from_lon=pl.col("lon").shift(1),
        to_lat="lat",
        to_lon="lon",
        from_camera=pl.col("camera").shift(1),
        to_camera="camera",
        step_m="step_m",
        gap_s="gap_s",
        kmh="kmh",
    ).slice(1)
    first, last = ordered["ts"][0], ordered["ts"][-1]
    busiest = hours.sort("reads", descending=True)["hour"].head(3).to_list()
    homes = places.filter(pl.col("night_share") >= 0.5)
    summary = {
        "reads": ordered.height,
        "first_seen": first.astimezone(tz).isoformat(),
        "last_seen": last.astimezone(tz).isoformat(),
        "cameras": ordered["camera"].n_unique(),
        "places": places.height,
        "usual_hours": sorted(busiest),
        "likely_home_place": int(homes["place"][0]) if homes.height else None,
    }
    return {
        "sightings": sightings.drop("local"),
        "places": places,
        "hours": hours,
        "path": path,
        "summary": summary,
    }
