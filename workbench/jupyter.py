"""The workbench inside a Jupyter kernel: ``workbench.connect()`` resumes the member's session.

A kernel started by ``workbench lab`` or ``workbench serve`` carries the session of the
member who opened it (``WORKBENCH_SESSION``, set by the server; never a password).
Outside those servers — nbval in CI, a script — ``WORKBENCH_USER`` and
``WORKBENCH_PASSWORD`` log in instead. Nothing reaches data without one of the two.
"""

from __future__ import annotations

import os

from alpr_lib.access import AccessSession, login, resume
from alpr_lib.errors import NotAuthenticated
from alpr_lib.store import Store

from .config import load_settings, policy_from

__all__ = ["connect"]


def connect(db: str | None = None) -> AccessSession:
    """The logged-in member's :class:`~alpr_lib.access.AccessSession` in this kernel.

    >>> session = workbench.connect()  # doctest: +SKIP
    >>> session.set_purpose("investigation", case="26-01234", reason="burglary series")  # doctest: +SKIP
    """
    settings = load_settings()
    store = Store(db or os.environ.get("WORKBENCH_DB_URL") or settings.db_url)
    client = os.environ.get("WORKBENCH_CLIENT", "lab")
    policy = policy_from(settings)
    token = os.environ.get("WORKBENCH_SESSION")
    if token:
        return resume(store, token, client=client, policy=policy)
    user, password = os.environ.get("WORKBENCH_USER"), os.environ.get("WORKBENCH_PASSWORD")
    if user and password:
        return login(store, user, password, client=client, policy=policy)
    raise NotAuthenticated(
        "this kernel has no workbench session: open the notebook from `workbench lab` and log in"
    )
