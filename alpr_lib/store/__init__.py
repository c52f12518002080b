"""The storage floor: schema, engine, migrations and idempotent bulk writes.

Only the floors above the store's callers (``access``, ``ingest``, ``retention`` ...)
import this package; notebooks, dashboards and UI code never do.
"""

from .db import Store, mask_url

__all__ = ["Store", "mask_url"]
