"""Alembic environment: migrations run on the connection the Store hands over.

Run through :meth:`alpr_lib.store.Store.migrate`; there is no alembic.ini to keep in sync.
"""

from __future__ import annotations

from alembic import context

from alpr_lib.store.schema import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations through Store.migrate(), which supplies the connection")
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
