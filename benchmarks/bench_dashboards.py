"""Dashboards under use: time to a usable page and search to result, one member and twenty at once.

    python benchmarks/bench_dashboards.py [--reads 1000000] [--users 20] [--ready 0,20] [--spread 10]

Builds (once) a demo city in ``benchmarks/.data/``, and for each number of kernels kept ready (the
``ready_kernels`` setting; ``0,20``: without and with, in the same run) starts ``workbench serve`` on a
loopback port, waits until its kernels are ready, and drives Debian's Chromium with Playwright, as the
browser tests do:

1. one member alone: log in to the partial-plate dashboard → a usable page (the widgets drawn, the
   purpose bar ready: target ≤ 2 s), then a pattern search → result table drawn (median of five);
2. ``--users`` members logging in within ``--spread`` seconds, each in its own browser context: log in,
   state the purpose, search, open the canvass and run it. Reported: time to a usable page (median, p95,
   slowest; targets 5 s median, 15 s slowest), search to result (median, p95; target p95 ≤ 1 s), errors
   (target 0);
3. afterwards the audit chain is verified (``workbench audit verify``).

A run named with ``s`` (``--ready 0s,20s``) drives no browser: the members log in and ask for the page over
HTTP, and the time to the page served with its widgets is the server's part alone — what members meet when
each browser runs on its own computer, not on the server's cores beside nineteen others.

A naive baseline for the search is measured in the same run: the same search from the command line
(a new process per search: start-up, log-in and query), as an analyst without the dashboards would.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import zoneinfo
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from alpr_lib.access import build_demo
from alpr_lib.keys import KeyRing
from alpr_lib.store import Store
from workbench.config import load_settings

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT))
from tests.servers import CHROMIUM, CHROMIUM_FLAGS, run_server, web_login  # noqa: E402  (the browser tests' harness)

PASSWORD = "synthetic-demo-pass-2026"
TIMEOUT_MS = 120_000  # a step slower than this counts as an error
#: Members of the demo city who may search for an investigation.
SEARCHERS = ("analyst", "investigator")


@dataclass
class Visit:
    served: float = math.nan  # seconds from the login click to the dashboard's page served (DOM loaded)
    usable: float = math.nan  # seconds from the login click to a usable page
    searched: float = math.nan  # seconds from the search click to the result drawn
    canvassed: float = math.nan  # seconds from opening the canvass to its result drawn
    error: str | None = None
    step: str = "login page"  # where the visit is (named in its error)


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(0.95 * len(ordered)) - 1)]


async def _set_purpose(page: object) -> None:
    await page.get_by_label("Purpose", exact=True).select_option(label="criminal investigation")  # type: ignore[attr-defined]
    await page.get_by_label("Case", exact=True).select_option(label="26-01234")  # type: ignore[attr-defined]
    await page.fill("input[placeholder='why, in a few words']", "dashboard load test")  # type: ignore[attr-defined]
    await page.get_by_role("button", name="Set purpose").click()  # type: ignore[attr-defined]
    await page.wait_for_selector("text=Searching for criminal investigation")  # type: ignore[attr-defined]


async def returning_browser(browser: object, url: str, user: str) -> object:
    """A browser context that has been here before (yesterday's shift: a dashboard opened, then logged
    out): it holds the pages' scripts in its cache."""
    context = await browser.new_context()  # type: ignore[attr-defined]
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    await page.goto(f"{url}/voila/render/partial_plate.ipynb", wait_until="domcontentloaded")
    await page.fill("#username", user)
    await page.fill("#password", PASSWORD)
    await page.click("#login_submit")
    await page.get_by_role("button", name="Set purpose").wait_for()
    await page.goto(f"{url}/logout", wait_until="domcontentloaded")
    await page.close()
    return context


