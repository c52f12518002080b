"""The door's client: what a notebook or dashboard kernel holds instead of a database.

:class:`DoorClient` has the methods of :class:`~alpr_lib.access.AccessSession` that
:data:`~alpr_lib.access.wire.CLIENT_OPERATIONS` lists, with the same arguments and the same results
(polars frames arrive as Arrow IPC); each call is one request to the door service over its Unix socket,
which gates, audits and runs it. The client opens no database and knows no database URL.

>>> session = DoorClient("/run/workbench/door.sock", kernel_token=token)  # doctest: +SKIP
>>> session.set_purpose("investigation", case="26-01234", reason="burglary series")  # doctest: +SKIP
>>> session.search_plate("7ABC123").frame  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import socket
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import InvalidInput
from . import wire
from .purpose import Policy, Why
from .results import ReleaseResult
from .session import AccessSession

__all__ = ["DoorClient"]


class DoorClient:
    """A member's session at the door service, from a kernel. Obtain one with ``workbench.connect()``."""

    def __init__(
        self,
        socket_path: str | Path,
        *,
        kernel_token: str | None = None,
        user: str | None = None,
        password: str | None = None,
    ) -> None:
        if kernel_token:
            hello: dict[str, Any] = {"op": "hello", "kernel_token": kernel_token}
        elif user and password:
            hello = {"op": "login", "user": user, "password": password}
        else:
            raise InvalidInput("the door needs this kernel's token, or a member's name and password")
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.connect(str(socket_path))
        except OSError as exc:
            self._sock.close()
            raise wire.DoorError(
                "the workbench door is not answering; open the notebook from `workbench lab` or "
                "`workbench serve`, or start `workbench door`"
            ) from exc
        self._lock = threading.Lock()
        try:
            reply = self._exchange(hello, [])
        except BaseException:
            self._sock.close()
            raise
        self.name: str = reply["user"]["name"]
        self.role: str = reply["user"]["role"]
        self.client: str = reply["client"]
        self.policy: Policy = wire.decode(reply["policy"], [])
        self.display: dict[str, Any] = dict(reply.get("display") or {})
        self._why: Why | None = None

    def __repr__(self) -> str:
        return f"<DoorClient {self.name} ({self.role}) via {self.client}>"

    def _exchange(self, header: dict[str, Any], parts: list[bytes]) -> dict[str, Any]:
        with self._lock:
            try:
                wire.write_message(self._sock, header, parts)
                reply, got = wire.read_message(self._sock)
            except (OSError, EOFError) as exc:
                raise wire.DoorError("the connection to the workbench door was lost; reconnect") from exc
        if not reply.get("ok"):
            raise wire.error_from(str(reply.get("error")), str(reply.get("message")))
        reply["_parts"] = got
        return reply

    def _call(self, operation: str, *args: Any, **kwargs: Any) -> Any:
        parts: list[bytes] = []
        header = {
            "op": operation,
            "args": wire.encode(list(args), parts),
            "kwargs": wire.encode(kwargs, parts),
        }
        reply = self._exchange(header, parts)
        return wire.decode(reply.get("value"), reply["_parts"])

    @property
    def purpose(self) -> Why | None:
        """The purpose stated with :meth:`set_purpose`, if any."""
        return self._why

    def set_purpose(self, purpose: str, *, case: str | None = None, reason: str | None = None) -> Why:
        self._why = None
        why: Why = self._call("set_purpose", purpose, case=case, reason=reason)
        self._why = why
        return why

    def release(self, *, dest: str | Path, **kwargs: Any) -> ReleaseResult:
        """Export reads for a case to a registered agency: the door writes the package, the client saves
        it in ``dest`` (see :meth:`AccessSession.release`)."""
        result: ReleaseResult = self._call("release", **kwargs)
        root = Path(dest)
        root.mkdir(parents=True, exist_ok=True)

        def inside(name: str) -> Path:
            target = (root / name).resolve()
            if root.resolve() not in target.parents:
                raise InvalidInput("the door sent a file outside the package")
            return target

        for name in result.folders:
            inside(name).mkdir(parents=True, exist_ok=True)
        for name, data in result.files.items():
            target = inside(name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return dataclasses.replace(result, package=str(dest), files={}, folders=[])

    def logout(self) -> None:
        """End the member's session everywhere, and this connection."""
        try:
            self._call("logout")
        finally:
            self.close()

    def close(self) -> None:
        """Close this connection (the member's session stays open for their other kernels)."""
        self._sock.close()

    def __enter__(self) -> DoorClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _forward(name: str) -> Callable[..., Any]:
    @functools.wraps(getattr(AccessSession, name))
    def method(self: DoorClient, *args: Any, **kwargs: Any) -> Any:
        return self._call(name, *args, **kwargs)

    return method


for _name in wire.CLIENT_OPERATIONS:
    if _name not in DoorClient.__dict__:
        setattr(DoorClient, _name, _forward(_name))
