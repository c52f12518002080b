"""Kernels in a sandbox: what a member's code can reach is what the kernel was given, nothing else.

Every kernel a workbench server starts runs inside ``bwrap`` (bubblewrap), through
:class:`SandboxProvisioner`, a jupyter_client kernel provisioner:

* its own PID namespace: it sees only its own processes — not the server, not other kernels, so no
  other process's environment or memory;
* no network (its own empty network namespace): it talks to the server over Unix sockets only (the
  kernel's ZeroMQ channels use the IPC transport, in a folder of its own) and reaches no database
  server;
* a file system built from an allow-list, read-only: the system (``/usr``, ``/etc``), Python and the
  installed packages, the notebooks it may open, its own connection folder and the door's socket.
  The data folder, the database file, the settings file and the server's runtime folder are not there
  (and masked if they lie inside something that is);
* when the server runs as root, it runs as an unprivileged account (``kernel_user``, default
  ``nobody``) with no capabilities.

The kernel's environment is built from an allow-list too: it names the door's socket and the kernel's
own token, never the database, a password or the member's login session.
"""

from __future__ import annotations

import os
import pwd
import shutil
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner

__all__ = ["DOOR_SOCKET", "PLAN", "SandboxPlan", "SandboxProvisioner", "bwrap_argv", "kernel_env"]

#: Where a sandboxed kernel finds the door's socket.
DOOR_SOCKET = "/run/workbench/door.sock"
#: Environment variables a kernel may inherit from the server; everything else is dropped.
_ENV_KEEP = (
    "PATH", "LANG", "LANGUAGE", "TZ", "TERM", "PYTHONHASHSEED", "OMP_NUM_THREADS",
    # What Voila tells a dashboard's kernel about its page request (voila.utils.get_query_string).
    "SCRIPT_NAME", "PATH_INFO", "QUERY_STRING", "SERVER_SOFTWARE", "SERVER_PROTOCOL", "SERVER_PORT",
    "SERVER_NAME",
)  # fmt: skip
_ENV_PREFIXES = ("LC_", "JPY_")


@dataclass
class SandboxPlan:
    """What the server's kernels may see, set once when the server starts.

    ``readonly``: folders a kernel reads (the shipped notebooks, the dashboards); ``writable``: folders
    of members' own notebooks (a kernel gets its member's only); ``hidden``: what must never be
    reachable even if it lies inside something that is (data folder, database, settings, runtime).
    """

    door_socket: Path
    kernel_dir: Path  # each kernel's connection folder goes here (short: a socket's path has 107 bytes)
    readonly: list[Path] = field(default_factory=list)
    members_root: Path | None = None
    hidden: list[Path] = field(default_factory=list)
    kernel_user: str = "nobody"
    enabled: bool = True

    @property
    def kernel_ids(self) -> tuple[int, int] | None:
        """The account kernels run as (uid, gid) when the server runs as root; None otherwise."""
        if os.geteuid() != 0:
            return None
        entry = pwd.getpwnam(self.kernel_user)
        return entry.pw_uid, entry.pw_gid

    def member_folder(self, member: str) -> Path | None:
        if self.members_root is None:
            return None
        folder = self.members_root / member
        if not folder.exists():
            folder.mkdir(parents=True, mode=0o700)
            ids = self.kernel_ids
            if ids:
                os.chown(folder, *ids)
        return folder


#: The running server's plan (set by :func:`workbench.servers.launch`); kernels start only with one.
PLAN: SandboxPlan | None = None


def _python_paths() -> list[Path]:
    """What the kernel's Python needs: its prefixes and the workbench's own packages (editable installs
    live outside site-packages)."""
    import alpr_lib
    import workbench

    paths = {Path(sys.prefix), Path(sys.base_prefix), Path(sys.exec_prefix)}
    paths |= {Path(p).resolve() for p in (sys.prefix, sys.base_prefix)}
    paths |= {Path(alpr_lib.__file__).resolve().parent, Path(workbench.__file__).resolve().parent}
    return sorted(p for p in paths if p.exists())


def _inside(path: Path, folders: list[Path]) -> bool:
    return any(path == f or f in path.parents for f in folders)


