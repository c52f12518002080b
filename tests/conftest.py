"""Shared fixtures: a fresh in-memory store per test and one read-only demo city per run."""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from alpr_lib.access import build_demo, init_database
from alpr_lib.keys import KeyRing
from alpr_lib.store import Store

from .engines import ENGINE, drop_database, new_database

DEMO_PASSWORD = "synthetic-demo-pass-2026"
ADMIN_PASSWORD = "first-admin-pass-2026"
TRAINER_PASSWORD = "trainer-tess-pass-2026"
DEMO_START = dt.date(2026, 10, 1)
DEMO_READS = 30_000
#: The tests' demo city lies in a fixed past period (its known answers are dated); the department in these
#: tests keeps reads long enough to cover it. Tests of retention state their own period.
TEST_RETENTION_DAYS = (dt.date.today() - DEMO_START).days + 90
_STORE_INIT = Store.__init__


@pytest.fixture(scope="session")
def key_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The department's key folder for the whole run: the demo city built once is signed with a key every
    test's commands and servers (each with its own data folder) must find."""
    return tmp_path_factory.mktemp("keys") / "keys"


@pytest.fixture(scope="session", autouse=True)
def keyed_run(key_folder: Path) -> Iterator[None]:
    """Stores and commands opened before any test's own environment (module fixtures: servers, cities of
    their own) find the run's key folder too. A test that rotates a key uses a copy of the folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKBENCH_KEY_DIR", str(key_folder))
        patch.setattr(Store, "__init__", functools.partialmethod(_STORE_INIT, keys=KeyRing(key_folder)))
        yield


@pytest.fixture(autouse=True)
def clean_environ(tmp_path: Path, key_folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No WORKBENCH_* setting leaks in from the developer's shell; data goes to a temporary folder, keys to
    the run's key folder (stores opened in-process find it too)."""
    for key in list(os.environ):
        if key.startswith("WORKBENCH_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("WORKBENCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("WORKBENCH_KEY_DIR", str(key_folder))
    monkeypatch.setattr(Store, "__init__", functools.partialmethod(_STORE_INIT, keys=KeyRing(key_folder)))
    monkeypatch.setenv("WORKBENCH_RETENTION_DAYS", str(TEST_RETENTION_DAYS))
    from alpr_lib.access import Policy

    monkeypatch.setattr(
        Policy, "__init__", functools.partialmethod(Policy.__init__, retention_days=TEST_RETENTION_DAYS)
    )
    # A command run in-process sets the process's umask (0077, files private): the next test starts afresh.
    umask = os.umask(0o022)
    yield
    os.umask(umask)


def pytest_configure(config: pytest.Config) -> None:
    if ENGINE == "postgresql":
        # Stores a test builds and drops without dispose() leave pooled connections to the collector; the
        # application disposes its own (the CLI when a command ends), tests need not.
        config.addinivalue_line("filterwarnings", "ignore:.*was deleted while still open:ResourceWarning")
        config.addinivalue_line("filterwarnings", "ignore::pytest.PytestUnraisableExceptionWarning")


def pytest_report_header() -> str:
    return f"database engine: {ENGINE}"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests of what only one engine has (SQLite's file and backup API; PostgreSQL's roles) run on that
    one."""
    other = "postgresql_only" if ENGINE == "sqlite" else "sqlite_only"
    items[:] = [item for item in items if item.get_closest_marker(other) is None]


@pytest.fixture
def fresh_store(tmp_path: Path) -> Iterator[Store]:
    """An empty, migrated store (in memory on SQLite; a new database on PostgreSQL)."""
    url = new_database(tmp_path, "fresh") if ENGINE != "sqlite" else "sqlite://"
    store = Store(url)
    store.migrate()
    yield store
    store.dispose()
    drop_database(url)


@pytest.fixture
def admin_store(fresh_store: Store) -> Store:
    """A fresh store with one administrator, ``admin``."""
    init_database(fresh_store, "admin", ADMIN_PASSWORD)
    return fresh_store


def train_admin(admin: Any) -> None:
    """The administrator's training recorded by a trainer the administrator adds (never by oneself)."""
    from alpr_lib.access import login

    admin.add_user("tess", "trainer", TRAINER_PASSWORD)
    login(admin._store, "tess", TRAINER_PASSWORD).record_training(admin.name)


@pytest.fixture
def shared_store(tmp_path: Path) -> Iterator[Store]:
    """A fresh store with one administrator, ``admin``, that other processes (the CLI) can open too."""
    url = new_database(tmp_path, "shared")
    store = Store(url, create=True)
    store.migrate()
    init_database(store, "admin", ADMIN_PASSWORD)
    yield store
    store.dispose()
    drop_database(url)


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory, key_folder: Path) -> Iterator[str]:
    """The URL of the synthetic city every run builds once; tests get copies of it (``demo_db``, ``city``)."""
    url = new_database(tmp_path_factory.mktemp("demo"), "demo")
    store = Store(url, create=True, keys=KeyRing(key_folder))
    build_demo(store, reads=DEMO_READS, seed=7, password=DEMO_PASSWORD, start=DEMO_START)
    store.dispose()
    yield url
    drop_database(url)


@pytest.fixture(scope="session")
def demo_db(demo_template: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The URL of a small synthetic city shared by the whole run. Tests must not change it."""
    url = copy_of(demo_template, tmp_path_factory.mktemp("demo-shared"), "shared")
    yield url
    drop_database(url)


def copy_of(url: str, folder: Path, name: str) -> str:
    if ENGINE == "sqlite":
        source = Store(url)
        dest = folder / f"{name}.db"
        source.backup(dest)
        source.dispose()
        return f"sqlite:///{dest}"
    return new_database(folder, name, template=sa.make_url(url).database)


@pytest.fixture(scope="session")
def demo_store(demo_db: str, key_folder: Path) -> Iterator[Store]:
    store = Store(demo_db, keys=KeyRing(key_folder))
    yield store
    store.dispose()


@pytest.fixture(scope="session")
def manifest(demo_store: Store) -> dict[str, object]:
    value = demo_store.get_meta("manifest")
    assert value is not None
    return dict(json.loads(value))


@pytest.fixture
def city(demo_template: str, tmp_path: Path) -> Iterator[Store]:
    """A private copy of the demo city, for tests that log in, search and so write audit entries."""
    url = copy_of(demo_template, tmp_path, "city")
    store = Store(url)
    yield store
    store.dispose()
    drop_database(url)


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


@pytest.fixture
def clients() -> Iterator[list[Any]]:
    """Web clients a test opens (``httpx.Client``), closed when it ends."""
    opened: list[Any] = []
    yield opened
    for client in opened:
        client.close()
