"""Starting JupyterLab and Voila behind the workbench login, on this machine only by default.

The server process is the only holder of the database and the settings: it runs the door as a service
on a Unix socket (:class:`~alpr_lib.access.service.DoorService`) and starts every kernel in a sandbox
(:mod:`workbench.sandbox`) whose environment names the door's socket and the kernel's own token, and
nothing else of the workbench's.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import shutil
import sys
import tempfile
import threading
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_core.paths import jupyter_runtime_dir

from alpr_lib.access import Policy
from alpr_lib.access.service import DoorService
from alpr_lib.errors import ConfigError
from alpr_lib.store import Store

from . import sandbox
from .basemap import ROUTE as TILE_ROUTE
from .basemap import Basemap

__all__ = ["Runtime", "lab_argv", "launch", "runtime", "voila_argv"]

_AUTH = "workbench.server_auth"
_CULL = ["--MappingKernelManager.cull_idle_timeout=1800", "--MappingKernelManager.cull_interval=120"]
#: Environment variables the server itself must not keep (its kernels get none of its environment).
_SECRETS = (
    "WORKBENCH_PASSWORD",
    "WORKBENCH_NEW_PASSWORD",
    "WORKBENCH_DEMO_PASSWORD",
    "WORKBENCH_SESSION",
    "WORKBENCH_KERNEL_TOKEN",
    "JUPYTER_TOKEN",
)


@dataclass
class Runtime:
    """The running server's door: its store, policy, client kind and service; set once by :func:`launch`."""

    store: Store
    policy: Policy
    client: str
    service: DoorService
    protected: bool
    #: Reverse proxies whose X-Forwarded-* headers are believed.
    trusted_proxies: frozenset[str] = frozenset()
    #: The department's basemap, whose tiles the server serves (None: no basemap).
    basemap: Basemap | None = None
    #: The folder of notebooks the server serves (the dashboards, or the Lab's workspace).
    served: Path | None = None


_RUNTIME: Runtime | None = None


class PurgeScheduler(threading.Thread):
    """While a server runs, the purge of reads past retention, each day at the set local time (setting
    ``purge_at``), or every N seconds (``every Ns``, for tests): nobody has to remember to run it, and no
    administrator's password sits in a file for cron. Each run is audited as the system's."""

    def __init__(self, store: Store, policy: Policy, schedule: dt.time | int) -> None:
        super().__init__(name="workbench-purge", daemon=True)
        self.store, self.policy, self.schedule = store, policy, schedule
        self._stop = threading.Event()

    def wait(self, now: dt.datetime) -> float:
        """Seconds from ``now`` (aware) to the next run."""
        if isinstance(self.schedule, int):
            return float(self.schedule)
        local = now.astimezone(zoneinfo.ZoneInfo(self.policy.timezone))
        at = dt.datetime.combine(local.date(), self.schedule, local.tzinfo)
        if at <= local:
            at += dt.timedelta(days=1)
        return (at - local).total_seconds()

    def run(self) -> None:
        from alpr_lib.media import ImageStore
        from alpr_lib.retention import scheduled_purge

        images = ImageStore(self.policy.image_store)
        while not self._stop.wait(self.wait(dt.datetime.now(dt.UTC))):
            try:
                scheduled_purge(self.store, retention_days=self.policy.retention_days, images=images)
            except Exception as exc:  # noqa: BLE001 - tomorrow's purge must still run; the kind is logged
                logging.getLogger(__name__).error("the scheduled purge failed (%s)", type(exc).__name__)

    def stop(self) -> None:
        self._stop.set()


def runtime() -> Runtime:
    """The server's :class:`Runtime` (only inside ``workbench lab``/``serve``)."""
    if _RUNTIME is None:
        raise RuntimeError("the workbench door is not running in this process")
    return _RUNTIME


