"""The workbench inside a Jupyter kernel: ``workbench.connect()`` is the member's door client.

A kernel holds no database: ``WORKBENCH_DOOR`` names the door service's socket. A kernel
started by ``workbench lab`` or ``workbench serve`` carries a token of its own
(``WORKBENCH_KERNEL_TOKEN``), which the door accepts only from that kernel's processes. Under
``workbench door`` (nbval in CI, a script) the member logs in with ``WORKBENCH_USER`` and
``WORKBENCH_PASSWORD`` instead, and the session lives on the connection alone.
"""

from __future__ import annotations

import os

from alpr_lib.access.client import DoorClient
from alpr_lib.errors import NotAuthenticated

__all__ = ["connect"]


def connect() -> DoorClient:
    """The logged-in member's door client in this kernel: the methods of
    :class:`~alpr_lib.access.AccessSession`, answered by the door service.

    >>> session = workbench.connect()  # doctest: +SKIP
    >>> session.set_purpose("investigation", case="26-01234", reason="burglary series")  # doctest: +SKIP
    """
    door = os.environ.get("WORKBENCH_DOOR")
    if not door:
        raise NotAuthenticated(
            "this kernel has no way to the workbench door: open the notebook from `workbench lab`, "
            "or run it under `workbench door`"
        )
    token = os.environ.get("WORKBENCH_KERNEL_TOKEN")
    if token:
        return DoorClient(door, kernel_token=token)
    user, password = os.environ.get("WORKBENCH_USER"), os.environ.get("WORKBENCH_PASSWORD")
    if user and password:
        return DoorClient(door, user=user, password=password)
    raise NotAuthenticated(
        "this kernel has no workbench session: open the notebook from `workbench lab` and log in"
    )