def bwrap_argv(plan: SandboxPlan, *, cwd: Path, connection_dir: Path, member: str | None) -> list[str]:
    """The ``bwrap`` command line that runs a kernel command for ``member`` in ``cwd``."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise RuntimeError("bubblewrap is not installed: apt-get install bubblewrap")
    argv = [bwrap, "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc"]
    for link in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        target = Path("/") / link
        if target.is_symlink():
            argv += ["--symlink", os.readlink(target), str(target)]
        elif target.is_dir():
            argv += ["--ro-bind", str(target), str(target)]
    argv += ["--proc", "/proc", "--dev", "/dev", "--perms", "1777", "--tmpfs", "/tmp"]
    mounts: list[tuple[str, Path]] = [("--ro-bind", p) for p in _python_paths()]
    mounts += [("--ro-bind", folder) for folder in plan.readonly]
    own = plan.member_folder(member) if member else None
    if own is not None:
        mounts.append(("--bind", own))
    mounts.append(("--bind", connection_dir))
    # The folders leading to each mount, passable by the kernel's account (bwrap would make them 0700).
    parents = {a for _kind, path in mounts for a in path.parents} | {Path(DOOR_SOCKET).parent}
    for parent in sorted(parents, key=lambda p: len(p.parts)):
        if parent != Path("/") and not _inside(
            parent, [Path("/usr"), Path("/etc"), Path("/proc"), Path("/dev")]
        ):
            argv += ["--perms", "0755", "--dir", str(parent)]
    for kind, path in mounts:
        argv += [kind, str(path), str(path)]
    argv += ["--bind", str(plan.door_socket), DOOR_SOCKET]
    bound = [Path("/usr"), Path("/etc"), *(path for _kind, path in mounts)]
    for secret in plan.hidden:
        # Masked where it would otherwise show through an allowed folder (a database kept beside Python);
        # a folder that holds something the kernel needs is left, its secret files masked one by one.
        if not secret.exists() or not _inside(secret, bound):
            continue
        if secret.is_file():
            argv += ["--ro-bind", "/dev/null", str(secret)]
        elif not any(_inside(path, [secret]) for path in bound):
            argv += ["--tmpfs", str(secret)]
    if not _inside(cwd, bound):
        raise PermissionError("a kernel may start only in a notebook folder it is given")
    # ipykernel would take bwrap's init (its parent in the sandbox) for a dead server and quit;
    # --die-with-parent ends the sandbox with the server instead.
    argv += ["--chdir", str(cwd), "--setenv", "HOME", "/tmp", "--unsetenv", "JPY_PARENT_PID"]
    argv += ["--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts", "--unshare-cgroup-try"]
    argv += ["--die-with-parent", "--new-session"]
    ids = plan.kernel_ids
    if ids is not None:
        uid, gid = ids
        argv += ["--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID", "--"]
        argv += [shutil.which("setpriv") or "/usr/bin/setpriv", f"--reuid={uid}", f"--regid={gid}"]
        argv += ["--clear-groups", "--inh-caps=-all", "--bounding-set=-all"]
    argv.append("--")
    return argv


def kernel_env(given: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    """A kernel's environment: the allowed part of the server's and of what Jupyter gives, and ``extra``."""
    keep = {
        k: v
        for source in (os.environ, given)
        for k, v in source.items()
        if k in _ENV_KEEP or k.startswith(_ENV_PREFIXES)
    }
    return {**keep, **extra}


class SandboxProvisioner(LocalProvisioner):  # type: ignore[misc]
    """Launches each kernel inside ``bwrap`` as :data:`PLAN` says; refuses to launch without a plan."""

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        plan = PLAN
        if plan is None:
            raise RuntimeError("kernels start only under a workbench server (no sandbox plan)")
        km = self.parent
        # Each kernel's connection file and IPC sockets in a folder of its own, owned by the kernel's account.
        folder = plan.kernel_dir / str(self.kernel_id)
        folder.mkdir(mode=0o700, exist_ok=True)
        km.connection_file = str(folder / "kernel.json")
        km.transport = "ipc"
        km.ip = str(folder / "ipc")
        km.cache_ports = False
        # Signals cannot reach into the sandbox's own session: interrupts go as messages.
        km.kernel_spec.interrupt_mode = "message"
        kwargs = await super().pre_launch(**kwargs)
        ids = plan.kernel_ids
        if ids is not None:
            os.chown(folder, *ids)
            os.chown(km.connection_file, *ids)
        if plan.enabled:
            env = kwargs.get("env") or {}
            cwd = Path(kwargs.get("cwd") or os.getcwd()).resolve()
            argv = bwrap_argv(plan, cwd=cwd, connection_dir=folder, member=env.get("WORKBENCH_MEMBER"))
            kwargs["cmd"] = argv + list(kwargs["cmd"])
        return kwargs

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart=restart)
        if not restart and PLAN is not None and self.kernel_id:
            shutil.rmtree(PLAN.kernel_dir / str(self.kernel_id), ignore_errors=True)
