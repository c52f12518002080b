"""Which database engine the suite runs on, and fresh databases on it.

The suite runs twice in CI: on SQLite (the default) and on PostgreSQL when ``ALPR_TEST_POSTGRES`` names a
server, e.g. ``postgresql+psycopg://postgres@127.0.0.1:PORT`` (``scripts/pg-test-cluster start`` starts a
throwaway one on loopback; ``make test`` does it all). Tests ask for databases through :func:`new_database`
and never spell an engine's URL themselves, unless they test something only one engine has (marked
``sqlite_only`` or ``postgresql_only``).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import sqlalchemy as sa

POSTGRES = os.environ.get("ALPR_TEST_POSTGRES", "").rstrip("/")
ENGINE = "postgresql" if POSTGRES else "sqlite"


def _admin() -> sa.Engine:
    return sa.create_engine(f"{POSTGRES}/postgres", isolation_level="AUTOCOMMIT", poolclass=sa.NullPool)


def new_database(tmp_path: Path, name: str = "workbench", *, template: str | None = None) -> str:
    """The URL of a new, empty database (or a copy of PostgreSQL database ``template``)."""
    if not POSTGRES:
        return f"sqlite:///{tmp_path / (name + '.db')}"
    db = f"t_{name}_{uuid.uuid4().hex[:10]}".lower()
    with _admin().connect() as conn:
        conn.exec_driver_sql(f'CREATE DATABASE "{db}"' + (f' TEMPLATE "{template}"' if template else ""))
    return f"{POSTGRES}/{db}"


def drop_database(url: str) -> None:
    """Drop a PostgreSQL test database (nothing to do for SQLite files: tmp_path goes)."""
    if POSTGRES and url.startswith(POSTGRES):
        with _admin().connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{sa.make_url(url).database}" WITH (FORCE)')
