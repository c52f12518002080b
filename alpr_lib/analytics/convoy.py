"""Travelling companions of a plate (convoys), and plates seen where no one vehicle could be (clones)."""

from __future__ import annotations

import polars as pl

from .geo import haversine_m

__all__ = ["companions", "impossible_travel"]


def companions(target: pl.DataFrame, nearby: pl.DataFrame, *, min_times: int) -> pl.DataFrame:
    """Plates in ``nearby`` (reads tagged with the target read they fall beside) seen with the target at
    least ``min_times`` separate times, ranked by times together, then cameras shared, then closeness."""
    plates = set(zip(target["plate"].to_list(), target["state"].to_list(), strict=True))
    anchor = target.select(tag="read_id", target_ts="ts")
    pairs = (
        nearby.filter(
            ~pl.struct("plate", "state").map_elements(
                lambda r: (r["plate"], r["state"]) in plates, return_dtype=pl.Boolean
            )
        )
        .join(anchor, on="tag")
        .with_columns(lag_s=((pl.col("ts") - pl.col("target_ts")).dt.total_milliseconds() / 1000).round(1))
    )
    ranked = (
        pairs.group_by("plate", "state")
        .agg(
            times=pl.col("tag").n_unique(),
            cameras=pl.col("camera").n_unique(),
            median_lag_s=pl.col("lag_s").median(),
            median_abs_lag_s=pl.col("lag_s").abs().median(),
            first_together=pl.col("ts").min(),
            last_together=pl.col("ts").max(),
        )
        .filter(pl.col("times") >= min_times)
        .sort(["times", "cameras", "median_abs_lag_s", "plate"], descending=[True, True, False, False])
    )
    return ranked.drop("median_abs_lag_s")


def impossible_travel(positions: pl.DataFrame, *, min_kmh: float, min_distance_m: float) -> pl.DataFrame:
    """Consecutive reads of one plate (``positions`` ordered by plate_id, ts) that imply faster travel
    than ``min_kmh`` over at least ``min_distance_m``: one plate on two vehicles."""
    steps = positions.with_columns(
        prev_read=pl.col("read_id").shift(1).over("plate_id"),
        prev_ts=pl.col("ts").shift(1).over("plate_id"),
        prev_lat=pl.col("lat").shift(1).over("plate_id"),
        prev_lon=pl.col("lon").shift(1).over("plate_id"),
    ).filter(pl.col("prev_read").is_not_null())
    steps = steps.with_columns(
        distance_m=haversine_m(pl.col("prev_lat"), pl.col("prev_lon"), pl.col("lat"), pl.col("lon")),
        seconds=(pl.col("ts") - pl.col("prev_ts")) / 1000,
    ).with_columns(
        kmh=pl.when(pl.col("seconds") > 0)
        .then(pl.col("distance_m") / pl.col("seconds") * 3.6)
        .otherwise(float("inf"))
    )
    return (
        steps.filter((pl.col("distance_m") >= min_distance_m) & (pl.col("kmh") >= min_kmh))
        .select(
            "plate_id",
            first_read="prev_read",
            second_read="read_id",
            distance_m=pl.col("distance_m").round(0),
            seconds=pl.col("seconds").round(1),
            kmh=pl.col("kmh").round(0),
        )
        .sort("kmh", descending=True)
    )
