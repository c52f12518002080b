"""The door as a service: the one process holding the store answers its clients over a Unix socket.

A notebook or dashboard kernel holds no database URL, no credentials and no key: it holds the path of
the door's socket and, when a workbench server started it, a kernel token. The service

* reads the peer's credentials from the socket (``SO_PEERCRED``: process id and account) and accepts a
  kernel token only from a process of the kernel it was given to — a token copied anywhere else is
  refused, and the refusal audited with both identities (whose token, and who used it);
* or, when run for scripts and CI (:class:`DoorService` with ``allow_password=True``), takes a member's
  name and password; the session then lives on that connection alone and its token never leaves the door;
* runs only the operations of :data:`~alpr_lib.access.wire.CLIENT_OPERATIONS`, each through the member's
  :class:`~alpr_lib.access.AccessSession` (gate, audit, operation), decoding arguments with the safe codec.

>>> service = DoorService(store, policy, Path("/run/workbench/door.sock"), client="lab")  # doctest: +SKIP
>>> service.start()  # doctest: +SKIP
>>> token = service.kernels.register("k1", "analyst", login_token, pid_of=lambda: 4242)  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import inspect
import logging
import os
import secrets
import socket
import socketserver
import struct
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AlprError, InvalidInput, NotAuthenticated
from ..store import Store
from . import wire
from .logon import login, record_refusal, resume
from .purpose import Policy
from .session import AccessSession

__all__ = ["DoorService", "KernelBinding", "KernelRegistry", "peer_credentials"]

log = logging.getLogger("alpr_lib.door")


@dataclass(frozen=True)
class KernelBinding:
    """A kernel a workbench server started: whose it is, and how to find its process (its token is the
    registry's key)."""

    kernel_id: str
    member: str
    session_token: str  # the member's login session: stays in the server, never given to the kernel
    pid_of: Callable[[], int | None]


class KernelRegistry:
    """The kernels a server started, by token and by process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_token: dict[str, KernelBinding] = {}
        # Kernels started before their member arrived (dashboards kept ready): token and process finder.
        self._reserved: dict[str, tuple[str, Callable[[], int | None]]] = {}

    def register(
        self, kernel_id: str, member: str, session_token: str, *, pid_of: Callable[[], int | None]
    ) -> str:
        """Bind a new kernel to its member's session; returns the token to give that kernel only."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._by_token[token] = KernelBinding(kernel_id, member, session_token, pid_of)
        return token

    def reserve(self, kernel_id: str, *, pid_of: Callable[[], int | None]) -> str:
        """A token for a kernel started before any member asked for it (a dashboard kernel kept ready).

        Until :meth:`bind` gives the kernel to one member, its token opens nothing: the door refuses it
        as it refuses an unknown one."""
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._reserved[kernel_id] = (token, pid_of)
        return token

    def bind(self, kernel_id: str, member: str, session_token: str) -> None:
        """Give a reserved kernel to ``member``'s session, once: never to a second member."""
        with self._lock:
            token, pid_of = self._reserved.pop(kernel_id)
            self._by_token[token] = KernelBinding(kernel_id, member, session_token, pid_of)

    def unregister(self, kernel_id: str) -> None:
        with self._lock:
            self._reserved.pop(kernel_id, None)
            for token in [t for t, b in self._by_token.items() if b.kernel_id == kernel_id]:
                del self._by_token[token]

    def by_token(self, token: str) -> KernelBinding | None:
        with self._lock:
            for known, binding in self._by_token.items():
                if secrets.compare_digest(known, token):
                    return binding
        return None

    def is_reserved(self, token: str) -> bool:
        with self._lock:
            return any(secrets.compare_digest(known, token) for known, _pid_of in self._reserved.values())

    def by_process(self, pid: int) -> KernelBinding | None:
        """The kernel whose process tree holds ``pid`` (the kernel itself or anything it started)."""
        with self._lock:
            bindings = list(self._by_token.values())
        launched = {b.pid_of(): b for b in bindings}
        for ancestor in _ancestors(pid):
            if ancestor in launched:
                return launched[ancestor]
        return None


def _ancestors(pid: int) -> list[int]:
    """``pid`` and its parents up to init, from /proc."""
    chain: list[int] = []
    while pid > 1 and len(chain) < 64:
        chain.append(pid)
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            break
        pid = int(stat.rsplit(")", 1)[1].split()[1])  # the field after the command's name: its parent
    return chain


def peer_credentials(sock: socket.socket) -> tuple[int, int, int]:
    """Process id, user id and group id of the process at the other end of a Unix socket."""
    size = struct.calcsize("3i")
    pid, uid, gid = struct.unpack("3i", sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, size))
    return pid, uid, gid


