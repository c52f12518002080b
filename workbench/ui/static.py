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

__all__ = ["StaticMap", "readable", "static_map"]


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


def readable(
    frame: pl.DataFrame, session: DoorClient | None = None, *, timezone: str | None = None
) -> pl.DataFrame:
    """A frame as people read it: its times in the department's zone (the session's policy, or
    ``timezone``), written ``Fri 6 Nov 2026 09:36``. For showing, never for computing: keep the result's own
    frame for that (exports and ``--json`` keep ISO 8601)."""
    zone = timezone or (session.policy.timezone if session is not None else "UTC")
    times = [name for name, kind in frame.schema.items() if isinstance(kind, pl.Datetime)]
    utc = [
        pl.col(n).dt.replace_time_zone("UTC") if frame.schema[n].time_zone is None else pl.col(n)  # type: ignore[attr-defined]
        for n in times
    ]
    return frame.with_columns(utc).with_columns(
        pl.col(n).dt.convert_time_zone(zone).dt.strftime("%a %-d %b %Y %H:%M") for n in times
    )
