"""Schema migrations: upgrade a database to the latest revision, or refuse to run on an old one.

The revisions live in the repository's `migrations/` directory, next to the `catalyst` package.
The daemon never changes the schema on its own: `catalyst db upgrade` does, and start-up calls
`check_schema_current` to refuse a database that is behind.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

import catalyst
from catalyst.domain.errors import DatabaseNotMigratedError, OperationalError
from catalyst.redaction import redact_url
from catalyst.store.failures import database_errors

_T = TypeVar("_T")


def migrations_directory() -> Path:
    """The Alembic scripts: the checkout's `migrations/` (editable install) or the copy a regular
    install puts under `<prefix>/share/catalyst/migrations`. OperationalError if neither exists."""
    checkout = Path(catalyst.__file__).resolve().parent.parent / "migrations"
    installed = Path(sys.prefix) / "share" / "catalyst" / "migrations"
    for directory in (checkout, installed):
        if (directory / "env.py").is_file():
            return directory
    raise OperationalError(
        f"Alembic migrations not found at {checkout} or {installed}: reinstall Catalyst"
    )


def _alembic_config(url: str | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_directory()))
    config.set_main_option("path_separator", "os")
    if url is not None:
        # Passed as an attribute, not an ini option: no %-interpolation of the password.
        config.attributes["url"] = url
    return config


def head_revision() -> str:
    """The newest revision in `migrations/versions` (the one this release needs)."""
    heads = ScriptDirectory.from_config(_alembic_config()).get_heads()
    if len(heads) != 1:
        raise OperationalError(f"migrations must have exactly one head, found {sorted(heads)}")
    return heads[0]


def _outside_event_loop(work: Callable[[], _T]) -> _T:
    """Run `work` here, or in a helper thread if an event loop runs in this thread.

    Alembic's env.py calls `asyncio.run`, which cannot nest inside a running loop.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return work()
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="catalyst-migrate") as pool:
        return pool.submit(work).result()


def upgrade_database(url: str, revision: str = "head") -> None:
    """Bring the database at `url` to `revision`, by default the latest (idempotent).

    Synchronous. From async code prefer `await asyncio.to_thread(upgrade_database, url)`; a direct
    call from inside a running loop also works but blocks that loop until the upgrade is done.
    Database failures raise Catalyst's `StorageError`s (see `catalyst.store.failures`).
    """
    config = _alembic_config(url)
    with database_errors(url):
        _outside_event_loop(lambda: command.upgrade(config, revision))


def _current_heads(connection: Connection) -> tuple[str, ...]:
    return tuple(MigrationContext.configure(connection).get_current_heads())


async def current_revision(engine: AsyncEngine) -> str | None:
    """The revision the database is at, or None when it was never migrated.

    The first contact with the database: its failures raise Catalyst's `StorageError`s.
    """
    with database_errors(engine.url):
        async with engine.connect() as connection:
            heads = await connection.run_sync(_current_heads)
    if len(heads) > 1:
        raise OperationalError(f"database has several alembic heads: {sorted(heads)}")
    return heads[0] if heads else None


async def check_schema_current(engine: AsyncEngine) -> None:
    """Raise DatabaseNotMigratedError unless the database is at the head revision."""
    current = await current_revision(engine)
    head = head_revision()
    if current == head:
        return
    where = redact_url(engine.url)
    script = ScriptDirectory.from_config(_alembic_config())
    known = {revision.revision for revision in script.walk_revisions()}
    if current is not None and current not in known:
        raise DatabaseNotMigratedError(
            f"database at {where} is at revision {current}, which this release does not know "
            f"(it needs {head}): it was migrated by a newer Catalyst"
        )
    raise DatabaseNotMigratedError(
        f"database at {where} is not migrated (at revision {current or 'none'}, need {head}): "
        "run `catalyst db upgrade`"
    )