async def member(
    browser: object,
    url: str,
    pattern: str,
    user: str,
    *,
    delay: float = 0.0,
    scene: dict | None = None,
    context: object | None = None,
) -> Visit:
    """One member's visit: log in to the partial-plate dashboard, state the purpose, search; then, given a
    ``scene`` (lat, lon, from and to as local times), open the canvass dashboard and canvass it. In
    ``context`` (a returning member's browser) or a new browser."""
    await asyncio.sleep(delay)
    visit = Visit()
    context = context or await browser.new_context()  # type: ignore[attr-defined]
    page = await context.new_page()  # type: ignore[attr-defined]
    page.set_default_timeout(TIMEOUT_MS)
    try:
        await page.goto(f"{url}/voila/render/partial_plate.ipynb", wait_until="domcontentloaded")
        await page.fill("#username", user)
        await page.fill("#password", PASSWORD)
        t0 = time.perf_counter()
        visit.step = "login"
        await page.click("#login_submit")
        await page.wait_for_url("**/voila/render/**", wait_until="domcontentloaded")
        visit.served = time.perf_counter() - t0
        visit.step = "dashboard drawn"
        await page.get_by_role("button", name="Set purpose").wait_for()
        visit.usable = time.perf_counter() - t0
        visit.step = "purpose"
        await _set_purpose(page)
        visit.step = "search"
        await page.fill("input[placeholder='7?B*']", pattern)
        t1 = time.perf_counter()
        await page.get_by_role("button", name="Search").click()
        await page.wait_for_selector("text=Partial plate search:")
        await page.wait_for_selector("td")
        visit.searched = time.perf_counter() - t1
        if await page.locator(".wb-error").count():
            visit.error = "error shown"
            return visit
        if scene:
            visit.step = "canvass"
            t2 = time.perf_counter()
            await page.goto(f"{url}/voila/render/canvass.ipynb", wait_until="domcontentloaded")
            await page.get_by_role("button", name="Set purpose").wait_for()
            await _set_purpose(page)
            await page.fill("input[placeholder='LAT,LON']", f"{scene['lat']},{scene['lon']}")
            await page.fill("input[placeholder='2026-11-03T01:00']", scene["from"])
            await page.fill("input[placeholder='2026-11-03T03:00']", scene["to"])
            await page.get_by_role("button", name="Add scene").click()
            await page.wait_for_selector("text=scene 1:")
            await page.get_by_role("button", name="Canvass", exact=True).click()
            await page.wait_for_selector("text=/Canvass: [0-9,]+ rows/")
            visit.canvassed = time.perf_counter() - t2
            if await page.locator(".wb-error").count():
                visit.error = "error shown in the canvass"
    except Exception as exc:  # a load test counts failures instead of stopping at the first
        visit.error = f"{type(exc).__name__} at {visit.step}"
    finally:
        await context.close()  # type: ignore[attr-defined]
    return visit


async def drive(
    url: str, pattern: str, scene: dict, users: int, spread: float, settle: Callable[[], None] | None
) -> dict[str, float | int]:
    """One member alone, then ``users`` together; with ``settle``, members are returning (their browsers
    have been here before) and ``settle`` waits until the server is ready again after their first visit."""
    from playwright.async_api import async_playwright

    figures: dict[str, float | int] = {}
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        returning = settle is not None
        contexts = [
            await returning_browser(browser, url, SEARCHERS[i % 2]) if returning else None
            for i in range(users + 5)
        ]
        if settle is not None:
            await asyncio.to_thread(settle)
        alone = [
            await member(browser, url, pattern, "investigator", context=contexts.pop()) for _ in range(5)
        ]
        figures["alone_served"] = statistics.median(v.served for v in alone)
        figures["alone_usable"] = statistics.median(v.usable for v in alone)
        figures["alone_search"] = statistics.median(v.searched for v in alone)
        print(
            f"  one member alone, median of 5: page served {figures['alone_served']:.2f} s, "
            f"usable page {figures['alone_usable']:.2f} s after login "
            f"(target 2 s); search to result {figures['alone_search']:.2f} s"
        )
        gaps = max(1, users - 1)
        t0 = time.perf_counter()
        visits = await asyncio.gather(
            *(
                member(
                    browser,
                    url,
                    pattern,
                    SEARCHERS[i % 2],
                    delay=spread * i / gaps,
                    scene=scene,
                    context=contexts[i],
                )
                for i in range(users)
            )
        )
        wall = time.perf_counter() - t0
        await browser.close()
    errors = [v.error for v in visits if v.error]
    ok = [v for v in visits if not v.error]
    figures.update(users=users, errors=len(errors), wall=wall)
    if not ok:
        print(f"  {users} members: every one failed: {errors}")
        return figures
    served = [v.served for v in ok]
    usable = [v.usable for v in ok]
    searched = [v.searched for v in ok]
    canvassed = [v.canvassed for v in ok]
    figures.update(
        served_median=statistics.median(served), served_p95=p95(served), served_max=max(served),
        usable_median=statistics.median(usable), usable_p95=p95(usable), usable_max=max(usable),
        search_median=statistics.median(searched), search_p95=p95(searched),
        canvass_median=statistics.median(canvassed), canvass_p95=p95(canvassed),
    )  # fmt: skip
    print(
        f"  {users} members within {spread:g} s: {len(ok)} without error, {len(errors)} errors "
        f"{errors or ''}; all done in {wall:.1f} s\n"
        f"    page served: median {figures['served_median']:.2f} s, p95 {figures['served_p95']:.2f}, "
        f"slowest {figures['served_max']:.2f}\n"
        f"    usable page: median {figures['usable_median']:.2f} s (target 5), "
        f"p95 {figures['usable_p95']:.2f}, slowest {figures['usable_max']:.2f} (target 15)\n"
        f"    search to result: median {figures['search_median']:.2f} s, p95 {figures['search_p95']:.2f} "
        f"(target 1)\n"
        f"    canvass opened and run: median {figures['canvass_median']:.2f} s, "
        f"p95 {figures['canvass_p95']:.2f}"
    )
    return figures