class DoorService:
    """The door, listening on a Unix socket. Start it in the process that holds the store."""

    def __init__(
        self,
        store: Store,
        policy: Policy,
        socket_path: Path,
        *,
        client: str,
        allow_password: bool = False,
        display: Mapping[str, Any] | None = None,
    ) -> None:
        self.store = store
        self.policy = policy
        self.path = Path(socket_path)
        self.client = client
        self.allow_password = allow_password
        self.display = dict(display or {})
        self.kernels = KernelRegistry()
        self._server: socketserver.ThreadingUnixStreamServer | None = None

    def start(self) -> None:
        """Listen (in a background thread) until :meth:`stop`."""
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.path.unlink(missing_ok=True)
        service = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                service._serve(self.request)

        server = socketserver.ThreadingUnixStreamServer(str(self.path), Handler)
        server.daemon_threads = True
        # Kernels may run under another account; who may connect is decided per connection, by process.
        os.chmod(self.path, 0o666)
        self._server = server
        threading.Thread(target=server.serve_forever, name="workbench-door", daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        self.path.unlink(missing_ok=True)

    # -- one connection ------------------------------------------------------------------------

    def _serve(self, sock: socket.socket) -> None:
        pid, uid, _gid = peer_credentials(sock)
        try:
            header, _parts = wire.read_message(sock, limit=wire.MAX_REQUEST)
            header_op = header.get("op")
            session = self._open(header, pid, uid)
        except (EOFError, OSError):
            return
        except AlprError as exc:
            _reply_error(sock, exc)
            return
        hello = {
            "ok": True,
            "user": {"name": session.name, "role": session.role},
            "client": session.client,
            # The department's rules, less where the door keeps its files (nothing a kernel may open).
            "policy": wire.encode(dataclasses.replace(session.policy, image_store=None), []),
            "display": self.display,
        }
        try:
            wire.write_message(sock, hello)
            while True:
                header, parts = wire.read_message(sock, limit=wire.MAX_REQUEST)
                self._answer(sock, session, header, parts)
        except (EOFError, OSError):
            return
        except AlprError as exc:  # a malformed frame: say so and hang up
            _reply_error(sock, exc)
        finally:
            if header_op == "login":
                # A password session lives on its connection: it ends when the connection does.
                with contextlib.suppress(AlprError):
                    session.close()

    def _open(self, header: Mapping[str, Any], pid: int, uid: int) -> AccessSession:
        """The session a new connection speaks for, or a refusal (audited)."""
        op = header.get("op")
        peer = {"pid": pid, "uid": uid}
        if op == "hello" and isinstance(header.get("kernel_token"), str):
            binding = self.kernels.by_token(header["kernel_token"])
            used_from = self.kernels.by_process(pid)
            if binding is None or used_from is not binding:
                record_refusal(
                    self.store,
                    client=self.client,
                    operation="door.connect",
                    user_name=binding.member if binding else None,
                    params={
                        "kernel": binding.kernel_id if binding else None,
                        "from_kernel": used_from.kernel_id if used_from else None,
                        "from_member": used_from.member if used_from else None,
                        "peer": peer,
                    },
                    detail=(
                        "a kernel token used outside its kernel"
                        if binding
                        else "the token of a kernel not yet given to a member"
                        if self.kernels.is_reserved(header["kernel_token"])
                        else "an unknown kernel token"
                    ),
                )
                raise NotAuthenticated(
                    "this kernel's workbench session works only in the kernel it was given to"
                    if binding
                    else "that kernel token is not known; reopen the notebook from the workbench"
                )
            return resume(self.store, binding.session_token, client=self.client, policy=self.policy)
        if op == "login" and self.allow_password:
            return login(
                self.store,
                str(header.get("user", "")),
                str(header.get("password", "")),
                client=self.client,
                policy=self.policy,
            )
        record_refusal(
            self.store,
            client=self.client,
            operation="door.connect",
            user_name=str(header.get("user"))[:64] if header.get("user") else None,
            params={"peer": peer, "op": str(op)[:32]},
            detail="no kernel token" if self.allow_password is False else "no login",
        )
        raise NotAuthenticated(
            "the door answers only a workbench kernel; open the notebook from the workbench"
        )

    def _answer(
        self, sock: socket.socket, session: AccessSession, header: Mapping[str, Any], parts: list[bytes]
    ) -> None:
        name = header.get("op")
        try:
            if name not in wire.CLIENT_OPERATIONS:
                raise InvalidInput(f"the door has no operation {str(name)[:40]!r}")
            args = wire.decode(header.get("args", []), parts)
            kwargs = wire.decode(header.get("kwargs", {"$dict": {}}), parts)
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise InvalidInput("the door received a malformed request")
            value = _call(session, str(name), args, kwargs)
        except AlprError as exc:
            _reply_error(sock, exc)
            return
        except Exception as exc:  # never the details (they may hold data); the kind goes to the log
            log.error("door operation %s failed: %s", name, type(exc).__name__)
            _reply_error(sock, wire.DoorError(f"the operation failed unexpectedly ({type(exc).__name__})"))
            return
        out: list[bytes] = []
        wire.write_message(sock, {"ok": True, "value": wire.encode(value, out)}, out)


def _call(session: AccessSession, name: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
    method = getattr(session, name)
    if name == "release":
        # The package is written where the door chooses and sent back: a client never names a path
        # on the door's machine.
        kwargs.pop("dest", None)
        _bind(method, args, {**kwargs, "dest": Path("/")})
        with tempfile.TemporaryDirectory(prefix="workbench-release-") as folder:
            result = method(*args, dest=Path(folder) / "package", **kwargs)
            root = Path(folder) / "package"
            inside = sorted(root.rglob("*"))
            files = {str(p.relative_to(root)): p.read_bytes() for p in inside if p.is_file()}
            folders = [str(p.relative_to(root)) for p in inside if p.is_dir()]
        return dataclasses.replace(result, package="", files=files, folders=folders)
    _bind(method, args, kwargs)
    return method(*args, **kwargs)


@functools.cache
def _signature(name: str) -> inspect.Signature:
    return inspect.signature(getattr(AccessSession, name))


def _bind(method: Callable[..., Any], args: list[Any], kwargs: dict[str, Any]) -> None:
    try:
        _signature(method.__name__).bind(None, *args, **kwargs)
    except TypeError as exc:
        raise InvalidInput(f"{method.__name__}: {exc}") from None


def _reply_error(sock: socket.socket, exc: AlprError) -> None:
    try:
        wire.write_message(sock, {"ok": False, "error": type(exc).__name__, "message": str(exc)})
    except OSError:
        pass
