"""A `workbench serve` that keeps dashboard kernels ready: a kept kernel belongs to nobody until it is
given, and no member can open one.

Members opening dashboards together are measured by ``benchmarks/bench_dashboards.py``; the suite's test of
twenty at once is not here yet: with kernels kept ready some pages were served but never drawn (issue 27)."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from alpr_lib.store import Store

from .conftest import DEMO_PASSWORD, copy_of
from .engines import drop_database
from .servers import Server, run_server, web_login

pytestmark = pytest.mark.slow

APPS = Path(__file__).resolve().parent.parent / "voila_apps"
READY = 3


@pytest.fixture(scope="module")
def served(demo_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    tmp = tmp_path_factory.mktemp("dashboard-load")
    url = copy_of(demo_template, tmp, "city")
    store = Store(url)
    config = tmp / "data" / "workbench.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'purge_at = "off"\nready_kernels = {READY}\n')
    with run_server("serve", str(store.url), APPS, tmp) as server:
        yield server
    store.dispose()
    drop_database(url)


def wait_for_ready_kernels(server: Server, timeout: float = 240) -> None:
    import time

    deadline = time.monotonic() + timeout
    while f"Dashboard kernels ready: {READY}" not in server.log.read_text():
        assert time.monotonic() < deadline, "the server did not warm its kernels"
        time.sleep(0.5)


async def open_kernel(server: Server, cookie: str, kernel_id: str) -> str:
    """Try a kernel's channels as a browser would, and ask it for its environment."""
    url = server.url.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels?session_id=curious"
    try:
        conn = await websocket_connect(HTTPRequest(url, headers={"Cookie": cookie}))
    except Exception as exc:  # noqa: BLE001 - the refusal is the expected outcome
        return f"refused: {exc}"
    header = {
        "msg_id": uuid.uuid4().hex, "msg_type": "execute_request", "username": "", "session": "curious",
        "version": "5.3", "date": "2026-12-06T00:00:00Z",
    }  # fmt: skip
    code = "import os; print(dict(os.environ))"
    content = {"code": code, "silent": False, "store_history": False, "user_expressions": {}}
    conn.write_message(
        json.dumps({"header": header, "parent_header": {}, "metadata": {}, "content": content,
                    "buffers": [], "channel": "shell"})
    )  # fmt: skip
    try:
        raw = await asyncio.wait_for(conn.read_message(), 5)
    except TimeoutError:
        raw = None
    finally:
        conn.close()
    return "answered" if raw else "closed"


def test_a_kept_kernel_is_not_reachable_before_it_is_given(served: Server) -> None:
    """Kernels kept ready belong to nobody: a logged-in member cannot open one."""
    server = served
    wait_for_ready_kernels(server)
    client, _ = web_login(server.url, "analyst", DEMO_PASSWORD)
    try:
        cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
        log = server.log.read_text()
        given = set(re.findall(r"given to a member: (\S+)", log))
        unclaimed = [k for k in re.findall(r"Kernel started: (\S+)", log) if k not in given]
        assert unclaimed
        for kid in unclaimed[:2]:
            outcome = asyncio.run(open_kernel(server, cookie, kid))
            assert outcome.startswith("refused") and "403" in outcome, outcome
    finally:
        client.close()
