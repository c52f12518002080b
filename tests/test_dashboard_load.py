"""Twenty members opening dashboards within seconds of each other, in a real browser against a real
`workbench serve` that keeps kernels ready: every page usable, every search answered and audited as its
own member's, each member on a kernel of their own, and the audit chain whole afterwards.

Speed is measured by ``benchmarks/bench_dashboards.py``; this test holds the behaviour under that load."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from tornado.httpclient import HTTPRequest
from tornado.websocket import websocket_connect

from alpr_lib.access.audit import verify_chain
from alpr_lib.store import Store
from alpr_lib.store import schema as s

from .conftest import DEMO_PASSWORD, copy_of
from .engines import drop_database
from .servers import CHROMIUM, CHROMIUM_FLAGS, Server, close_channel, run_server, web_login

pytestmark = pytest.mark.slow

APPS = Path(__file__).resolve().parent.parent / "voila_apps"
MEMBERS = 20
READY = 6  # fewer kept ready than members arrive: the rest are started while they wait
SEARCHERS = ("analyst", "investigator")
KERNEL_ID = re.compile(r'"kernelId":\s*"([0-9a-f-]{36})"')


@pytest.fixture(scope="module")
def served(
    demo_template: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Store, str]]:
    tmp = tmp_path_factory.mktemp("dashboard-load")
    url = copy_of(demo_template, tmp, "city")
    store = Store(url)
    pattern = json.loads(store.get_meta("manifest") or "{}")["scenarios"]["partial_plate"]["pattern"]
    config = tmp / "data" / "workbench.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'purge_at = "off"\nready_kernels = {READY}\n')
    with run_server("serve", str(store.url), APPS, tmp) as server:
        yield server, store, pattern
    store.dispose()
    drop_database(url)


def wait_for_ready_kernels(server: Server, timeout: float = 240) -> None:
    import time

    deadline = time.monotonic() + timeout
    while f"Dashboard kernels ready: {READY}" not in server.log.read_text():
        assert time.monotonic() < deadline, "the server did not warm its kernels"
        time.sleep(0.5)


async def visit(browser: object, server: Server, user: str, pattern: str, delay: float) -> dict:
    """One member: log in to the partial-plate dashboard, state the purpose, search. Returns what the page
    showed (its kernel, the kernels the server lists to this member, the result line) or the failure."""
    await asyncio.sleep(delay)
    context = await browser.new_context()  # type: ignore[attr-defined]
    page = await context.new_page()
    # Twenty pages drawn by one browser on the server's own two cores: slow, never stuck (the benchmark
    # measures how slow).
    page.set_default_timeout(300_000)
    try:
        await page.goto(f"{server.url}/voila/render/partial_plate.ipynb", wait_until="domcontentloaded")
        await page.fill("#username", user)
        await page.fill("#password", DEMO_PASSWORD)
        await page.click("#login_submit")
        await page.get_by_role("button", name="Set purpose").wait_for()
        kernel = KERNEL_ID.search(await page.content())
        await page.get_by_label("Purpose", exact=True).select_option(label="criminal investigation")
        await page.get_by_label("Case", exact=True).select_option(label="26-01234")
        await page.fill("input[placeholder='why, in a few words']", f"briefing search by {user}")
        await page.get_by_role("button", name="Set purpose").click()
        await page.wait_for_selector("text=Searching for criminal investigation")
        await page.fill("input[placeholder='7?B*']", pattern)
        await page.get_by_role("button", name="Search").click()
        said = await page.wait_for_selector("text=/Partial plate search: [0-9,]+ rows/")
        return {
            "user": user,
            "kernel": kernel.group(1) if kernel else None,
            "said": await said.inner_text(),
            "errors": await page.locator(".wb-error").count(),
        }
    except Exception as exc:  # counted, not raised: every member's outcome is asserted together
        return {"user": user, "failed": f"{type(exc).__name__}: {str(exc)[:300]}"}
    finally:
        await context.close()


async def twenty(server: Server, pattern: str) -> list[dict]:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        try:
            return list(
                await asyncio.gather(
                    *(
                        visit(browser, server, SEARCHERS[i % 2], pattern, delay=10 * i / (MEMBERS - 1))
                        for i in range(MEMBERS)
                    )
                )
            )
        finally:
            await browser.close()


def test_twenty_members_open_dashboards_within_ten_seconds(served: tuple[Server, Store, str]) -> None:
    server, store, pattern = served
    wait_for_ready_kernels(server)
    with store.read() as conn:
        first = conn.execute(sa.select(sa.func.max(s.AuditEntry.id))).scalar_one()

    visits = asyncio.run(twenty(server, pattern))

    assert [v for v in visits if "failed" in v] == []
    assert all(v["errors"] == 0 and v["said"] for v in visits)
    # Each member had a kernel of their own.
    kernels = [v["kernel"] for v in visits]
    assert None not in kernels and len(set(kernels)) == MEMBERS
    given = re.findall(r"A dashboard kernel kept ready is given to a member: (\S+)", server.log.read_text())
    assert len(given) >= READY and len(set(given)) == len(given)  # the pool was used, each kernel once
    assert set(given) <= set(kernels)

    with store.read() as conn:
        new = conn.execute(
            sa.select(s.AuditEntry).where(s.AuditEntry.id > first).order_by(s.AuditEntry.id)
        ).all()
        assert verify_chain(conn).ok
    searches = [e for e in new if e.operation == "search.partial"]
    assert len(searches) == MEMBERS
    assert all(
        (e.client, e.outcome, e.case_number) == ("dashboard", "ok", "26-01234")
        and e.reason == f"briefing search by {e.user_name}"
        for e in searches
    )
    assert sorted(e.user_name for e in searches) == sorted(v["user"] for v in visits)
    starts = [e for e in new if e.operation == "kernel.start"]
    assert len(starts) == MEMBERS and all(e.outcome == "ok" for e in starts)


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
        await close_channel(conn)
    return "answered" if raw else "closed"


def test_a_kept_kernel_is_not_reachable_before_it_is_given(served: tuple[Server, Store, str]) -> None:
    """Kernels kept ready belong to nobody: a logged-in member cannot open one."""
    server, _store, _pattern = served
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
