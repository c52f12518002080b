"""Travelling companions of a plate (convoys), and plates seen where no one vehicle could be (clones)."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from .geo import EARTH_RADIUS_M, distances_m

__all__ = ["impossible_travel", "rank_companions"]

_PAIRS = {"plate_id": pl.Int64, "first_read": pl.Int64, "second_read": pl.Int64} | dict.fromkeys(
    ("distance_m", "seconds", "kmh"), pl.Float64
)


def rank_companions(counted: pl.DataFrame) -> pl.DataFrame:
    """Companions (``plate``, ``state``, ``times``, ``cameras``, ``mean_lag_s``, ``mean_abs_lag_s`` ...)
    ranked: most separate times together, then most cameras shared, then closest in time."""
    return counted.sort(
        ["times", "cameras", "mean_abs_lag_s", "plate", "state"], descending=[True, True, False, False, False]
    ).drop("mean_abs_lag_s")


def impossible_travel(positions: pl.DataFrame, *, min_kmh: float, min_distance_m: float) -> pl.DataFrame:
    """Pairs of reads of one plate (``positions`` ordered by plate_id, ts) that imply faster travel than
    ``min_kmh`` over at least ``min_distance_m``: one plate on two vehicles.

    Any two reads of the plate, not only consecutive ones: three reads 3 km and 10 s apart each are one
    6 km trip in 20 s, though no single step reaches 5 km. Two reads further apart in time than the
    longest trip the window's places allow, at ``min_kmh``, cannot be too fast, so each read is paired only
    with the reads of its plate within that horizon (a few, for all but parked cars).
    """
    if positions.height < 2:
        return pl.DataFrame(schema=_PAIRS)
    plate = positions["plate_id"].to_numpy()
    read = positions["read_id"].to_numpy()
    ts = positions["ts"].to_numpy().astype(np.int64)
    lat, lon = positions["lat"].to_numpy(), positions["lon"].to_numpy()
    # The longest trip between two of these places, at most: along a meridian, then a parallel no shorter
    # than the widest one the places reach.
    south, north = np.radians(lat.min()), np.radians(lat.max())
    widest = 1.0 if south <= 0 <= north else math.cos(min(abs(south), abs(north)))
    extent_m = EARTH_RADIUS_M * ((north - south) + np.radians(lon.max() - lon.min()) * widest)
    horizon_ms = extent_m / (min_kmh / 3.6) * 1000
    pairs: list[tuple[np.ndarray, ...]] = []
    alive = np.arange(plate.size)
    step = 1
    # ``alive``: the reads whose plate may still have a read ``step`` places on within the horizon.
    while alive.size:
        later = alive + step
        keep = later < plate.size
        alive, later = alive[keep], later[keep]
        keep = (plate[later] == plate[alive]) & (ts[later] - ts[alive] <= horizon_ms)
        alive, later = alive[keep], later[keep]
        metres = distances_m(lat[later], lon[later], lat[alive], lon[alive])
        secs = (ts[later] - ts[alive]) / 1000
        kmh = np.where(secs > 0, metres / np.where(secs > 0, secs, 1) * 3.6, np.inf)
        hit = (metres >= min_distance_m) & (kmh >= min_kmh)
        pairs.append((alive[hit], later[hit], metres[hit], secs[hit], kmh[hit]))
        step += 1
    first, second, metres, secs, kmh = (np.concatenate(column) for column in zip(*pairs, strict=True))
    return (
        pl.DataFrame(
            {
                "plate_id": plate[first],
                "first_read": read[first],
                "second_read": read[second],
                "distance_m": metres,
                "seconds": secs,
                "kmh": kmh,
            },
            schema=_PAIRS,
        )
        .with_columns(pl.col("distance_m", "kmh").round(0), pl.col("seconds").round(1))
        .sort(["kmh", "first_read", "second_read"], descending=[True, False, False])
    )
