"""Starting JupyterLab and Voila behind the workbench login, on this machine only by default."""

from __future__ import annotations

import os
from pathlib import Path

from alpr_lib.store import Store

__all__ = ["lab_argv", "launch", "prepare_environment", "voila_argv"]

_AUTH = "workbench.server_auth"
_CULL = ["--MappingKernelManager.cull_idle_timeout=1800", "--MappingKernelManager.cull_interval=120"]


def prepare_environment(db_url: str, client: str) -> None:
    """What the server and its kernels inherit: the database, the client kind, and no passwords."""
    for key in (
        "WORKBENCH_PASSWORD",
        "WORKBENCH_NEW_PASSWORD",
        "WORKBENCH_DEMO_PASSWORD",
        "WORKBENCH_SESSION",
    ):
        os.environ.pop(key, None)
    os.environ["WORKBENCH_DB_URL"] = db_url
    os.environ["WORKBENCH_CLIENT"] = client
    # Our Voila template (no CDN links) is found on the Jupyter data path.
    data = str(Path(__file__).resolve().parent / "jupyter_data")
    os.environ["JUPYTER_PATH"] = os.pathsep.join(p for p in (data, os.environ.get("JUPYTER_PATH", "")) if p)


def _root() -> list[str]:
    return ["--ServerApp.allow_root=True"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []


def lab_argv(root: Path, *, ip: str, port: int, browser: bool) -> list[str]:
    return [
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
        "--ServerApp.terminals_enabled=False",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements.NeverCheckForUpdate",
        *_CULL,
        *_root(),
    ]


def voila_argv(root: Path, *, ip: str, port: int, browser: bool) -> list[str]:
    return [
        str(root),
        f"--Voila.ip={ip}",
        f"--Voila.port={port}",
        f"--Voila.open_browser={browser}",
        f"--Voila.identity_provider_class={_AUTH}.WorkbenchIdentityProvider",
        f"--Voila.authorizer_class={_AUTH}.WorkbenchAuthorizer",
        f"--VoilaConfiguration.multi_kernel_manager_class={_AUTH}.WorkbenchKernelManager",
        "--VoilaConfiguration.strip_sources=True",
        "--VoilaConfiguration.show_tracebacks=False",
        "--VoilaConfiguration.allow_template_override=NO",
        "--VoilaConfiguration.allow_theme_override=NO",
        "--VoilaConfiguration.template=workbench",
        *_CULL,
    ]


def launch(client: str, store: Store, root: Path, *, ip: str, port: int, browser: bool) -> None:
    """Run JupyterLab (``client="lab"``) or Voila (``"dashboard"``) over ``root`` until stopped."""
    prepare_environment(store.url.render_as_string(hide_password=False), client)
    if client == "lab":
        from jupyterlab.labapp import LabApp

        LabApp.launch_instance(argv=lab_argv(root.resolve(), ip=ip, port=port, browser=browser))
    else:
        from voila.app import Voila

        Voila.launch_instance(argv=voila_argv(root.resolve(), ip=ip, port=port, browser=browser))
