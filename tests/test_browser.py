"""Logging in to JupyterLab and Voila in a real browser: Debian's Chromium driven by Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from alpr_lib.store import Store

from .conftest import DEMO_PASSWORD
from .servers import run_server

pytestmark = pytest.mark.slow

APPS = Path(__file__).resolve().parent.parent / "voila_apps"


@pytest.fixture
def page(browser: object) -> Iterator[object]:
    context = browser.new_context()  # type: ignore[attr-defined]
    page = context.new_page()
    page.set_default_timeout(60_000)
    yield page
    context.close()


def log_in(page: object, url: str, user: str, password: str) -> None:
    page.goto(url, wait_until="domcontentloaded")  # type: ignore[attr-defined]
    page.fill("#username", user)  # type: ignore[attr-defined]
    page.fill("#password", password)  # type: ignore[attr-defined]
    page.click("#login_submit")  # type: ignore[attr-defined]


def test_jupyterlab_login_in_a_browser(page: object, city: Store, tmp_path: Path) -> None:
    folder = tmp_path / "notebooks"
    folder.mkdir()
    with run_server("lab", str(city.url), folder, tmp_path) as lab:
        log_in(page, lab.url + "/lab", "analyst", "wrong-password-2026")
        page.wait_for_selector("text=unknown user or wrong password")  # type: ignore[attr-defined]
        assert "/login" in page.url  # type: ignore[attr-defined]

        log_in(page, lab.url + "/lab", "analyst", DEMO_PASSWORD)
        page.wait_for_selector("#jp-main-dock-panel", state="attached")  # type: ignore[attr-defined]
        assert page.url.startswith(lab.url + "/lab")  # type: ignore[attr-defined]


def test_voila_login_in_a_browser(page: object, city: Store, tmp_path: Path) -> None:
    with run_server("serve", str(city.url), APPS, tmp_path) as voila:
        home = voila.url + "/"
        log_in(page, home, "investigator", "not-my-password-2026")
        page.wait_for_selector("text=unknown user or wrong password")  # type: ignore[attr-defined]

        log_in(page, home, "investigator", DEMO_PASSWORD)
        page.wait_for_selector("text=Logged in as")  # type: ignore[attr-defined]
        assert "investigator" in page.inner_text("body")  # type: ignore[attr-defined]