def served_only(url: str, users: int, spread: float) -> None:
    """``users`` members logging in within ``spread`` seconds and asking for the partial-plate dashboard
    with no browser: the server's part alone (login, kernel, the notebook run, the page holding its
    widgets), as when each member's browser runs on their own computer."""

    def one(i: int) -> tuple[float, str | None]:
        time.sleep(spread * i / max(1, users - 1))
        t0 = time.perf_counter()
        try:
            client, _reply = web_login(url, SEARCHERS[i % 2], PASSWORD)
            try:
                client.timeout = TIMEOUT_MS / 1000
                page = client.get("/voila/render/partial_plate.ipynb", follow_redirects=True)
            finally:
                client.close()
        except Exception as exc:  # noqa: BLE001 - counted and named, as the browsers' errors are
            return math.nan, type(exc).__name__
        if page.status_code != 200 or "application/vnd.jupyter.widget-view+json" not in page.text:
            return math.nan, f"HTTP {page.status_code}, no widgets"
        return time.perf_counter() - t0, None

    with ThreadPoolExecutor(users) as pool:
        done = list(pool.map(one, range(users)))
    ok = sorted(t for t, error in done if error is None)
    errors = [error for _t, error in done if error]
    print(f"  {users} members within {spread:g} s, no browser: {len(ok)} pages served, {len(errors)} errors "
          f"{errors or ''}")  # fmt: skip
    if ok:
        print(f"    login and page served: median {statistics.median(ok):.2f} s, p95 {p95(ok):.2f}, "
              f"slowest {ok[-1]:.2f}")  # fmt: skip


def wait_until_ready(log: Path, ready: int, times: int = 1, timeout: float = 600) -> float:
    """Seconds until the server says its ``ready`` kernels are warm (0 when none are kept) for the
    ``times``-th time."""
    t0 = time.perf_counter()
    while ready and len(re.findall(r"Dashboard kernels ready: \d+", log.read_text())) < times:
        if time.perf_counter() - t0 > timeout:
            raise RuntimeError("the server's kernels were not ready in time")
        time.sleep(0.5)
    return time.perf_counter() - t0


def audit_verified(db: str) -> str:
    env = {**os.environ, "WORKBENCH_PASSWORD": PASSWORD}
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "audit", "verify", "--user", "supervisor", "--db", db],
        env=env, capture_output=True, text=True,
    )  # fmt: skip
    return (done.stdout or done.stderr).strip().splitlines()[0] if done.returncode == 0 else "BROKEN"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reads", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--ready",
        default="0,20,20r",
        help="runs to compare: numbers of kernels kept ready; with r, members' browsers were here before; "
        "with s, the server's part alone (no browser)",
    )
    parser.add_argument("--spread", type=float, default=10.0, help="seconds over which the members log in")
    args = parser.parse_args()
    # The city is signed with the department's key; the server and the audit check must use the same one.
    os.environ.setdefault("WORKBENCH_KEY_DIR", str(load_settings()["key_dir"]))

    path = HERE / ".data" / f"city-{args.reads}-{args.seed}.db"
    store = Store(f"sqlite:///{path}", create=True, keys=KeyRing(Path(os.environ["WORKBENCH_KEY_DIR"])))
    if not store.has_schema():
        path.parent.mkdir(exist_ok=True)
        build_demo(store, reads=args.reads, seed=args.seed, password=PASSWORD, start=dt.date(2026, 10, 1))
    store.migrate()
    scenarios = json.loads(store.get_meta("manifest") or "{}")["scenarios"]
    pattern = scenarios["partial_plate"]["pattern"]
    first = scenarios["burglary_series"]["scenes"][0]
    zone = zoneinfo.ZoneInfo(str(load_settings()["timezone"]))  # the server's default settings
    scene = {"lat": first["lat"], "lon": first["lon"]} | {
        key: dt.datetime.fromtimestamp(first[f"{key}_ms"] / 1000, zone).strftime("%Y-%m-%dT%H:%M:%S")
        for key in ("from", "to")
    }
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

    for run in args.ready.split(","):
        ready, returning, alone = int(run.rstrip("rs")), run.endswith("r"), run.endswith("s")
        kind = "no browser" if alone else "returning members" if returning else "new browsers"
        print(f"ready_kernels = {ready}, {kind}:")
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "data" / "workbench.toml"
            config.parent.mkdir(parents=True)
            config.write_text(f'purge_at = "off"\nready_kernels = {ready}\n')
            with run_server("serve", str(store.url), ROOT / "voila_apps", Path(tmp)) as server:
                warm = wait_until_ready(server.log, ready)
                if ready:
                    print(f"  {ready} kernels ready {warm:.1f} s after the server answered")

                def settle(log: Path = server.log, ready: int = ready) -> None:
                    """The pool refilled after the members' first visits."""
                    time.sleep(15)  # every first visit's kernel stopped, and the refill begun
                    wait_until_ready(log, ready, times=len(re.findall("kernels ready", log.read_text())) + 1)

                if alone:
                    served_only(server.url, args.users, args.spread)
                else:
                    settle_fn = settle if returning else None
                    asyncio.run(drive(server.url, pattern, scene, args.users, args.spread, settle_fn))
        print(f"  audit chain afterwards: {audit_verified(str(store.url))}")


if __name__ == "__main__":
    main()
