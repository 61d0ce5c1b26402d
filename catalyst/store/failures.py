"""Database failures translated into Catalyst's error classes, at the store's edge.

| failure                                                          | Catalyst error          |
|------------------------------------------------------------------|-------------------------|
| connection refused or reset, DNS failure, timeout; PostgreSQL    | DatabaseUnavailable     |
| starting up, shutting down, too many connections (08, 53, 57);   | (temporary: retry)      |
| SQLite busy or locked                                            |                         |
| login refused (28xxx), no privilege (42501), read-only (25006);  | StorageUnusable         |
| SQLite read-only, cannot open, I/O error, disk full; OSError     | (a person fixes it)     |
| PostgreSQL database does not exist (3D000)                       | DatabaseNotMigratedError|
| SQLite file is not a database or is malformed                    | DatabaseCorrupt         |

`database_errors(url)` is the one context manager the store wraps its first contact in (schema
check, migrations); anything it does not recognise propagates unchanged.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError

from catalyst.domain.errors import (
    DatabaseCorrupt,
    DatabaseNotMigratedError,
    DatabaseUnavailable,
    StorageError,
    StorageUnusable,
)
from catalyst.ops.filesystem import unusable_path
from catalyst.redaction import redact_url
from catalyst.store.engine import sqlite_path
from catalyst.store.unavailable import is_journal_unavailable

__all__ = ["database_errors", "translate_database_error"]

# SQLite primary result codes (the low byte of sqlite_errorcode).
_SQLITE_PERM, _SQLITE_BUSY, _SQLITE_LOCKED, _SQLITE_READONLY = 3, 5, 6, 8
_SQLITE_IOERR, _SQLITE_CORRUPT, _SQLITE_FULL, _SQLITE_CANTOPEN = 10, 11, 13, 14
_SQLITE_AUTH, _SQLITE_NOTADB = 23, 26

# PostgreSQL SQLSTATE classes after which the same request may succeed later.
_PG_TEMPORARY_CLASSES = ("08", "53", "57")  # connection, insufficient resources, operator action


@contextmanager
def database_errors(url: str | URL) -> Iterator[None]:
    """Re-raise database and OS failures inside the block as Catalyst `StorageError`s."""
    try:
        yield
    except StorageError:
        raise
    except (DBAPIError, OSError) as exc:  # TimeoutError and socket errors are OSErrors
        mapped = translate_database_error(exc, url)
        if mapped is None:
            raise
        raise mapped from exc


def translate_database_error(exc: BaseException, url: str | URL) -> StorageError | None:
    """The Catalyst error for `exc` raised using the database at `url`, or None if unknown."""
    parsed = make_url(url) if isinstance(url, str) else url
    where = f"database at {redact_url(parsed)}"
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        code = getattr(orig, "sqlite_errorcode", None)
        if isinstance(code, int):
            return _sqlite(code & 0xFF, str(orig), sqlite_path(parsed))
        sqlstate = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
        if isinstance(sqlstate, str):
            return _postgres(sqlstate, str(orig), where, parsed.database)
        if is_journal_unavailable(exc):  # the one definition of "cannot be reached for now"
            return DatabaseUnavailable(f"{where} dropped the connection ({orig}): is it running?")
        return None
    if isinstance(exc, OSError):
        path = sqlite_path(parsed)
        if path is not None:  # creating the directory the SQLite file lives in
            return unusable_path(exc, "SQLite database", path)
        detail = str(exc) or type(exc).__name__
        return DatabaseUnavailable(
            f"{where} is unreachable ({detail}): check that the server is running and the "
            "URL's host and port"
        )
    return None


def _sqlite(code: int, detail: str, path: Path | None) -> StorageError | None:
    name = f"SQLite database {path}"
    directory = path.parent if path is not None else "its directory"
    if code in (_SQLITE_NOTADB, _SQLITE_CORRUPT):
        return DatabaseCorrupt(
            f"{name} is damaged or not a database ({detail}): restore it from a backup, or move "
            "it away and run `catalyst db upgrade` for an empty one"
        )
    if code in (_SQLITE_BUSY, _SQLITE_LOCKED):
        return DatabaseUnavailable(f"{name} is locked by another process ({detail})")
    if code in (_SQLITE_READONLY, _SQLITE_CANTOPEN, _SQLITE_PERM, _SQLITE_AUTH):
        return StorageUnusable(
            f"cannot write {name} ({detail}): the file and {directory} must exist and be "
            "writable by the user Catalyst runs as"
        )
    if code in (_SQLITE_IOERR, _SQLITE_FULL):
        return StorageUnusable(f"cannot write {name} ({detail}): check the disk under {directory}")
    return None


def _postgres(sqlstate: str, detail: str, where: str, database: str | None) -> StorageError | None:
    if sqlstate == "3D000":
        return DatabaseNotMigratedError(
            f"{where}: database {database!r} does not exist: create it (createdb) and run "
            "`catalyst db upgrade`"
        )
    if sqlstate.startswith("28"):
        return StorageUnusable(
            f"{where} refused the login ({detail}): check the user and password in "
            "CATALYST_DATABASE_URL"
        )
    if sqlstate in ("42501", "25006"):
        return StorageUnusable(f"{where} refused the change ({detail}): check the role's rights")
    if sqlstate.startswith(_PG_TEMPORARY_CLASSES):
        return DatabaseUnavailable(f"{where} is not accepting connections ({detail})")
    return None
