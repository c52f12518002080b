"""ALPR Workbench, the application: command line, settings, Jupyter login, dashboards' components.

In a notebook, ``workbench.connect()`` gives the logged-in member's door client; what it refuses raises
``workbench.AlprError`` with a one-line reason.
"""

from __future__ import annotations

from typing import Any

from alpr_lib.errors import AlprError

__all__ = ["AlprError", "connect"]


def connect() -> Any:
    """The logged-in member's door client in this kernel (see :func:`workbench.jupyter.connect`)."""
    from .jupyter import connect as _connect

    return _connect()
