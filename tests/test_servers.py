"""JupyterLab and Voila behind the workbench login: real servers, real kernels, real websockets."""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import nbformat
import pytest
import sqlalchemy as sa
from tornado.httpclient import HTTPClientError, HTTPRequest
from tornado.websocket import WebSocketClientConnection, websocket_connect

from alpr_lib.store import Store
from alpr_lib.store import schema as s

from .conftest import DEMO_PASSWORD
from .servers import Server, close_channel, run_server, web_login

pytestmark = pytest.mark.slow


@pytest.fixture
def lab(city: Store, tmp_path: Path) -> Iterator[Server]:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), folder / "case-work.ipynb")
    with run_server("lab", str(city.url), folder, tmp_path) as server:
        yield server


def audit(store: Store, operation: str) -> list[sa.Row]:
    with store.read() as conn:
        return conn.execute(
            sa.select(s.AuditEntry).where(s.AuditEntry.operation == operation).order_by(s.AuditEntry.id)
        ).all()


def _headers(client: httpx.Client) -> dict[str, str]:
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    return {"Cookie": cookie, "X-XSRFToken": client.cookies.get("_xsrf", "")}


async def _run_cell(server: Server, client: httpx.Client, kernel_id: str, code: str) -> str:
    """Send one execute_request over the kernel websocket; return the printed output."""
    ws_url = server.url.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels?session_id=test"
    conn = await websocket_connect(HTTPRequest(ws_url, headers=_headers(client)))
    try:
        return await _execute(conn, code)
    finally:
        await close_channel(conn)


async def _execute(conn: WebSocketClientConnection, code: str) -> str:
    msg_id = uuid.uuid4().hex
    conn.write_message(
        json.dumps(
            {
                "channel": "shell",
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": "",
                    "session": "test",
                    "version": "5.3",
                    "date": "2026-11-29T00:00:00Z",
                },
                "parent_header": {},
                "metadata": {},
                "content": {"code": code, "silent": False, "store_history": True, "allow_stdin": False},
                "buffers": [],
            }
        )
    )
    out: list[str] = []
    while True:
        raw = await asyncio.wait_for(conn.read_message(), 60)
        if raw is None:
            raise ConnectionError("the server closed the kernel channel")
        msg = json.loads(raw)
        if msg.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind = msg["header"]["msg_type"]
        if kind == "stream":
            out.append(msg["content"]["text"])
        elif kind == "error":
            out.append(msg["content"]["ename"] + ": " + msg["content"]["evalue"])
        elif kind == "status" and msg["content"]["execution_state"] == "idle":
            return "".join(out)


