"""Alembic environment: runs the revisions over an async engine, SQLite or PostgreSQL alike.

The database URL comes from `Config.attributes["url"]` (set by `catalyst.store.migrate`), or for a
developer's `alembic` command line from `-x url=...` or CATALYST_DATABASE_URL.
Logging is left to the caller: this file never configures it.
"""

from __future__ import annotations

import asyncio
import os

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from catalyst.store.engine import make_migration_engine
from catalyst.store.tables import metadata


def _database_url() -> str:
    url = context.config.attributes.get("url")
    if url is None:
        url = context.get_x_argument(as_dictionary=True).get("url")
    if url is None:
        url = os.environ.get("CATALYST_DATABASE_URL")
    if not url:
        raise RuntimeError("no database URL: pass -x url=... or set CATALYST_DATABASE_URL")
    return str(url)


def _migrate(connection: Connection) -> None:
    sqlite = connection.dialect.name == "sqlite"
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=sqlite,  # SQLite cannot ALTER most things: copy-and-move instead
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
        if sqlite:
            # Migrations run with foreign keys off (see make_migration_engine): verify them now,
            # inside the transaction, so a violation rolls the whole upgrade back.
            violations = connection.execute(text("PRAGMA foreign_key_check")).fetchall()
            if violations:
                raise RuntimeError(f"migration left foreign key violations: {violations[:5]}")


async def _migrate_online() -> None:
    engine = make_migration_engine(_database_url())
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_migrate)
    finally:
        await engine.dispose()


def _migrate_offline() -> None:
    context.configure(
        url=_database_url(),
        target_metadata=metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    _migrate_offline()
else:
    # `catalyst.store.migrate.upgrade_database` guarantees no event loop runs in this thread.
    asyncio.run(_migrate_online())
