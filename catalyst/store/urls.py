"""Database URLs: the schemes Catalyst accepts and the async driver each one runs on.

`async_driver` is the one table; the config loader (which names the file and key of a bad URL)
and `async_database_url` (the engine, the CLI's --database-url) both go through it. The module
imports SQLAlchemy only when it parses a URL, so the config loader can use it cheaply.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from catalyst.redaction import redact_url

if TYPE_CHECKING:
    from sqlalchemy.engine import URL

__all__ = [
    "ASYNC_POSTGRESQL",
    "ASYNC_SQLITE",
    "UnsupportedDatabase",
    "async_database_url",
    "async_driver",
    "is_memory_database",
    "sqlite_path",
    "sqlite_url",
]

ASYNC_SQLITE = "sqlite+aiosqlite"
ASYNC_POSTGRESQL = "postgresql+asyncpg"

# Sync spellings mapped onto the async drivers (the same database, another Python driver).
_ASYNC_DRIVERS = {
    "sqlite": ASYNC_SQLITE,
    ASYNC_SQLITE: ASYNC_SQLITE,
    "postgres": ASYNC_POSTGRESQL,
    "postgresql": ASYNC_POSTGRESQL,
    ASYNC_POSTGRESQL: ASYNC_POSTGRESQL,
}


class UnsupportedDatabase(ValueError):
    """A URL scheme Catalyst cannot use. The message says what to use instead (never the URL)."""


def async_driver(scheme: str) -> str:
    """The async driver name (`sqlite+aiosqlite`, `postgresql+asyncpg`) for URL scheme `scheme`.

    Raises `UnsupportedDatabase` for any other database, or the right database on another driver.
    """
    driver = _ASYNC_DRIVERS.get(scheme)
    if driver is not None:
        return driver
    if scheme.startswith(("postgres+", "postgresql+")):
        hint = "Catalyst needs the asyncpg driver: use postgresql:// or postgresql+asyncpg://"
    elif scheme.startswith("sqlite+"):
        hint = "Catalyst needs the aiosqlite driver: use sqlite:/// or sqlite+aiosqlite:///"
    else:
        hint = "unsupported database: use a postgresql://... or sqlite:///... URL"
    raise UnsupportedDatabase(hint)


def async_database_url(url: str) -> str:
    """`url` on the async driver Catalyst uses: `sqlite://` becomes `sqlite+aiosqlite://` and
    `postgres://` / `postgresql://` become `postgresql+asyncpg://`; async URLs pass unchanged.

    ValueError, naming what to use, for any other database or driver or an unparseable URL.
    """
    # Here, not at the top: the config loader imports this module, and `catalyst --help` should
    # not wait for SQLAlchemy.
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


def sqlite_url(path: Path | str) -> str:
    """The async URL of the SQLite database file at `path` (taken as it is written)."""
    return f"{ASYNC_SQLITE}:///{path}"


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
