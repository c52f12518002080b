"""Static pictures for notebooks: maps as SVG whose saved output QA can compare (ipywidgets maps cannot be).

Roads and cameras come through the member's session (``map_layers`` at the door, audited); nothing is
fetched from the network.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from alpr_lib.access.client import DoorClient
from alpr_lib.analytics.svgmap import svg_map

__all__ = ["StaticMap", "static_map"]


class StaticMap:
    """An SVG picture that Jupyter shows inline (``svg`` holds the text, for saving to a file)."""

    def __init__(self, svg: str) -> None:
        self.svg = svg

    def __repr__(self) -> str:
        return f"<map: {self.svg.count('<circle')} marks>"

    def _repr_svg_(self) -> str:
        return self.svg

    def save(self, path: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(self.svg)


def static_map(
    session: DoorClient,
    reads: pl.DataFrame | None = None,
    *,
    scenes: Sequence[dict[str, Any]] = (),
    colour_by: str | None = None,
    title: str = "",
    width: int = 640,
    height: int = 480,
) -> StaticMap:
    """Reads (a result's frame: ``lat``, ``lon``) and scenes (``lat``, ``lon``, ``radius_m``) over the roads
    and cameras. ``colour_by`` colours the reads by a column (``plate``, ``scene``, ``camera`` …)."""
    layers = session.map_layers()
    return StaticMap(
        svg_map(
            reads,
            roads=layers["roads"],
            cameras=layers["cameras"],
            scenes=scenes,
            colour_by=colour_by,
            title=title,
            width=width,
            height=height,
        )
    )
