"""The dashboards' building blocks (ipywidgets) and the dashboards themselves.

Every dashboard in ``voila_apps/`` is a notebook of one line over these: ``ui.canvass()``,
``ui.partial_plate()``, ``ui.timeline()``, ``ui.alerts()``, ``ui.audit_review()``.
"""

from .components import Door, MapView, PurposeBar, ResultTable, bar_chart, message
from .dashboards import alerts, audit_review, canvass, partial_plate, timeline
from .static import StaticMap, readable, static_map

__all__ = [
    "Door",
    "MapView",
    "PurposeBar",
    "ResultTable",
    "StaticMap",
    "alerts",
    "audit_review",
    "bar_chart",
    "canvass",
    "message",
    "partial_plate",
    "readable",
    "static_map",
    "timeline",
]
