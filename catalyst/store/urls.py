"""Database URLs as SQLAlchemy reads them: the engine's URL, its SQLite file, in-memory or not.

The accepted schemes and their async drivers are one table, `catalyst.config.database_url`
(config checks its URL before the store exists); `async_database_url` (the engine, the CLI's
--database-url) goes through it. SQLAlchemy is imported only when a URL is parsed, so the CLI
can import this module cheaply.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from catalyst.config.database_url import UnsupportedDatabase, async_driver
from catalyst.redaction import redact_url

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = ["async_database_url", "is_memory_database", "sqlite_path"]


def async_database_url(url: str) -> str:
    """`url` on the async driver Catalyst uses: `sqlite://` becomes `sqlite+aiosqlite://` and
    `postgres://` / `postgresql://` become `postgresql+asyncpg://`; async URLs pass unchanged.

    ValueError, naming what to use, for any other database or driver or an unparseable URL.
    """
    # Here, not at the top: the CLI imports this module, and `catalyst --help` should not wait
    # for SQLAlchemy.
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ValueError("not a database URL: use postgresql://... or sqlite:///<path>") from None
    try:
        driver = async_driver(parsed.drivername)
    except UnsupportedDatabase:
        raise ValueError(
            f"unsupported database {redact_url(parsed)}: use postgresql://... or sqlite:///<path>"
        ) from None
    return parsed.set(drivername=driver).render_as_string(hide_password=False)


def is_memory_database(url: URL) -> bool:
    """True for an in-memory SQLite database (it forgets everything when the process ends)."""
    database = url.database or ""
    return database in ("", ":memory:") or "mode=memory" in database


def sqlite_path(url: URL) -> Path | None:
    """The file a SQLite URL names, or None for PostgreSQL and in-memory SQLite."""
    if url.get_backend_name() != "sqlite" or is_memory_database(url):
        return None
    database = url.database or ""
    if database.startswith("file:"):
        database = database.removeprefix("file:").split("?", 1)[0]
    return Path(database).expanduser()
