"""Real JupyterLab and Voila servers for tests: started with the workbench CLI, stopped after."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from tornado.websocket import WebSocketClientConnection

from .conftest import TEST_RETENTION_DAYS

#: How the browser tests run Debian's Chromium (never a browser that Playwright downloads).
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    db: str
    log: Path

    @property
    def images(self) -> Path:
        """The server's image store (``<data_dir>/images``; the data folder lies beside the log)."""
        return self.log.parent / "data" / "images"

    @property
    def door_socket(self) -> Path:
        """The door's socket, as the server prints it at start."""
        found = re.search(r"The workbench door listens on (\S+)", self.log.read_text())
        assert found, "the server did not say where its door listens"
        return Path(found.group(1))


@contextmanager
def run_server(command: str, db: str, folder: Path, tmp: Path, *extra: str) -> Iterator[Server]:
    """``workbench lab`` or ``workbench serve`` (with ``extra`` options) on a free loopback port, until the
    block ends."""
    port = free_port()
    log = tmp / f"{command}.log"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update(WORKBENCH_DATA_DIR=str(tmp / "data"), JUPYTER_RUNTIME_DIR=str(tmp / "runtime"))
    if os.environ.get("WORKBENCH_KEY_DIR"):  # the run's key folder: the demo city is signed with its key
        env.update(WORKBENCH_KEY_DIR=os.environ["WORKBENCH_KEY_DIR"])
    config = tmp / "data" / "workbench.toml"
    if not config.exists():  # the daily purge only where a test asks for it: not at 03:15 during another test
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text('purge_at = "off"\n')
    if "retention_days" not in config.read_text():  # the demo city is a fixed past month: keep it in view
        env.update(WORKBENCH_RETENTION_DAYS=str(TEST_RETENTION_DAYS))
    flag = "--notebooks" if command == "lab" else "--apps"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "workbench",
                command,
                "--port",
                str(port),
                "--no-browser",
                flag,
                str(folder),
            ]
            + ["--db", db, *extra],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    url = f"{'https' if '--certfile' in extra else 'http'}://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"workbench {command} exited: {log.read_text()[-2000:]}")
            try:
                httpx.get(url + "/login", timeout=2, verify=False)  # a test's own certificate
                break
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"workbench {command} did not start: {log.read_text()[-2000:]}"
                    ) from None
                time.sleep(0.3)
        yield Server(url, db, log)
    finally:
        if proc.poll() is None:  # a server that failed to start has nothing left to stop
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def web_login(url: str, user: str, password: str) -> tuple[httpx.Client, httpx.Response]:
    """Log in through the login page as a browser would (XSRF field included)."""
    client = httpx.Client(base_url=url, timeout=30, verify=False)  # a TLS test's certificate is its own
    page = client.get("/login")
    xsrf = re.search(r'name="_xsrf" value="([^"]+)"', page.text)
    assert xsrf, "the login page has no XSRF field"
    reply = client.post("/login", data={"_xsrf": xsrf.group(1), "username": user, "password": password})
    return client, reply


async def close_channel(conn: WebSocketClientConnection) -> None:
    """Close a kernel's websocket and its socket with it. Tornado waits up to 5 s for the server's closing
    frame before it tears the connection down; a test whose event loop ends sooner would leave the socket
    open, to be reported (``ResourceWarning``) in whichever test the collector runs next."""
    protocol = conn.protocol
    conn.close()
    if protocol is None:
        return
    deadline = time.monotonic() + 2
    while not protocol.stream.closed() and time.monotonic() < deadline:
        await asyncio.sleep(0.01)
    protocol.stream.close()  # what the server did not close in time: no socket is left behind
