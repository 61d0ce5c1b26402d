"""Database URLs as text: the schemes Catalyst accepts, the async driver each one runs on, and a
configured URL made usable.

`async_driver` is the one table of accepted schemes. It lives here, below the store, because the
configuration checks its database URL at start-up (a bad URL should stop Catalyst before the first
write) and config may not import the store; `catalyst.store.urls` builds on the same table for
SQLAlchemy URLs (the engine, the CLI's --database-url). Plain string work, no SQLAlchemy.
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = [
    "ASYNC_POSTGRESQL",
    "ASYNC_SQLITE",
    "UnsupportedDatabase",
    "UnusableDatabaseUrl",
    "async_driver",
    "sqlite_url",
    "usable_database_url",
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
_SCHEME_SHAPE = re.compile(r"[a-z][a-z0-9+.\-]{0,29}")


class UnusableDatabaseUrl(ValueError):
    """A database URL Catalyst cannot use. The message says what to use instead (never the URL)."""


class UnsupportedDatabase(UnusableDatabaseUrl):
    """A URL scheme naming a database, or a driver, Catalyst does not run on (kept in `scheme`)."""

    def __init__(self, hint: str, scheme: str) -> None:
        super().__init__(hint)
        self.scheme = scheme


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
    raise UnsupportedDatabase(hint, scheme)


def sqlite_url(path: Path | str) -> str:
    """The async URL of the SQLite database file at `path` (taken as it is written)."""
    return f"{ASYNC_SQLITE}:///{path}"


def usable_database_url(url: str, base: Path) -> str:
    """`url` on the async driver Catalyst uses, a relative SQLite path anchored at `base`.

    A configured SQLite database must be a file: raises `UnusableDatabaseUrl` for an in-memory
    one, for text that is no database URL, and (as `UnsupportedDatabase`) for another database or
    driver.
    """
    scheme, separator, rest = url.strip().partition("://")
    scheme = scheme.lower()
    if not separator or not _SCHEME_SHAPE.fullmatch(scheme):
        raise UnusableDatabaseUrl("must be a postgresql://... or sqlite:///... database URL")
    driver = async_driver(scheme)
    if driver != ASYNC_SQLITE:
        return f"{driver}://{rest}"
    # An in-memory database would forget the order journal on restart.
    if rest in ("", "/") or ":memory:" in rest or "mode=memory" in rest:
        raise UnusableDatabaseUrl("an in-memory SQLite database is not allowed")
    if not rest.startswith("/"):
        raise UnusableDatabaseUrl(
            "a SQLite URL is sqlite:///relative/path.db or sqlite:////absolute/path.db"
        )
    return sqlite_url(_anchored_sqlite_path(rest[1:], base))


def _anchored_sqlite_path(database: str, base: Path) -> str:
    """`database` (the part after `sqlite:///`, query included) with a relative path made
    absolute against `base`; `file:` URIs too."""
    path, question, query = database.partition("?")
    uri = path.startswith("file:")
    bare = path.removeprefix("file:")
    if not Path(bare).is_absolute():
        bare = str(base / bare)
    return f"{'file:' if uri else ''}{bare}{question}{query}"
