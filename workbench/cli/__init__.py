"""The ``workbench`` command line, shaped as docs/cli.md fixes it: one module per command group.

Every command takes ``--db``; commands that print data take ``--json`` (one JSON
document on standard output, nothing else there). On failure a command prints one
line on standard error saying what to do, and exits non-zero.
"""

from __future__ import annotations

from . import (  # noqa: F401  (each module adds its commands to main)
    audit,
    cases,
    imports,
    keys,
    media,
    records,
    release,
    retention,
    search,
    servers,
    sessions,
    setup,
    users,
)
from .common import main

__all__ = ["main"]