def test_lab_login_kernel_session_cell_audit_and_isolation(
    lab: Server, city: Store, clients: list[httpx.Client]
) -> None:
    bad, reply = web_login(lab.url, "analyst", "not-the-password-at-all")
    clients.append(bad)
    assert reply.status_code == 401 and "unknown user or wrong password" in reply.text

    analyst, reply = web_login(lab.url, "analyst", DEMO_PASSWORD)
    clients.append(analyst)
    assert reply.status_code == 302
    assert analyst.get("/api/me").json()["identity"]["username"] == "analyst"
    assert analyst.get("/api/terminals").status_code in (403, 404)

    started = analyst.post(
        "/api/sessions",
        json={"path": "shipped/case-work.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
        headers={"X-XSRFToken": analyst.cookies["_xsrf"]},
    )
    assert started.status_code == 201, started.text
    kernel_id = started.json()["kernel"]["id"]
    assert [e.params for e in audit(city, "kernel.start")][-1].find("case-work.ipynb") > 0

    code = "import os, workbench\ns = workbench.connect()\n"
    code += "print(s.name, s.role, 'WORKBENCH_PASSWORD' in os.environ)"
    assert asyncio.run(_run_cell(lab, analyst, kernel_id, code)).split() == ["analyst", "analyst", "False"]
    cell = audit(city, "cell.execute")[-1]
    assert (cell.user_name, cell.role, cell.client, cell.outcome) == ("analyst", "analyst", "lab", "ok")
    params = json.loads(cell.params)
    assert params["code"] == code and params["notebook"] == "shipped/case-work.ipynb"
    assert audit(city, "resume")[-1].user_name == "analyst"  # workbench.connect() in the kernel

    # Another member sees and reaches none of it.
    other, _ = web_login(lab.url, "investigator", DEMO_PASSWORD)
    clients.append(other)
    assert other.get("/api/kernels").json() == []
    assert other.get("/api/sessions").json() == []
    assert other.get(f"/api/kernels/{kernel_id}").status_code == 403
    with pytest.raises(HTTPClientError) as refused:
        asyncio.run(_run_cell(lab, other, kernel_id, "print('not mine')"))
    assert refused.value.code == 403
    assert analyst.get("/api/kernels").json()[0]["id"] == kernel_id

    # After logging out, the page asks for a login and the kernel's channel runs nothing more.
    assert analyst.get("/logout").status_code == 200
    assert analyst.get("/lab").status_code == 302
    cells = len(audit(city, "cell.execute"))
    analyst.cookies.delete("workbench-session")
    with pytest.raises((HTTPClientError, ConnectionError)):
        asyncio.run(_run_cell(lab, analyst, kernel_id, "print('after logout')"))
    assert len(audit(city, "cell.execute")) == cells


def test_a_channel_left_open_runs_nothing_once_its_session_ends(
    lab: Server, city: Store, clients: list[httpx.Client]
) -> None:
    """A tab left open after its member logged out (in another tab): its kernel channel is still connected,
    and a cell sent on it is not run, its attempt is recorded as refused, and the channel is closed."""
    analyst, _ = web_login(lab.url, "analyst", DEMO_PASSWORD)
    clients.append(analyst)
    started = analyst.post(
        "/api/sessions",
        json={"path": "shipped/case-work.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
        headers={"X-XSRFToken": analyst.cookies["_xsrf"]},
    )
    kernel_id = started.json()["kernel"]["id"]
    ws_url = lab.url.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels?session_id=test"

    async def left_open() -> None:
        conn = await websocket_connect(HTTPRequest(ws_url, headers=_headers(analyst)))
        try:
            assert (await _execute(conn, "print('while logged in')")).strip() == "while logged in"
            cells = audit(city, "cell.execute")
            assert analyst.get("/logout").status_code == 200
            with pytest.raises(ConnectionError):
                await _execute(conn, "print('after logout')")
            assert conn.close_code == 4001
            after = audit(city, "cell.execute")[len(cells) :]
            assert [(e.user_name, e.outcome) for e in after] == [("analyst", "denied")]  # refused, recorded
        finally:
            await close_channel(conn)

    asyncio.run(left_open())


def test_the_web_login_holds_against_redirects_control_characters_guessing_and_proxies(
    city: Store, tmp_path: Path, clients: list[httpx.Client]
) -> None:
    """The login page as an attacker uses it: ``next`` aimed off the machine or holding control characters,
    account names probed by failed logons, a stranger guessing on; and behind an HTTPS proxy."""
    apps = tmp_path / "apps"
    apps.mkdir()
    with run_server("serve", str(city.url), apps, tmp_path) as server:

        def attempt(user: str, password: str, next_: str | None = None, **headers: str) -> httpx.Response:
            client = httpx.Client(base_url=server.url, timeout=30)
            clients.append(client)
            page = client.get("/login")
            assert page.status_code == 200
            xsrf = client.cookies["_xsrf"]
            target = "/login" + (f"?next={next_}" if next_ is not None else "")
            return client.post(
                target, data={"_xsrf": xsrf, "username": user, "password": password}, headers=headers
            )

        hostile_targets = (
            "%2F%09%2Fevil.example",
            "%2F%5Cevil.example",
            "https%3A%2F%2Fevil.example",
            "%2F%2Fevil.example",
            "%2Fok%01%0D%0ASet-Cookie%3A+x%3Dy",
            "%2F%E2%80%AE",
        )
        for hostile in hostile_targets:
            reply = attempt("analyst", DEMO_PASSWORD, hostile)
            assert reply.status_code == 302, (hostile, reply.status_code)
            assert reply.headers["location"] == "/", hostile  # the front page, never another site
        assert attempt("analyst", DEMO_PASSWORD, "%2Fvoila%2Frender%2Fcanvass.ipynb").headers["location"] == (
            "/voila/render/canvass.ipynb"
        )
        plain = attempt("analyst", DEMO_PASSWORD).headers["set-cookie"]
        proxied = attempt("analyst", DEMO_PASSWORD, **{"X-Forwarded-Proto": "https"}).headers["set-cookie"]
        assert "workbench-session=" in plain and "Secure" not in plain
        assert "Secure" in proxied  # behind a proxy the settings trust (loopback by default)

        def refusal(reply: httpx.Response) -> tuple[int, str]:
            found = re.search(r'<p class="error" role="alert">(.*?)</p>', reply.text)
            return reply.status_code, found.group(1) if found else ""

        # Whatever is typed, an answer and never a server error (three failures towards the throttle).
        for name, password in [("\x01\x02\x1b[2J", "x"), ("a" * 5000, "b" * 5000), ("名前", "パスワード")]:
            assert attempt(name, password).status_code == 401
        client = httpx.Client(base_url=server.url, timeout=30)
        clients.append(client)
        client.get("/login")
        raw = client.post(
            "/login",
            content=b"_xsrf=" + client.cookies["_xsrf"].encode() + b"&username=%FF%FE&password=%C3%28",
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert raw.status_code < 500
        # The real member's lock (after five failures) and a made-up name answer alike.
        answers = {refusal(attempt(name, "wrong-guess-2026")) for name in ["investigator"] * 5 + ["nobody"]}
        assert len(answers) == 1 and next(iter(answers))[0] == 401
        # A tenth failure from this address: it must wait, even with the right password, and it is recorded.
        attempt("nobody", "wrong-guess-2026")
        assert attempt("analyst", DEMO_PASSWORD).status_code == 429
    throttled = [e for e in audit(city, "logon") if e.detail == "too many failed logons from this address"]
    assert throttled and '"address":"127.0.0.1"' in throttled[-1].params


def test_a_running_server_purges_on_its_own_schedule(city: Store, tmp_path: Path) -> None:
    """Nobody runs `workbench purge`: the server destroys the reads past retention itself (here every two
    seconds instead of once a night), records the destruction and audits it as the system's."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "workbench.toml").write_text('purge_at = "every 2s"\nretention_days = 30\n')
    apps = tmp_path / "apps"
    apps.mkdir()
    with city.read() as conn:
        before = conn.execute(sa.select(sa.func.count()).select_from(s.Read)).scalar_one()
    with run_server("serve", str(city.url), apps, tmp_path):
        for _ in range(60):
            with city.read() as conn:
                record = conn.execute(
                    sa.select(s.DestructionRecord).where(s.DestructionRecord.finished_at.is_not(None))
                ).first()
            if record is not None:
                break
            time.sleep(0.5)
    assert record is not None and record.ran_by == "scheduler" and record.reads_destroyed > 0
    with city.read() as conn:
        after = conn.execute(sa.select(sa.func.count()).select_from(s.Read)).scalar_one()
    assert after == before - record.reads_destroyed  # the demo's month lies past 30 days
    [entry, *_] = [e for e in audit(city, "purge") if e.client == "system"]
    assert (entry.user_name, entry.outcome) == ("scheduler", "ok")


def _self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as a department's own CA would issue (here self-signed)."""
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "alpr.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return cert_path, key_path


def test_over_tls_the_web_login_asks_for_the_code_makes_a_reset_password_changed_and_renews_sessions(
    city: Store, tmp_path: Path, clients: list[httpx.Client]
) -> None:
    import time as clock

    import pyotp

    from alpr_lib.access import login

    supervisor = login(city, "supervisor", DEMO_PASSWORD)
    secret = supervisor.begin_mfa()["secret"]
    supervisor.confirm_mfa(pyotp.TOTP(secret).now())
    login(city, "admin", DEMO_PASSWORD).reset_password("analyst", "copper-meadow-signal-77")
    cert, key = _self_signed(tmp_path)
    apps = tmp_path / "apps"
    apps.mkdir()
    with run_server(
        "serve", str(city.url), apps, tmp_path, "--certfile", str(cert), "--keyfile", str(key)
    ) as server:
        assert server.url.startswith("https://")

        def form(client: httpx.Client, **data: str) -> httpx.Response:
            client.get("/login")
            return client.post("/login", data={"_xsrf": client.cookies["_xsrf"], **data})

        client = httpx.Client(base_url=server.url, timeout=30, verify=False)
        clients.append(client)
        first = form(client, username="supervisor", password=DEMO_PASSWORD)
        assert (
            first.status_code == 200
            and 'name="code"' in first.text
            and "workbench-session" not in client.cookies
        )
        assert client.get("/", follow_redirects=False).status_code == 302  # not logged in without the code
        wrong = form(client, code="000000")
        assert wrong.status_code == 401 and "workbench-session" not in client.cookies
        form(client, username="supervisor", password=DEMO_PASSWORD)
        done = form(client, code=pyotp.TOTP(secret).at(clock.time() + 30))
        assert done.status_code == 302 and "Secure" in done.headers["set-cookie"]
        assert "workbench-session=" in done.headers["set-cookie"]
        # The same browser logging in again gets a new session; the one it held ends (no fixation).
        browser, _ = web_login(server.url, "investigator", DEMO_PASSWORD)
        clients.append(browser)
        held = browser.cookies["workbench-session"]
        again = form(browser, username="investigator", password=DEMO_PASSWORD)
        assert again.status_code == 302 and browser.cookies["workbench-session"] != held
        with city.read() as conn:
            sessions = conn.execute(
                sa.select(s.Session.ended_at)
                .join(s.User, s.User.id == s.Session.user_id)
                .where(s.User.name == "investigator", s.Session.client != "cli")
                .order_by(s.Session.id)
            ).all()
        assert [row.ended_at is not None for row in sessions] == [True, False]

        # A password an administrator reset: the login leads to the page to choose one's own.
        member, reply = web_login(server.url, "analyst", "copper-meadow-signal-77")
        clients.append(member)
        assert reply.status_code == 302 and reply.headers["location"].startswith("/password")
        page = member.get(reply.headers["location"])
        assert page.status_code == 200 and 'name="new"' in page.text
        changed = member.post(
            reply.headers["location"],
            data={
                "_xsrf": member.cookies["_xsrf"],
                "current": "copper-meadow-signal-77",
                "new": "violet-harbour-lantern-42",
                "again": "violet-harbour-lantern-42",
            },
        )
        assert changed.status_code == 200 and "Your password is changed" in changed.text
    login(city, "analyst", "violet-harbour-lantern-42")
    details = {e.detail for e in audit(city, "logon") if e.user_name == "supervisor"}
    assert {"code-needed", "bad-code"} <= details
