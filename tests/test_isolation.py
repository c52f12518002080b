"""What a dishonest member can reach from inside a kernel: nothing but the door.

`workbench lab` and `workbench serve` are started as the README starts them; members log in through
the login page; code runs in their kernels over the real websocket. Every attempt of the issue's list
is made from inside a kernel (or with what a kernel could copy out) and must fail, and each refusal
must leave an audit entry. A legitimate search through ``workbench.connect()`` still works and is
audited.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import pwd
import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest
import sqlalchemy as sa
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from alpr_lib.access.client import DoorClient
from alpr_lib.errors import NotAuthenticated
from alpr_lib.store import Store
from alpr_lib.store import schema as s

from .conftest import DEMO_PASSWORD
from .servers import Server, close_channel, run_server, web_login
from .test_servers import _headers, _run_cell, audit

pytestmark = pytest.mark.slow

APPS = Path(__file__).resolve().parent.parent / "voila_apps"


def _xsrf(client: httpx.Client) -> dict[str, str]:
    return {"X-XSRFToken": client.cookies["_xsrf"]}


def open_notebook(client: httpx.Client, member: str) -> str:
    """The member saves a notebook in their own folder and opens it: the kernel's id."""
    path = f"members/{member}/work.ipynb"
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("print('7ABC123')")
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="7ABC123\n")]
    notebook.cells.append(cell)
    saved = client.put(
        f"/api/contents/{path}", json={"type": "notebook", "content": notebook}, headers=_xsrf(client)
    )
    assert saved.status_code in (200, 201), saved.text
    started = client.post(
        "/api/sessions",
        json={"path": path, "type": "notebook", "name": "", "kernel": {"name": "python3"}},
        headers=_xsrf(client),
    )
    assert started.status_code == 201, started.text
    return str(started.json()["kernel"]["id"])


def in_kernel(server: Server, client: httpx.Client, kernel_id: str, code: str) -> Any:
    """Run ``code`` in the kernel; it prints one JSON document, returned decoded."""
    out = asyncio.run(_run_cell(server, client, kernel_id, code))
    return json.loads(out.strip().splitlines()[-1])


async def _send_raw(
    server: Server, client: httpx.Client, kernel_id: str, message: dict[str, Any]
) -> list[dict]:
    """Send one message as given (any channel, or none) and collect the kernel's answers to it for 3 s."""
    ws_url = server.url.replace("http", "ws") + f"/api/kernels/{kernel_id}/channels?session_id=attacker"
    conn = await websocket_connect(HTTPRequest(ws_url, headers=_headers(client)))
    conn.write_message(json.dumps(message))
    replies: list[dict] = []
    deadline = time.monotonic() + 3
    try:
        while time.monotonic() < deadline:
            try:
                raw = await asyncio.wait_for(conn.read_message(), deadline - time.monotonic())
            except TimeoutError:
                break
            if raw is None:
                break
            reply = json.loads(raw)
            if reply.get("parent_header", {}).get("msg_id") == message["header"]["msg_id"]:
                replies.append(reply)
    finally:
        await close_channel(conn)
    return replies


def _message(msg_type: str, content: dict[str, Any], channel: str | None) -> dict[str, Any]:
    msg = {
        "header": {
            "msg_id": uuid.uuid4().hex, "msg_type": msg_type, "username": "", "session": "attacker",
            "version": "5.3", "date": "2026-11-29T00:00:00Z",
        },
        "parent_header": {}, "metadata": {}, "content": content, "buffers": [],
    }  # fmt: skip
    if channel is not None:
        msg["channel"] = channel
    return msg


PROBE = """
import json, os, socket, sqlite3
db, data, members, port, keys, key = {db!r}, {data!r}, {members!r}, {port}, {keys!r}, {key!r}
found = {{}}
def attempt(name, fn):
    try:
        found[name] = ("reached", str(fn())[:80])
    except Exception as exc:
        found[name] = ("refused", type(exc).__name__)
if db:
    attempt("open_db", lambda: open(db, "rb").read(16))
    uri = f"file:{{db}}?mode=ro"
    attempt("sqlite", lambda: sqlite3.connect(uri, uri=True).execute("select * from reads").fetchone())
found["data_files"] = sorted(os.path.relpath(f"{{d}}/{{f}}", data) for d, _, n in os.walk(data) for f in n)
attempt("members", lambda: sorted(os.listdir(members)))
attempt("key_dir", lambda: os.listdir(keys))
attempt("key_file", lambda: open(key, "rb").read(16))
attempt("server_port", lambda: socket.create_connection(("127.0.0.1", port), timeout=2))
pids = [p for p in os.listdir("/proc") if p.isdigit()]
environs = {{}}
for pid in pids:
    try:
        environs[pid] = open(f"/proc/{{pid}}/environ", "rb").read().decode(errors="replace")
    except OSError as exc:
        environs[pid] = type(exc).__name__
found["pids"] = pids
found["environ"] = dict(os.environ)
found["proc_environs"] = environs
found["uid"] = os.getuid()
print(json.dumps(found))
"""

