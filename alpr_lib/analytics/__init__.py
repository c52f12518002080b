"""Pure analytics over polars frames of reads: search ranking, canvass, common plates, timelines,
convoys and cloned plates. SQL does the coarse filtering (plates, time, cameras); these do the rest.
Nothing here touches a database."""

from .canvass import Scene, canvass, common_plates, plate_counts, scene_summary
from .convoy import impossible_travel, rank_companions
from .geo import haversine_m
from .search import fuzzy_rank, match_pattern
from .timeline import timeline

__all__ = [
    "Scene",
    "canvass",
    "common_plates",
    "fuzzy_rank",
    "haversine_m",
    "impossible_travel",
    "match_pattern",
    "plate_counts",
    "rank_companions",
    "scene_summary",
    "timeline",
]