def _root() -> list[str]:
    return ["--ServerApp.allow_root=True"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


def _tls_argv(app: str, tls: tuple[Path, Path] | None) -> list[str]:
    return [] if tls is None else [f"--{app}.certfile={tls[0]}", f"--{app}.keyfile={tls[1]}"]


def lab_argv(
    root: Path, *, ip: str, port: int, browser: bool, tls: tuple[Path, Path] | None = None
) -> list[str]:
    return [
        *_tls_argv("ServerApp", tls),
        f"--ServerApp.root_dir={root}",
        f"--ServerApp.ip={ip}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.open_browser={browser}",
        f"--ServerApp.identity_provider_class={_AUTH}.WorkbenchIdentityProvider",
        f"--ServerApp.authorizer_class={_AUTH}.WorkbenchAuthorizer",
        f"--ServerApp.kernel_manager_class={_AUTH}.WorkbenchKernelManager",
        f"--ServerApp.session_manager_class={_AUTH}.WorkbenchSessionManager",
        f"--ServerApp.kernel_websocket_connection_class={_AUTH}.AuditedKernelConnection",
        "--ServerApp.contents_manager_class=workbench.server_files.MembersContentsManager",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        *_CULL,
        *_root(),
    ]


#: How long a dashboard's execution waits for a cell's outputs after its reply (nbclient's default: 4 s).
_IOPUB_WAIT_S = 120


def voila_argv(
    root: Path,
    *,
    ip: str,
    port: int,
    browser: bool,
    tls: tuple[Path, Path] | None = None,
    ready_kernels: int = 0,
) -> list[str]:
    return [
        str(root),
        *_tls_argv("WorkbenchVoila", tls),
        f"--Voila.ip={ip}",
        f"--Voila.port={port}",
        f"--Voila.open_browser={browser}",
        f"--Voila.identity_provider_class={_AUTH}.WorkbenchIdentityProvider",
        f"--Voila.authorizer_class={_AUTH}.WorkbenchAuthorizer",
        f"--VoilaConfiguration.multi_kernel_manager_class={_AUTH}.WorkbenchKernelManager",
        f"--WorkbenchKernelManager.ready_kernels={ready_kernels}",
        f"--Voila.kernel_websocket_connection_class={_AUTH}.AuditedKernelConnection",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.allow_theme_override=NO",
        "--VoilaConfiguration.template=workbench",
        # A dashboard cell's outputs (its widgets) can reach the server seconds after the cell's reply when
        # many members open pages at once; nbclient's default 4 s wait drops them and the page never draws.
        f"--VoilaExecutor.iopub_timeout={_IOPUB_WAIT_S}",
        *_CULL,
    ]


def _voila_app() -> Any:
    """Voila, able to serve over TLS itself (``certfile``/``keyfile``, as Jupyter Server takes them)."""
    import ssl

    from traitlets import Unicode
    from voila.app import Voila

    class WorkbenchVoila(Voila):  # type: ignore[misc]
        certfile = Unicode("", config=True, help="TLS certificate (PEM).")
        keyfile = Unicode("", config=True, help="TLS certificate's private key (PEM).")

        def listen(self) -> None:
            if self.certfile:
                context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
                context.minimum_version = ssl.TLSVersion.TLSv1_2
                context.load_cert_chain(self.certfile, self.keyfile or None)
                plain = self.app.listen
                self.app.listen = lambda port, address="", **kw: plain(
                    port, address, ssl_options=context, **kw
                )
            super().listen()

        @property
        def display_url(self) -> str:
            url = str(super().display_url)
            return url.replace("http://", "https://", 1) if self.certfile else url

    return WorkbenchVoila


def _workspace(data_dir: Path, shipped: Path) -> tuple[Path, Path, Path]:
    """JupyterLab's folder: ``shipped/`` (the analyst and training notebooks, refreshed at each start,
    read-only to members) and ``members/NAME/`` (each member's own notebooks)."""
    root = data_dir / "lab"
    root.mkdir(parents=True, exist_ok=True, mode=0o700)
    copy = root / "shipped"
    if shipped.is_dir():
        shutil.copytree(shipped, copy, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".*", "__pycache__"))
    copy.mkdir(exist_ok=True)
    members = root / "members"
    members.mkdir(exist_ok=True, mode=0o711)  # kernels pass through to their member's folder only
    return root, copy, members