USE_TOKEN = """
import json, os
from alpr_lib.access.client import DoorClient
try:
    DoorClient(os.environ["WORKBENCH_DOOR"], kernel_token={token!r})
    print(json.dumps("accepted"))
except Exception as exc:
    print(json.dumps([type(exc).__name__, str(exc)]))
"""

SEARCH = """
import json, workbench
s = workbench.connect()
try:
    s.set_purpose({purpose!r}, case={case!r}, reason="canvass for the burglary series")
    r = s.search_partial("*1*")
    print(json.dumps(["ok", r.count, r.audit_id, s.name]))
except Exception as exc:
    print(json.dumps([type(exc).__name__, str(exc)]))
"""


@pytest.fixture
def lab(city: Store, tmp_path: Path) -> Iterator[Server]:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    nbformat.write(nbformat.v4.new_notebook(), folder / "getting-started.ipynb")
    with run_server("lab", str(city.url.render_as_string(hide_password=False)), folder, tmp_path) as server:
        yield server


def _secrets(city: Store) -> list[str]:
    """What must not appear in any environment a kernel can read: the database's name, URL, password."""
    url = city.url
    found = [url.render_as_string(hide_password=False), "WORKBENCH_DB_URL", "WORKBENCH_PASSWORD"]
    found += [v for v in (url.database, url.password) if v]
    return found


