"""Which database failures mean "the journal is unavailable for now" (the one place that decides).

An outage is temporary and is waited out: the store raises `JournalUnavailable`, entries stop,
deferrable writes wait in the outbox. Anything else (a constraint, a missing table, a bad value)
is a defect or needs a person and stays an `OperationalError`.

Counted as unavailable:
- the connection could not be made or broke (`OSError`, `TimeoutError`: refused, reset, no route;
  asyncpg raises these itself on connect, outside SQLAlchemy);
- SQLAlchemy marked the connection invalidated (the server went away mid-operation);
- PostgreSQL SQLSTATE class 08 (connection exception) or 57P (admin/crash shutdown, "the database
  system is starting up");
- SQLite "database is locked" / "busy" after the busy timeout.
"""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError, InterfaceError, SQLAlchemyError

_PG_UNAVAILABLE_SQLSTATES = ("08", "57P")
_SQLITE_UNAVAILABLE = ("database is locked", "database is busy")
_MAX_CHAIN = 10  # causes followed when looking for the underlying failure


def is_journal_unavailable(exc: BaseException) -> bool:
    """True when `exc` (from a database call) means the database cannot be reached right now."""
    for each in _chain(exc):
        if isinstance(each, OSError | TimeoutError):
            return True
        if isinstance(each, DBAPIError) and each.connection_invalidated:
            return True
        if isinstance(each, InterfaceError):  # the DBAPI lost its connection
            return True
        sqlstate = getattr(each, "sqlstate", None)
        if isinstance(sqlstate, str) and sqlstate.startswith(_PG_UNAVAILABLE_SQLSTATES):
            return True
        if isinstance(each, SQLAlchemyError) or _is_sqlite_error(each):
            text = str(getattr(each, "orig", None) or each).lower()
            if any(words in text for words in _SQLITE_UNAVAILABLE):
                return True
    return False


def _is_sqlite_error(exc: BaseException) -> bool:
    return type(exc).__module__ == "sqlite3"


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and len(seen) < _MAX_CHAIN and current not in seen:
        seen.append(current)
        orig = getattr(current, "orig", None)
        current = orig if isinstance(orig, BaseException) else current.__cause__
    return seen
