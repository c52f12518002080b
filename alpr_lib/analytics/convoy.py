"""Travelling companions of a plate (convoys), and plates seen where no one vehicle could be (clones)."""

from __future__ import annotations

import polars as pl

from .geo import haversine_m

__all__ = ["impossible_travel", "rank_companions"]


def rank_companions(counted: pl.DataFrame) -> pl.DataFrame:
    """Companions (``plate``, ``state``, ``times``, ``cameras``, ``mean_lag_s``, ``mean_abs_lag_s`` ...)
    ranked: most separate times together, then most cameras shared, then closest in time."""
    return counted.sort(
        ["times", "cameras", "mean_abs_lag_s", "plate", "state"], descending=[True, True, False, False, False]
    ).drop("mean_abs_lag_s")


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
