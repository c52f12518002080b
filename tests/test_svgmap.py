"""Static SVG maps: what they draw, where, and that the same input gives the same picture."""

from __future__ import annotations

import re

import polars as pl

from alpr_lib.analytics.svgmap import svg_map

ROADS = {
    "type": "FeatureCollection",
    "features": [
        {
            "type": "Feature",
            "geometry": {"type": "LineString", "coordinates": [[-124.11, 43.97], [-124.10, 43.99]]},
        }
    ],
}
CAMERAS = pl.DataFrame({"camera": ["A", "MOBILE"], "lat": [43.975, None], "lon": [-124.105, None]})
READS = pl.DataFrame(
    {
        "plate": ["TST001", "TST002", "TST001"],
        "lat": [43.97, 43.98, 43.99],
        "lon": [-124.11, -124.105, -124.10],
    }
)


def circles(svg: str) -> list[tuple[float, float]]:
    return [(float(x), float(y)) for x, y in re.findall(r'<circle cx="([\d.]+)" cy="([\d.]+)" r="4"', svg)]


def test_reads_roads_cameras_and_scenes_are_drawn_in_place() -> None:
    scene = {"lat": 43.98, "lon": -124.105, "radius_m": 500}
    svg = svg_map(
        READS, roads=ROADS, cameras=CAMERAS, scenes=[scene], colour_by="plate", width=600, height=600
    )
    assert svg == svg_map(
        READS, roads=ROADS, cameras=CAMERAS, scenes=[scene], colour_by="plate", width=600, height=600
    )
    points = circles(svg)
    assert len(points) == 3
    # north is up and east is right: the southernmost-westernmost read is lowest and leftmost
    assert points[0][0] < points[1][0] < points[2][0] and points[0][1] > points[1][1] > points[2][1]
    assert all(0 <= x <= 600 and 0 <= y <= 600 for x, y in points)
    assert svg.count("<polyline") == 1 and svg.count("camera A") == 1 and "MOBILE" not in svg
    assert "scene 1" in svg and ">TST001<" in svg and ">TST002<" in svg  # legend by plate
    assert re.search(r">(\d+ m|\d+ km)</text>", svg)  # the scale bar


def test_an_empty_map_says_so() -> None:
    assert "No places." in svg_map(None)
    assert "No places." in svg_map(READS.clear())
