"""The kernels' sandbox on its own: what a process started by ``bwrap_argv`` can and cannot reach.

Real bubblewrap, real processes; the servers' tests (test_isolation.py) try the same through JupyterLab.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from workbench import sandbox

PROBE = """
import json, os, socket
found = {{"uid": os.getuid(), "pids": [p for p in os.listdir("/proc") if p.isdigit()]}}
for name, path in (("secret", {secret!r}), ("beside", {beside!r}), ("data", {data!r})):
    try:
        found[name] = open(path).read()
    except OSError as exc:
        found[name] = type(exc).__name__
try:
    socket.create_connection(("127.0.0.1", 22), timeout=1)
    found["net"] = "reached"
except OSError as exc:
    found["net"] = type(exc).__name__
import polars, workbench  # the kernel's Python and the workbench are there
print(json.dumps(found))
"""


@pytest.fixture
def plan(tmp_path: Path) -> sandbox.SandboxPlan:
    if shutil.which("bwrap") is None:
        pytest.fail(
            "bubblewrap is missing: apt-get install bubblewrap (make test installs it when run as root)"
        )
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "notes.txt").write_text("shipped notes")
    (shipped / "city.db").write_text("a database someone kept beside the notebooks")
    data = tmp_path / "data"
    data.mkdir()
    (data / "workbench.db").write_text("the real database")
    door = tmp_path / "door.sock"
    door.touch()
    kernels = tmp_path / "kernels"
    kernels.mkdir()
    return sandbox.SandboxPlan(
        door_socket=door,
        kernel_dir=kernels,
        readonly=[shipped],
        hidden=[shipped / "city.db", shipped, data],  # a file to mask, and folders not to mount
    )


def test_a_sandboxed_process_sees_only_what_it_was_given(plan: sandbox.SandboxPlan, tmp_path: Path) -> None:
    shipped = plan.readonly[0]
    connection = plan.kernel_dir / "k1"
    connection.mkdir()
    if os.geteuid() == 0:
        os.chown(connection, *plan.kernel_ids)  # type: ignore[misc]
    argv = sandbox.bwrap_argv(plan, cwd=shipped, connection_dir=connection, member=None)
    assert (
        "--tmpfs" not in argv[argv.index(str(shipped)) :]
    )  # a folder the kernel needs is never masked whole
    code = PROBE.format(
        secret=str(shipped / "city.db"),
        beside=str(shipped / "notes.txt"),
        data=str(tmp_path / "data" / "workbench.db"),
    )
    out = subprocess.run([*argv, sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout)
    assert found["secret"] in ("", "PermissionError"), found  # masked: a null device, unreadable
    assert found["beside"] == "shipped notes"
    assert found["data"] == "FileNotFoundError"  # the data folder is not mounted at all
    assert found["net"] != "reached" and len(found["pids"]) <= 3
    if os.geteuid() == 0:
        assert found["uid"] == plan.kernel_ids[0]  # type: ignore[index]


def test_a_kernel_may_not_start_outside_its_folders(plan: sandbox.SandboxPlan, tmp_path: Path) -> None:
    with pytest.raises(PermissionError):
        sandbox.bwrap_argv(plan, cwd=tmp_path / "data", connection_dir=plan.kernel_dir, member=None)


def test_a_kernels_environment_is_an_allow_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WORKBENCH_DB_URL", "postgresql+psycopg://app:secret@db/alpr")
    monkeypatch.setenv("PGPASSWORD", "secret")
    env = sandbox.kernel_env(
        {"JPY_SESSION_NAME": "x.ipynb", "AWS_SECRET_ACCESS_KEY": "k"}, {"WORKBENCH_DOOR": "/d"}
    )
    assert (
        "secret" not in json.dumps(env)
        and env["WORKBENCH_DOOR"] == "/d"
        and env["JPY_SESSION_NAME"] == "x.ipynb"
    )
