"""ALPR Workbench, the application: command line, settings, Jupyter login, dashboards' components.

In a notebook, ``workbench.connect()`` gives the logged-in member's audited session.
"""

from __future__ import annotations

from typing import Any

__all__ = ["connect"]


def connect(db: str | None = None) -> Any:
    """The logged-in member's audited session in this kernel (see :func:`workbench.jupyter.connect`)."""
    from .jupyter import connect as _connect

    return _connect(db)
