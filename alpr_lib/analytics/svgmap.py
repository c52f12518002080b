"""Static maps as SVG: roads, cameras, scenes and reads drawn from coordinates alone.

For places where an interactive map cannot go — a release package opened on a prosecutor's laptop, a notebook
whose saved output is compared by QA — and for air-gapped networks: no tiles, no script, nothing fetched. The
same input gives the same text, so a notebook's map can be checked like any other output.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import Any

import polars as pl

__all__ = ["svg_map"]

PALETTE = ("#dc2626", "#2563eb", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#be185d", "#4d7c0f")


def _road_lines(
    roads: dict[str, Any] | None, kinds: tuple[str | None, ...] = (None, "road")
) -> list[list[tuple[float, float]]]:
    """The line strings of the features of these kinds (a feature without a ``kind`` is a road)."""
    lines = []
    for feature in (roads or {}).get("features", []):
        if (feature.get("properties") or {}).get("kind") not in kinds:
            continue
        geom = feature.get("geometry") or {}
        parts = (
            [geom.get("coordinates", [])] if geom.get("type") == "LineString" else geom.get("coordinates", [])
        )
        if geom.get("type") in ("LineString", "MultiLineString"):
            lines.extend([[(float(lon), float(lat)) for lon, lat, *_ in part] for part in parts])
    return lines


def svg_map(
    reads: pl.DataFrame | None = None,
    *,
    roads: dict[str, Any] | None = None,
    cameras: pl.DataFrame | None = None,
    scenes: Sequence[dict[str, Any]] = (),
    colour_by: str | None = None,
    title: str = "",
    width: int = 640,
    height: int = 480,
    margin_m: float = 300.0,
) -> str:
    """An ``<svg>`` of the reads (``lat``, ``lon``; a tooltip from ``plate``/``ts``/``camera`` where present),
    over the roads (GeoJSON) and cameras (``camera``, ``lat``, ``lon``), with scenes as circles (``lat``,
    ``lon``, ``radius_m``). The view fits the reads and scenes (or the cameras when there are none), with
    ``margin_m`` around.
    ``colour_by`` names a column whose values get one colour each (a legend follows)."""
    points: list[tuple[float, float]] = []
    if reads is not None and not reads.is_empty():
        points += list(zip(reads["lon"].to_list(), reads["lat"].to_list(), strict=True))
    for sc in scenes:
        points.append((float(sc["lon"]), float(sc["lat"])))
    if not points and cameras is not None:
        fixed = cameras.drop_nulls(["lat", "lon"])
        points += list(zip(fixed["lon"].to_list(), fixed["lat"].to_list(), strict=True))
    if not points:
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="40">'
            '<text x="8" y="24">No places.</text></svg>'
        )
    mid_lat = sum(p[1] for p in points) / len(points)
    m_per_deg_lat = 111_320.0
    m_per_deg_lon = 111_320.0 * math.cos(math.radians(mid_lat))
    for sc in scenes:  # the whole circle in view
        r = float(sc.get("radius_m", 0))
        points.append((float(sc["lon"]) - r / m_per_deg_lon, float(sc["lat"]) - r / m_per_deg_lat))
        points.append((float(sc["lon"]) + r / m_per_deg_lon, float(sc["lat"]) + r / m_per_deg_lat))
    pad_lat, pad_lon = margin_m / m_per_deg_lat, margin_m / m_per_deg_lon
    lo_lon, hi_lon = min(p[0] for p in points) - pad_lon, max(p[0] for p in points) + pad_lon
    lo_lat, hi_lat = min(p[1] for p in points) - pad_lat, max(p[1] for p in points) + pad_lat
    # One scale for both axes (metres), so distances look like distances.
    scale = min(width / ((hi_lon - lo_lon) * m_per_deg_lon), height / ((hi_lat - lo_lat) * m_per_deg_lat))
    cx_lon, cy_lat = (lo_lon + hi_lon) / 2, (lo_lat + hi_lat) / 2

    def xy(lon: float, lat: float) -> tuple[float, float]:
        return (
            width / 2 + (lon - cx_lon) * m_per_deg_lon * scale,
            height / 2 - (lat - cy_lat) * m_per_deg_lat * scale,
        )

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f'<rect width="{width}" height="{height}" fill="#f8fafc" stroke="#cbd5e1"/>',
    ]

    def points(line: list[tuple[float, float]]) -> str:
        return " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(lon, lat) for lon, lat in line))

    for feature in (roads or {}).get("features", []):  # the sea under everything
        geom = feature.get("geometry") or {}
        if (feature.get("properties") or {}).get("kind") == "sea" and geom.get("type") == "Polygon":
            ring = [(float(lon), float(lat)) for lon, lat, *_ in geom["coordinates"][0]]
            out.append(f'<polygon points="{points(ring)}" fill="#dbeafe" stroke="none"/>')
    for line in _road_lines(roads, ("river",)):
        out.append(f'<polyline points="{points(line)}" fill="none" stroke="#93c5fd" stroke-width="4"/>')
    for line in _road_lines(roads, ("street",)):
        out.append(f'<polyline points="{points(line)}" fill="none" stroke="#cbd5e1" stroke-width="1.5"/>')
    for line in _road_lines(roads):
        out.append(f'<polyline points="{points(line)}" fill="none" stroke="#94a3b8" stroke-width="2"/>')
    for feature in (roads or {}).get("features", []):  # place names
        props, geom = feature.get("properties") or {}, feature.get("geometry") or {}
        if props.get("kind") == "place" and geom.get("type") == "Point":
            x, y = xy(*map(float, geom["coordinates"][:2]))
            if 0 <= x <= width and 0 <= y <= height:
                out.append(
                    f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="middle" fill="#64748b" font-style="italic">'
                    f"{html.escape(str(props.get('name', '')))}</text>"
                )
    if cameras is not None and not cameras.is_empty():
        for name, lat, lon in cameras.select("camera", "lat", "lon").drop_nulls().iter_rows():
            x, y = xy(lon, lat)
            if 0 <= x <= width and 0 <= y <= height:
                out.append(
                    f'<rect x="{x - 3:.1f}" y="{y - 3:.1f}" width="6" height="6" fill="#475569">'
                    f"<title>camera {html.escape(str(name))}</title></rect>"
                )
    for i, sc in enumerate(scenes, 1):
        x, y = xy(float(sc["lon"]), float(sc["lat"]))
        r = float(sc.get("radius_m", 0)) * scale
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="{max(r, 4):.1f}" fill="#fde68a" fill-opacity="0.35" '
            f'stroke="#b45309"/><text x="{x + 5:.1f}" y="{y - 5:.1f}" fill="#92400e">scene {i}</text>'
        )
    legend: dict[str, str] = {}
    if reads is not None and not reads.is_empty():
        keys: Iterable[Any] = reads[colour_by].to_list() if colour_by else [None] * reads.height
        tips = [c for c in ("plate", "ts", "camera") if c in reads.columns]
        rows = reads.select(tips).iter_rows() if tips else iter([()] * reads.height)
        for lon, lat, key, tip in zip(
            reads["lon"].to_list(), reads["lat"].to_list(), keys, rows, strict=True
        ):
            colour = PALETTE[0]
            if colour_by:
                label = str(key)
                colour = legend.setdefault(label, PALETTE[len(legend) % len(PALETTE)])
            x, y = xy(lon, lat)
            text = " ".join(html.escape(str(v)) for v in tip)
            out.append(
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}" stroke="white">'
                f"<title>{text}</title></circle>"
            )
    for i, (label, colour) in enumerate(legend.items()):
        out.append(
            f'<circle cx="14" cy="{16 + 16 * i}" r="5" fill="{colour}"/>'
            f'<text x="24" y="{20 + 16 * i}">{html.escape(label)}</text>'
        )
    bar_m = _nice_length(width / scale / 5)
    label = f"{bar_m / 1000:g} km" if bar_m >= 1000 else f"{bar_m:g} m"
    x0 = width - 20 - bar_m * scale
    out.append(
        f'<line x1="{x0:.1f}" y1="{height - 14}" x2="{width - 20}" y2="{height - 14}" stroke="#0f172a" '
        f'stroke-width="2"/><text x="{x0:.1f}" y="{height - 20}">{label}</text>'
    )
    if title:
        out.append(
            f'<text x="{width / 2:.0f}" y="16" text-anchor="middle" font-size="13">'
            f"{html.escape(title)}</text>"
        )
    out.append("</svg>")
    return "\n".join(out)


def _nice_length(metres: float) -> float:
    """A round length near ``metres`` for the scale bar (1, 2 or 5 times a power of ten)."""
    power = 10 ** math.floor(math.log10(max(metres, 1.0)))
    for step in (5, 2, 1):
        if step * power <= metres:
            return float(step * power)
    return float(power)