def launch(
    client: str,
    store: Store,
    folder: Path,
    *,
    policy: Policy,
    data_dir: Path,
    hidden: list[Path],
    ip: str,
    port: int,
    browser: bool,
    protected: bool = True,
    kernel_user: str = "nobody",
    trusted_proxies: frozenset[str] = frozenset(),
    purge_at: dt.time | int | None = None,
    display: dict[str, str] | None = None,
    basemap: Basemap | None = None,
    tls: tuple[Path, Path] | None = None,
    ready_kernels: int = 0,
) -> None:
    """Run JupyterLab (``client="lab"``) over the notebooks in ``folder``, or Voila (``"dashboard"``) over
    the dashboards in ``folder``, with the door as a service, until stopped.

    ``protected=False`` (single-user mode, asked for explicitly) starts kernels without the sandbox; every
    audit entry the server writes then says so (client ``lab-unprotected`` / ``dash-unprotected``).
    """
    global _RUNTIME
    if protected and shutil.which("bwrap") is None:
        raise ConfigError(
            "kernels run in a bubblewrap sandbox and bwrap is not installed: apt-get install bubblewrap "
            "(or start with --unprotected on a single-user machine)"
        )
    for key in _SECRETS:
        os.environ.pop(key, None)
    audit_client = (
        client if protected else {"lab": "lab-unprotected", "dashboard": "dash-unprotected"}[client]
    )
    run = Path(jupyter_runtime_dir())
    # The door's socket and the kernels' IPC sockets: a private folder with a short path (a Unix socket's
    # path holds 107 bytes), readable by this account only; kernels see their own parts of it, bound in.
    door_dir = Path(tempfile.mkdtemp(prefix="workbench-"))
    display = dict(display or {})
    if basemap is not None:  # the browser asks this server for tiles, never another host
        display["basemap_url"] = "/" + TILE_ROUTE
    service = DoorService(store, policy, door_dir / "door.sock", client=audit_client, display=display)
    service.start()
    print(f"The workbench door listens on {service.path}", file=sys.stderr, flush=True)
    if client == "lab":
        root, shipped, members = _workspace(data_dir, folder)
        readonly, members_root = [shipped], members
    else:
        root, readonly, members_root = folder.resolve(), [folder.resolve()], None
    sandbox.PLAN = sandbox.SandboxPlan(
        door_socket=service.path,
        kernel_dir=door_dir,
        readonly=readonly,
        members_root=members_root,
        hidden=[*hidden, run, data_dir],
        kernel_user=kernel_user,
        enabled=protected,
    )
    _RUNTIME = Runtime(store, policy, audit_client, service, protected, trusted_proxies, basemap, root)
    purger = PurgeScheduler(store, policy, purge_at) if purge_at is not None else None
    if purger is not None:
        purger.start()
    os.environ["JUPYTER_DEFAULT_PROVISIONER_NAME"] = "workbench-sandbox"
    # Our Voila template (no CDN links) is found on the Jupyter data path.
    data = str(Path(__file__).resolve().parent / "jupyter_data")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (data, os.environ.get("JUPYTER_PATH", "")) if p)
    if not protected:
        print(
            "UNPROTECTED single-user mode: kernels run without the sandbox and can reach what this account "
            "can. Every audit entry this server writes says so.",
            file=sys.stderr,
            flush=True,
        )
    try:
        if client == "lab":
            from jupyterlab.labapp import LabApp

            LabApp.launch_instance(argv=lab_argv(root, ip=ip, port=port, browser=browser, tls=tls))
        else:
            argv = voila_argv(root, ip=ip, port=port, browser=browser, tls=tls, ready_kernels=ready_kernels)
            _voila_app().launch_instance(argv=argv)
    finally:
        if purger is not None:
            purger.stop()
        service.stop()
        shutil.rmtree(door_dir, ignore_errors=True)
