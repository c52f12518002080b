"""Dashboards under use: time to interactive, search to rendered result, and 20 members at once.

    python benchmarks/bench_dashboards.py [--reads 1000000] [--users 20]

Builds (once) a demo city in ``benchmarks/.data/``, starts ``workbench serve`` on a loopback port and
drives Debian's Chromium with Playwright, as the browser tests do:

1. one member: log in to the partial-plate dashboard → widgets interactive (target ≤ 5 s), then a
   pattern search → result table rendered (target ≤ 1 s), median of five searches;
2. ``--users`` members at once, each in its own browser context: log in, state the purpose, search;
   every page must show its result and no error (the loopback-only load test).

A naive baseline for the search is measured in the same run: the same search from the command line
(a new process per search: start-up, log-in and query), as an analyst without the dashboards would.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from alpr_lib.access import build_demo
from alpr_lib.store import Store

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from tests.servers import CHROMIUM, CHROMIUM_FLAGS, run_server  # noqa: E402  (the browser tests' harness)

PASSWORD = "synthetic-demo-pass-2026"


async def member(browser: object, url: str, pattern: str, user: str) -> tuple[float, float, str | None]:
    """One member's visit: (seconds to interactive, seconds from search to result, error or None)."""
    context = await browser.new_context()  # type: ignore[attr-defined]
    page = await context.new_page()
    page.set_default_timeout(180_000)
    try:
        await page.goto(f"{url}/voila/render/partial_plate.ipynb", wait_until="domcontentloaded")
        await page.fill("#username", user)
        await page.fill("#password", PASSWORD)
        t0 = time.perf_counter()
        await page.click("#login_submit")
        await page.get_by_role("button", name="Set purpose").wait_for()
        ready = time.perf_counter() - t0
        await page.get_by_label("Purpose", exact=True).select_option(label="criminal investigation")
        await page.fill("input[placeholder='26-01234']", "26-01234")
        await page.fill("input[placeholder='why, in a few words']", "dashboard load test")
        await page.get_by_role("button", name="Set purpose").click()
        await page.wait_for_selector("text=Searching for criminal investigation")
        await page.fill("input[placeholder='7?B*']", pattern)
        t1 = time.perf_counter()
        await page.get_by_role("button", name="Search").click()
        await page.wait_for_selector("text=Partial plate search:")
        await page.wait_for_selector("td")
        searched = time.perf_counter() - t1
        error = await page.locator(".wb-error").count()
        return ready, searched, ("error shown" if error else None)
    except Exception as exc:  # a load test counts failures instead of stopping at the first
        return float("nan"), float("nan"), type(exc).__name__
    finally:
        await context.close()


async def drive(url: str, pattern: str, users: int) -> None:
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        ready, searched, _ = await member(browser, url, pattern, "investigator")
        print(
            f"one member: interactive {ready:.2f} s after login (target 5 s); first search {searched:.2f} s"
        )
        times = [(await member(browser, url, pattern, "investigator"))[1] for _ in range(5)]
        print(f"search to rendered result, median of 5: {statistics.median(times):.2f} s (target 1 s)")
        t0 = time.perf_counter()
        results = await asyncio.gather(
            *(member(browser, url, pattern, ("analyst", "investigator")[i % 2]) for i in range(users))
        )
        wall = time.perf_counter() - t0
        errors = [r[2] for r in results if r[2]]
        ok = [r for r in results if not r[2]]
        print(
            f"{users} members at once: {len(ok)} searched without error, {len(errors)} errors "
            f"{errors or ''}; "
            f"all done in {wall:.1f} s; interactive median {statistics.median(r[0] for r in ok):.1f} s, "
            f"search median {statistics.median(r[1] for r in ok):.2f} s"
            if ok
            else f"{users} members at once: every one failed: {errors}"
        )
        await browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    path = HERE / ".data" / f"city-{args.reads}-{args.seed}.db"
    store = Store(f"sqlite:///{path}", create=True)
    if not store.has_schema():
        path.parent.mkdir(exist_ok=True)
        build_demo(store, reads=args.reads, seed=args.seed, password=PASSWORD, start=dt.date(2026, 10, 1))
    store.migrate()
    pattern = json.loads(store.get_meta("manifest") or "{}")["scenarios"]["partial_plate"]["pattern"]
    store.dispose()

    env = {**os.environ, "WORKBENCH_PASSWORD": PASSWORD}
    cli = []
    for _ in range(3):
        t0 = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "workbench", "search", "partial", pattern, "--purpose", "investigation",
             "--case", "26-01234", "--reason", "baseline", "--user", "investigator", "--db", str(store.url)],
            env=env, check=True, capture_output=True,
        )  # fmt: skip
        cli.append(time.perf_counter() - t0)
    print(f"naive baseline, the same search from the command line: {statistics.median(cli):.2f} s")

    with tempfile.TemporaryDirectory() as tmp:
        with run_server("serve", str(store.url), ROOT / "voila_apps", Path(tmp)) as server:
            asyncio.run(drive(server.url, pattern, args.users))


if __name__ == "__main__":
    main()
