"""Distances on the Earth's surface, as polars expressions, numpy arrays and plain floats."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

__all__ = ["EARTH_RADIUS_M", "bounding_box", "distances_m", "haversine", "haversine_m"]

EARTH_RADIUS_M = 6_371_008.8


def haversine_m(
    lat1: pl.Expr | float, lon1: pl.Expr | float, lat2: pl.Expr | float, lon2: pl.Expr | float
) -> pl.Expr:
    """Great-circle distance in metres between two points given in degrees (a polars expression)."""
    lat1, lon1, lat2, lon2 = (x if isinstance(x, pl.Expr) else pl.lit(x) for x in (lat1, lon1, lat2, lon2))
    dlat = (lat2 - lat1).radians()
    dlon = (lon2 - lon1).radians()
    a = (dlat / 2).sin() ** 2 + lat1.radians().cos() * lat2.radians().cos() * (dlon / 2).sin() ** 2
    return 2 * EARTH_RADIUS_M * a.sqrt().arcsin()


def haversine(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    a = (
        math.sin((p2 - p1) / 2) ** 2
        + math.cos(p1) * math.cos(p2) * math.sin(math.radians(lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


def distances_m(
    lat: np.ndarray, lon: np.ndarray, lat0: float | np.ndarray, lon0: float | np.ndarray
) -> np.ndarray:
    """Great-circle distances in metres from (lat0, lon0) to each point, in degrees: one place to many, or
    pair by pair when ``lat0`` and ``lon0`` are arrays too."""
    p1, p2 = np.radians(lat0), np.radians(lat)
    a = np.sin((p2 - p1) / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(np.radians(lon - lon0) / 2) ** 2
    return 2 * EARTH_RADIUS_M * np.arcsin(np.sqrt(np.minimum(a, 1.0)))


def bounding_box(lat: float, lon: float, radius_m: float) -> tuple[float, float, float, float]:
    """(south, west, north, east) of a box that holds every point within ``radius_m`` of (lat, lon)."""
    dlat = math.degrees(radius_m / EARTH_RADIUS_M) * 1.001
    dlon = dlat / max(math.cos(math.radians(min(abs(lat) + dlat, 89.9))), 1e-6)
    return lat - dlat, lon - dlon, lat + dlat, lon + dlon
