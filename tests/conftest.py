"""Shared fixtures: a fresh in-memory store per test and one read-only demo city per run."""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from alpr_lib.access import build_demo, init_database
from alpr_lib.store import Store

DEMO_PASSWORD = "synthetic-demo-pass-2026"
ADMIN_PASSWORD = "first-admin-pass-2026"
DEMO_START = dt.date(2026, 10, 1)
DEMO_READS = 30_000


@pytest.fixture(autouse=True)
def clean_environ(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No WORKBENCH_* setting leaks in from the developer's shell; data goes to a temporary folder."""
    for key in list(os.environ):
        if key.startswith("WORKBENCH_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    yield


@pytest.fixture
def fresh_store() -> Iterator[Store]:
    """An empty, migrated in-memory store."""
    store = Store("sqlite://")
    store.migrate()
    yield store
    store.dispose()


@pytest.fixture
def admin_store(fresh_store: Store) -> Store:
    """A fresh store with one administrator, ``admin``."""
    init_database(fresh_store, "admin", ADMIN_PASSWORD)
    return fresh_store


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The URL of a small synthetic city shared by the whole run. Tests must not change it."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    url = f"sqlite:///{path}"
    build_demo(Store(url, create=True), reads=DEMO_READS, seed=7, password=DEMO_PASSWORD, start=DEMO_START)
    return url


@pytest.fixture(scope="session")
def demo_store(demo_db: str) -> Store:
    return Store(demo_db)


@pytest.fixture(scope="session")
def manifest(demo_store: Store) -> dict[str, object]:
    value = demo_store.get_meta("manifest")
    assert value is not None
    return dict(json.loads(value))


@pytest.fixture
def city(demo_db: str, tmp_path: Path) -> Iterator[Store]:
    """A private copy of the demo city, for tests that log in, search and so write audit entries."""
    dest = tmp_path / "city.db"
    source = Store(demo_db)
    source.backup(dest)
    source.dispose()
    store = Store(f"sqlite:///{dest}")
    yield store
    store.dispose()


@pytest.fixture
def run() -> Any:
    """Invoke the ``workbench`` CLI in-process: ``run(*args, env=..., ok=True)``."""
    from click.testing import CliRunner

    from workbench.cli import main

    runner = CliRunner()

    def invoke(*args: str, env: dict[str, str] | None = None, ok: bool = True) -> Any:
        result = runner.invoke(main, list(args), env=env or {}, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output + result.stderr
        return result

    return invoke


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright, shared by a test module."""
    from .servers import CHROMIUM, CHROMIUM_FLAGS

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: apt-get install chromium (make test installs it when run as root)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()