def test_a_lab_kernel_reaches_nothing_but_the_door(
    lab: Server, city: Store, tmp_path: Path, clients: list[httpx.Client], run: Any
) -> None:
    analyst, reply = web_login(lab.url, "analyst", DEMO_PASSWORD)
    trainee, _ = web_login(lab.url, "trainee", DEMO_PASSWORD)
    clients += [analyst, trainee]
    assert reply.status_code == 302
    a_kernel, t_kernel = open_notebook(analyst, "analyst"), open_notebook(trainee, "trainee")
    data = tmp_path / "data"
    db = city.url.database if city.url.get_backend_name() == "sqlite" else ""
    port = int(lab.url.rsplit(":", 1)[1])
    keys = Path(os.environ["WORKBENCH_KEY_DIR"])
    key = next(keys.glob("*.key"))  # the department's signing key: the door's, never a kernel's
    probe = PROBE.format(
        db=db, data=str(data), members=str(data / "lab" / "members"), port=port, keys=str(keys), key=str(key)
    )

    seen = in_kernel(lab, analyst, a_kernel, probe)
    assert seen["key_dir"][0] == seen["key_file"][0] == "refused", (seen["key_dir"], seen["key_file"])
    if db:  # the database file cannot be opened, nor found
        assert seen["open_db"][0] == seen["sqlite"][0] == "refused"
    # Of the data folder, only the member's own notebooks and the shipped ones are there.
    assert seen["data_files"] and all(
        f.startswith(("lab/members/analyst/", "lab/shipped/")) for f in seen["data_files"]
    ), seen["data_files"]
    assert seen["members"] == ["reached", "['analyst']"]  # the member's own folder only
    assert seen["server_port"][0] == "refused"  # no network: not even the server, nor a database server
    assert len(seen["pids"]) <= 3  # its own sandbox: no server, no other kernel
    everything = json.dumps(seen["environ"]) + json.dumps(seen["proc_environs"])
    for secret in _secrets(city):
        assert secret not in everything
    assert set(seen["environ"]) >= {"WORKBENCH_DOOR", "WORKBENCH_KERNEL_TOKEN"}
    if os.geteuid() == 0:
        assert seen["uid"] == pwd.getpwnam("nobody").pw_uid

    # No other kernel's token can be read; one copied out anyway (a screen, a notebook) is refused.
    t_token = in_kernel(
        lab, trainee, t_kernel, "import json, os; print(json.dumps(os.environ['WORKBENCH_KERNEL_TOKEN']))"
    )
    a_token = seen["environ"]["WORKBENCH_KERNEL_TOKEN"]
    assert t_token not in json.dumps(seen["proc_environs"])
    refused = in_kernel(lab, trainee, t_kernel, USE_TOKEN.format(token=a_token))  # the untrained member tries
    assert refused[0] == "NotAuthenticated"
    entry = audit(city, "door.connect")[-1]
    params = json.loads(entry.params)
    assert (entry.outcome, entry.user_name, params["from_member"]) == ("denied", "analyst", "trainee")
    assert (params["kernel"], params["from_kernel"]) == (a_kernel, t_kernel)
    assert in_kernel(lab, analyst, a_kernel, USE_TOKEN.format(token=t_token))[0] == "NotAuthenticated"
    assert audit(city, "door.connect")[-1].user_name == "trainee"
    with pytest.raises(NotAuthenticated):  # and from outside every kernel, on the server's own machine
        DoorClient(lab.door_socket, kernel_token=a_token)
    assert json.loads(audit(city, "door.connect")[-1].params)["from_kernel"] is None

    # The legitimate way still works, and is audited as the member's.
    ok = in_kernel(lab, analyst, a_kernel, SEARCH.format(purpose="training", case=None))
    assert ok[0] == "ok" and ok[1] > 0 and ok[3] == "analyst"
    search = audit(city, "search.partial")[-1]
    assert (search.id, search.user_name, search.client, search.outcome) == (ok[2], "analyst", "lab", "ok")
    denied = in_kernel(lab, trainee, t_kernel, SEARCH.format(purpose="investigation", case="26-01234"))
    assert denied[0] == "AccessDenied" and "training" in denied[1]
    assert audit(city, "search.partial")[-1].outcome == "denied"

    # Another member's notebook: not listed, not opened, not downloaded; each refusal audited.
    listing = trainee.get("/api/contents/members")
    assert [m["name"] for m in listing.json().get("content", [])] == ["trainee"], listing.text
    for path in ("/api/contents/members/analyst/work.ipynb", "/files/members/analyst/work.ipynb"):
        assert trainee.get(path).status_code in (403, 404)
    refusal = audit(city, "notebook.refused")[-1]
    assert (refusal.user_name, json.loads(refusal.params)["path"]) == (
        "trainee",
        "members/analyst/work.ipynb",
    )
    saved = json.loads((data / "lab" / "members" / "analyst" / "work.ipynb").read_text())
    assert saved["cells"][0]["outputs"] == [] and "7ABC123" not in json.dumps(saved["cells"][0]["outputs"])
    assert analyst.put(
        "/api/contents/shipped/getting-started.ipynb",
        json={"type": "notebook", "content": nbformat.v4.new_notebook()}, headers=_xsrf(analyst),
    ).status_code == 403  # fmt: skip

    # Code on the control channel is audited before it runs; with no channel it is refused, and not run.
    cells = len(audit(city, "cell.execute"))
    asyncio.run(_send_raw(lab, analyst, a_kernel, _message("execute_request", {"code": "x = 1"}, "control")))
    controlled = audit(city, "cell.execute")
    assert len(controlled) == cells + 1 and json.loads(controlled[-1].params)["channel"] == "control"
    sneak = {"code": "open('sneaked', 'w').write('x')", "silent": False}
    assert not asyncio.run(_send_raw(lab, analyst, a_kernel, _message("execute_request", sneak, None)))
    assert not (data / "lab" / "members" / "analyst" / "sneaked").exists()
    nochannel = audit(city, "kernel.message")[-1]
    assert (nochannel.outcome, nochannel.user_name) == (
        "denied",
        "analyst",
    ) and "no channel" in nochannel.detail
    debug = _message("debug_request", {"command": "evaluate", "arguments": {"expression": "1"}}, "control")
    asyncio.run(_send_raw(lab, analyst, a_kernel, debug))
    assert "debug_request" in audit(city, "kernel.message")[-1].detail
    assert len(audit(city, "cell.execute")) == cells + 1

    # Interrupts and restarts are audited with the member's name.
    assert analyst.post(f"/api/kernels/{a_kernel}/interrupt", headers=_xsrf(analyst)).status_code == 204
    assert audit(city, "kernel.interrupt")[-1].user_name == "analyst"
    assert analyst.post(f"/api/kernels/{a_kernel}/restart", headers=_xsrf(analyst)).status_code == 200
    assert audit(city, "kernel.restart")[-1].user_name == "analyst"
    # The restarted kernel is a new process in a new sandbox: the door knows it as the analyst's still.
    assert in_kernel(lab, analyst, a_kernel, SEARCH.format(purpose="training", case=None))[0] == "ok"

    # A supervisor lists members' notebooks for review (audited); a member may not.
    url = city.url.render_as_string(hide_password=False)
    env = {"WORKBENCH_PASSWORD": DEMO_PASSWORD}
    listed = run("notebooks", "list", "--user", "supervisor", "--json", "--db", url, env=env)
    assert {(r["member"], r["notebook"]) for r in json.loads(listed.stdout)["rows"]} == {
        ("analyst", "work.ipynb"),
        ("trainee", "work.ipynb"),
    }
    assert audit(city, "notebooks.review")[-1].user_name == "supervisor"
    assert run("notebooks", "list", "--user", "analyst", "--db", url, env=env, ok=False).exit_code != 0
    assert audit(city, "notebooks.review")[-1].outcome == "denied"


