"""Database failures: the one table of what each means, and the Catalyst errors they become.

Two callers read the same table:
- mid-session, the store asks `is_journal_unavailable(exc)`: an outage is waited out
  (`JournalUnavailable`: entries stop, deferrable writes wait in the outbox); anything else (a
  constraint, a missing table, a bad value) is a defect or needs a person (`OperationalError`);
- at start-up and in the CLI, `database_errors(url)` wraps the first contact (schema check,
  migrations) and raises the `StorageError` the failure's kind calls for, naming the database.

| failure                                                     | kind, start-up error       |
|-------------------------------------------------------------|----------------------------|
| connection refused, reset or dropped, DNS failure, timeout  | UNAVAILABLE (temporary):   |
| (an OSError; a connection SQLAlchemy invalidated; an        | DatabaseUnavailable        |
| InterfaceError); PostgreSQL SQLSTATE class 08, 53, 57       |                            |
| (too many connections, shutting down, starting up); SQLite  |                            |
| busy or locked                                              |                            |
| login refused (28xxx), no privilege (42501), read-only      | ACCESS: StorageUnusable    |
| (25006); SQLite read-only, cannot open, I/O error, full     |                            |
| PostgreSQL database does not exist (3D000)                  | NOT_MIGRATED:              |
|                                                             | DatabaseNotMigratedError   |
| SQLite file is not a database or is malformed               | CORRUPT: DatabaseCorrupt   |

Anything else is not classified (None): it propagates unchanged. An OSError under a SQLite URL at
start-up is about the file's path, not a connection, and is named as such (`unusable_path`).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from enum import Enum

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError

from catalyst.domain.errors import (
    DatabaseCorrupt,
    DatabaseNotMigratedError,
    DatabaseUnavailable,
    StorageError,
    StorageUnusable,
)
from catalyst.ops.filesystem import unusable_path
from catalyst.redaction import redact_url
from catalyst.store.urls import sqlite_path

__all__ = [
    "FailureKind",
    "classify_database_failure",
    "database_errors",
    "is_journal_unavailable",
    "translate_database_error",
]


class FailureKind(Enum):
    """What a database failure means, by what happens next."""

    UNAVAILABLE = "unavailable"  # temporary: wait and try again
    ACCESS = "access"  # a person fixes the rights, the disk or the login
    CORRUPT = "corrupt"  # restore the file from a backup
    NOT_MIGRATED = "not migrated"  # create the database and run the migrations


@dataclass(frozen=True)
class _Rule:
    kind: FailureKind
    # str.format template: {name} names a SQLite file, {where} any database; {detail} is the
    # driver's message, {directory} the SQLite file's directory, {database} the database's name.
    message: str


_LOCKED = _Rule(FailureKind.UNAVAILABLE, "{name} is locked by another process ({detail})")
_NOT_WRITABLE = _Rule(
    FailureKind.ACCESS,
    "cannot write {name} ({detail}): the file and {directory} must exist and be writable by the "
    "user Catalyst runs as",
)
_DISK = _Rule(
    FailureKind.ACCESS, "cannot write {name} ({detail}): check the disk under {directory}"
)
_DAMAGED = _Rule(
    FailureKind.CORRUPT,
    "{name} is damaged or not a database ({detail}): restore it from a backup, or move it away "
    "and run `catalyst db upgrade` for an empty one",
)

# SQLite primary result codes (the low byte of sqlite_errorcode).
_SQLITE_RULES: Mapping[int, _Rule] = {
    5: _LOCKED,  # SQLITE_BUSY (after the busy timeout)
    6: _LOCKED,  # SQLITE_LOCKED
    3: _NOT_WRITABLE,  # SQLITE_PERM
    8: _NOT_WRITABLE,  # SQLITE_READONLY
    14: _NOT_WRITABLE,  # SQLITE_CANTOPEN
    23: _NOT_WRITABLE,  # SQLITE_AUTH
    10: _DISK,  # SQLITE_IOERR
    13: _DISK,  # SQLITE_FULL
    11: _DAMAGED,  # SQLITE_CORRUPT
    26: _DAMAGED,  # SQLITE_NOTADB
}

# PostgreSQL SQLSTATEs (or their class prefixes): the first row that matches decides.
_PG_RULES: tuple[tuple[tuple[str, ...], _Rule], ...] = (
    (
        ("3D000",),
        _Rule(
            FailureKind.NOT_MIGRATED,
            "{where}: database {database!r} does not exist: create it (createdb) and run "
            "`catalyst db upgrade`",
        ),
    ),
    (
        ("28",),
        _Rule(
            FailureKind.ACCESS,
            "{where} refused the login ({detail}): check the user and password in "
            "CATALYST_DATABASE_URL",
        ),
    ),
    (
        ("42501", "25006"),
        _Rule(FailureKind.ACCESS, "{where} refused the change ({detail}): check the role's rights"),
    ),
    (
        # connection, insufficient resources, operator action: the same request may succeed later
        ("08", "53", "57"),
        _Rule(FailureKind.UNAVAILABLE, "{where} is not accepting connections ({detail})"),
    ),
)

# No code to go by, but the connection could not be made (an OSError raised by the caller) ...
_UNREACHABLE = _Rule(
    FailureKind.UNAVAILABLE,
    "{where} is unreachable ({detail}): check that the server is running and the URL's host and "
    "port",
)
# ... or broke under a statement (an OSError further down, invalidated, InterfaceError).
_DROPPED = _Rule(
    FailureKind.UNAVAILABLE, "{where} dropped the connection ({detail}): is it running?"
)

_ERRORS: Mapping[FailureKind, type[StorageError]] = {
    FailureKind.UNAVAILABLE: DatabaseUnavailable,
    FailureKind.ACCESS: StorageUnusable,
    FailureKind.CORRUPT: DatabaseCorrupt,
    FailureKind.NOT_MIGRATED: DatabaseNotMigratedError,
}

_MAX_CHAIN = 10  # causes followed when looking for the underlying failure


def classify_database_failure(exc: BaseException) -> FailureKind | None:
    """What `exc` (raised by a database call) means, or None when the table does not know it."""
    found = _diagnose(exc)
    return found[0].kind if found is not None else None


def is_journal_unavailable(exc: BaseException) -> bool:
    """True when `exc` (from a database call) means the database cannot be reached right now."""
    return classify_database_failure(exc) is FailureKind.UNAVAILABLE


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
    path = sqlite_path(parsed)
    if isinstance(exc, OSError) and path is not None:  # creating the SQLite file's directory
        return unusable_path(exc, "SQLite database", path)
    found = _diagnose(exc)
    if found is None:
        return None
    rule, evidence = found
    message = rule.message.format(
        name=f"SQLite database {path}",
        where=f"database at {redact_url(parsed)}",
        detail=str(getattr(evidence, "orig", None) or evidence) or type(evidence).__name__,
        directory=path.parent if path is not None else "its directory",
        database=parsed.database,
    )
    return _ERRORS[rule.kind](message)


def _diagnose(exc: BaseException) -> tuple[_Rule, BaseException] | None:
    """The rule `exc` falls under and the exception in its chain that shows it.

    A driver's code (SQLite result code, SQLSTATE) anywhere in the chain decides first; only
    without one do the signs of a lost connection count.
    """
    chain = _chain(exc)
    for each in chain:
        rule = _coded_rule(each)
        if rule is not None:
            return rule, each
    if not any(_lost_connection(each) for each in chain):
        return None
    return (_UNREACHABLE if isinstance(exc, OSError) else _DROPPED), exc


def _coded_rule(exc: BaseException) -> _Rule | None:
    code = getattr(exc, "sqlite_errorcode", None)
    if isinstance(code, int):
        return _SQLITE_RULES.get(code & 0xFF)
    sqlstate = getattr(exc, "sqlstate", None) or getattr(exc, "pgcode", None)
    if isinstance(sqlstate, str):
        for prefixes, rule in _PG_RULES:
            if sqlstate.startswith(prefixes):
                return rule
    return None


def _lost_connection(exc: BaseException) -> bool:
    # asyncpg raises OSError/TimeoutError itself on connect, outside SQLAlchemy.
    if isinstance(exc, OSError | TimeoutError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < _MAX_CHAIN and current not in seen:
        seen.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return seen
