"""PostgreSQL roles: the database itself defends the audit log, whatever the application's code does.

Three roles (see the administrator's guide):

``owner``
    owns the schema and runs the migrations (``workbench init``/upgrades); nobody works as it day to day.
``application``
    what the workbench connects as: reads and writes the data tables it needs, may only *add* to the audit log
    (no UPDATE, DELETE or TRUNCATE — refused by these grants, and by the owner's triggers, which a non-owner
    cannot drop), and owns nothing: it adds and drops days of reads only through the owner's two functions.
``auditor``
    read-only, for an outside reviewer with their own tools: the audit log, destruction records, releases,
    holds, cases and training records — never reads, plates, images or password hashes.

The grants are idempotent; run them again after each upgrade (new tables get no grant by themselves).
"""

from __future__ import annotations

import re

import sqlalchemy as sa
from sqlalchemy import Connection

__all__ = ["AUDITOR_TABLES", "DAY_FUNCTIONS", "apply_grants", "grant_statements"]

#: What the auditor role may read: the record of use, never the data itself.
AUDITOR_TABLES = (
    "audit_log",
    "destruction_log",
    "releases",
    "holds",
    "cases",
    "roles",
    "training_records",
    "agencies",
)
#: The owner's functions that add and drop a day of reads (migration 0007).
DAY_FUNCTIONS = ("reads_add_day(integer)", "reads_drop_day(integer)")
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def _role(name: str) -> str:
    if not _NAME.fullmatch(name):
        raise ValueError("a role name is lower-case letters, digits and underscores")
    return f'"{name}"'


def grant_statements(conn: Connection, app: str, auditor: str) -> list[str]:
    """The SQL that gives ``app`` and ``auditor`` exactly their rights over the schema's tables."""
    if conn.dialect.name != "postgresql":
        raise ValueError(
            "database roles and grants are for PostgreSQL; SQLite has one user, the file's owner"
        )
    tables = set(sa.inspect(conn).get_table_names())
    a, r = _role(app), _role(auditor)
    out = [
        f"GRANT USAGE ON SCHEMA public TO {a}, {r}",
        f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM PUBLIC, {a}, {r}",
        f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {a}",
        f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {a}",
        f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {a}",
    ]
    out += [f"GRANT SELECT ON {t} TO {r}" for t in AUDITOR_TABLES if t in tables]
    # The application adds and drops days of reads through the owner's functions (see partitions.py).
    functions = [f for f in DAY_FUNCTIONS if conn.exec_driver_sql(f"SELECT to_regprocedure('{f}')").scalar()]
    if functions:
        out.append(f"GRANT EXECUTE ON FUNCTION {', '.join(functions)} TO {a}")
    return out


def apply_grants(conn: Connection, app: str, auditor: str) -> list[str]:
    """Run :func:`grant_statements` on an owner's connection; returns what was run."""
    statements = grant_statements(conn, app, auditor)
    for statement in statements:
        conn.exec_driver_sql(statement)
    return statements