def test_a_dashboard_kernel_reaches_nothing_but_the_door(
    city: Store, tmp_path: Path, clients: list[httpx.Client]
) -> None:
    with run_server("serve", str(city.url.render_as_string(hide_password=False)), APPS, tmp_path) as server:
        member, _ = web_login(server.url, "investigator", DEMO_PASSWORD)
        clients.append(member)
        page = member.get("/voila/render/canvass.ipynb", timeout=120)
        assert page.status_code == 200 and "There was an error" not in page.text
        kernel_id = re.search(r'"kernelId": ?"([0-9a-f-]{36})"', page.text)
        assert kernel_id, "the dashboard page names no kernel"
        # The member's kernel, and those the server keeps ready for members to come: none holds a secret.
        kernels = _kernel_processes(server.door_socket.parent)
        for _pid, environ in kernels:
            for secret in _secrets(city):
                assert secret not in environ
        mine = [(p, e) for p, e in kernels if kernel_id.group(1) in _cmdline(p)]
        assert len(mine) == 1
        pid, environ = mine[0]
        # The kernel's view of the file system holds neither the database nor the data folder.
        view = Path(f"/proc/{pid}/root")
        if city.url.get_backend_name() == "sqlite":
            assert not (view / str(city.url.database).lstrip("/")).exists()
        assert not (view / str(tmp_path / "data").lstrip("/")).exists() or not os.listdir(
            view / str(tmp_path / "data").lstrip("/")
        )
        assert os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
        assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
        if os.geteuid() == 0:
            assert os.stat(f"/proc/{pid}").st_uid == pwd.getpwnam("nobody").pw_uid
        # The page's own connection was audited as the member's; its token copied out is refused.
        assert (audit(city, "resume")[-1].user_name, audit(city, "resume")[-1].client) == (
            "investigator",
            "dashboard",
        )
        token = environ.split("WORKBENCH_KERNEL_TOKEN=", 1)[1].split("\0", 1)[0]
        with pytest.raises(NotAuthenticated, match="only in the kernel"):
            DoorClient(server.door_socket, kernel_token=token)
        entry = audit(city, "door.connect")[-1]
        assert (entry.outcome, entry.user_name, entry.client) == ("denied", "investigator", "dashboard")
        # Code sent to the dashboard's kernel, as a member with the browser's tools would: refused, recorded.
        sneak = _message("execute_request", {"code": "open('/tmp/sneaked', 'w')", "silent": False}, "shell")
        assert not asyncio.run(_send_raw(server, member, kernel_id.group(1), sneak))
        refused = audit(city, "kernel.message")[-1]
        assert (refused.outcome, refused.user_name) == ("denied", "investigator")
        assert json.loads(refused.params)["msg_type"] == "execute_request"


def _cmdline(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")


def _kernel_processes(folder: Path) -> list[tuple[int, str]]:
    """(pid, environment) of the kernels whose connection files are in ``folder`` (one server's)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes().decode(errors="replace")
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        ours = str(folder).encode() in cmdline and b"ipykernel" in cmdline and b"bwrap" not in cmdline
        if ours and "WORKBENCH_KERNEL_TOKEN=" in environ:
            found.append((int(entry.name), environ))
    return found


def _last_seen(store: Store, member: str) -> dt.datetime:
    with store.read() as conn:
        return conn.execute(
            sa.select(sa.func.max(s.Session.last_seen_at))
            .join(s.User, s.User.id == s.Session.user_id)
            .where(s.User.name == member, s.Session.ended_at.is_(None))
        ).scalar_one()


def _age(store: Store, member: str, minutes: int) -> None:
    users = sa.select(s.User.id).where(s.User.name == member).scalar_subquery()
    with store.atomic() as conn:
        conn.execute(
            sa.update(s.Session)
            .where(s.Session.user_id == users, s.Session.ended_at.is_(None))
            .values(last_seen_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=minutes))
        )


def test_the_idle_lock_counts_the_member_not_the_browser(
    lab: Server, city: Store, clients: list[httpx.Client]
) -> None:
    analyst, _ = web_login(lab.url, "analyst", DEMO_PASSWORD)
    clients.append(analyst)
    kernel = open_notebook(analyst, "analyst")
    _age(city, "analyst", 20)
    before = _last_seen(city, "analyst")
    # A browser tab's background polling: kernels, sessions, the file browser, the kernel's status.
    for path in ("/api/kernels", "/api/sessions", "/api/contents/members/analyst", f"/api/kernels/{kernel}"):
        assert analyst.get(path, headers={"Accept": "application/json"}).status_code == 200
    assert _last_seen(city, "analyst") == before
    # A member's own action — running a cell — resets the idle clock.
    in_kernel(lab, analyst, kernel, "import json; print(json.dumps(1))")
    assert _last_seen(city, "analyst") > before + dt.timedelta(minutes=19)

    # Idle past 30 minutes: the session ends, its kernel is stopped, the next action asks for a login.
    _age(city, "analyst", 31)
    assert analyst.get("/lab", headers={"Accept": "text/html"}).status_code == 302
    deadline = time.monotonic() + 30
    while f"Kernel shutdown: {kernel}" not in lab.log.read_text() and time.monotonic() < deadline:
        time.sleep(0.5)
    assert f"Kernel shutdown: {kernel}" in lab.log.read_text()
    again, _ = web_login(lab.url, "analyst", DEMO_PASSWORD)
    clients.append(again)
    while again.get("/api/kernels").json() and time.monotonic() < deadline + 10:
        time.sleep(0.5)  # the shutdown, under way, completes
    assert again.get("/api/kernels").json() == []


def test_a_kernel_in_another_members_folder_is_refused(
    lab: Server, city: Store, clients: list[httpx.Client]
) -> None:
    analyst, _ = web_login(lab.url, "analyst", DEMO_PASSWORD)
    trainee, _ = web_login(lab.url, "trainee", DEMO_PASSWORD)
    clients += [analyst, trainee]
    open_notebook(analyst, "analyst")
    started = trainee.post(
        "/api/sessions",
        json={"path": "members/analyst/work.ipynb", "type": "notebook", "kernel": {"name": "python3"}},
        headers=_xsrf(trainee),
    )
    assert started.status_code == 403
    refusal = audit(city, "kernel.start")[-1]
    assert (refusal.outcome, refusal.user_name) == ("denied", "trainee")
    assert trainee.get("/api/kernels").json() == []


def test_unprotected_mode_is_asked_for_said_and_marked_in_every_entry(
    city: Store, tmp_path: Path, clients: list[httpx.Client]
) -> None:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    url = str(city.url.render_as_string(hide_password=False))
    with city.read() as conn:
        last = conn.execute(sa.select(sa.func.max(s.AuditEntry.id))).scalar_one()
    with run_server("lab", url, folder, tmp_path, "--unprotected") as server:
        assert "UNPROTECTED single-user mode" in server.log.read_text()
        analyst, reply = web_login(server.url, "analyst", DEMO_PASSWORD)
        clients.append(analyst)
        kernel = open_notebook(analyst, "analyst")
        # Still no database in its environment: the door is its only way, but nothing else is fenced off.
        env = in_kernel(server, analyst, kernel, "import json, os; print(json.dumps(dict(os.environ)))")
        assert "WORKBENCH_DB_URL" not in env and os.path.isabs(env["WORKBENCH_DOOR"])
        ok = in_kernel(server, analyst, kernel, SEARCH.format(purpose="training", case=None))
        assert ok[0] == "ok"
    with city.read() as conn:
        written = set(conn.execute(sa.select(s.AuditEntry.client).where(s.AuditEntry.id > last)).scalars())
    assert written == {"lab-unprotected"}
