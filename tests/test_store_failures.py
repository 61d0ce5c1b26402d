"""Database failures classified at the store's edge by what happens next.

The common cases (refused connection, refused login, missing database, corrupt or read-only file)
run as real processes in test_cli_errors.py; these are the ones that are hard to provoke there.
"""

from __future__ import annotations

import errno
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import DBAPIError

from catalyst.domain.errors import (
    DatabaseNotMigratedError,
    DatabaseUnavailable,
    StorageError,
    StorageUnusable,
)
from catalyst.store.failures import (
    database_errors,
    is_journal_unavailable,
    translate_database_error,
)

PG_URL = "postgresql+asyncpg://catalyst:TopSecret@db.internal/catalyst"


class PgError(Exception):
    """What asyncpg's errors carry through SQLAlchemy's adapter: a SQLSTATE."""

    def __init__(self, sqlstate: str, message: str) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def _wrapped(orig: Exception) -> DBAPIError:
    return DBAPIError(statement=None, params=None, orig=orig)


@pytest.mark.parametrize(
    ("sqlstate", "expected"),
    [
        ("57P03", DatabaseUnavailable),  # the database system is starting up
        ("57P01", DatabaseUnavailable),  # terminating connection due to administrator command
        ("53300", DatabaseUnavailable),  # too many connections
        ("08006", DatabaseUnavailable),  # connection failure
        ("28P01", StorageUnusable),  # password authentication failed
        ("42501", StorageUnusable),  # permission denied for table
        ("25006", StorageUnusable),  # read-only transaction (a hot standby)
        ("3D000", DatabaseNotMigratedError),  # database does not exist
    ],
)
def test_postgresql_sqlstates_map_by_what_happens_next(
    sqlstate: str, expected: type[StorageError]
) -> None:
    mapped = translate_database_error(_wrapped(PgError(sqlstate, "server said no")), PG_URL)
    assert type(mapped) is expected
    assert "db.internal" in str(mapped)
    assert "TopSecret" not in str(mapped)


@pytest.mark.parametrize(
    "sqlstate", ["57P03", "57P01", "57014", "53300", "08006", "28P01", "42501", "3D000", "23505"]
)
def test_mid_session_and_start_up_agree_on_which_failures_are_temporary(sqlstate: str) -> None:
    failure = _wrapped(PgError(sqlstate, "server said no"))
    at_start_up = translate_database_error(failure, PG_URL)
    assert is_journal_unavailable(failure) == isinstance(at_start_up, DatabaseUnavailable)


def test_an_unknown_sqlstate_is_left_alone() -> None:
    assert translate_database_error(_wrapped(PgError("23505", "duplicate key")), PG_URL) is None


def test_a_locked_sqlite_file_is_temporary(tmp_path: Path) -> None:
    path = tmp_path / "catalyst.db"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 0})
    try:
        with pytest.raises(DatabaseUnavailable, match="locked"):  # noqa: SIM117
            with database_errors(f"sqlite+aiosqlite:///{path}"), engine.connect() as connection:
                connection.execute(text("SELECT * FROM sqlite_master"))
    finally:
        engine.dispose()
        holder.close()


def test_a_full_disk_under_a_postgresql_url_is_unreachable_but_under_sqlite_names_the_file(
    tmp_path: Path,
) -> None:
    refused = ConnectionRefusedError(errno.ECONNREFUSED, "Connect call failed")
    full = OSError(errno.ENOSPC, "No space left on device", str(tmp_path))

    assert isinstance(translate_database_error(refused, PG_URL), DatabaseUnavailable)
    mapped = translate_database_error(full, f"sqlite+aiosqlite:///{tmp_path / 'catalyst.db'}")
    assert isinstance(mapped, StorageUnusable)
    assert "the disk is full" in str(mapped)


def test_errors_that_are_not_about_the_database_pass_through() -> None:
    with pytest.raises(KeyError), database_errors(PG_URL):
        raise KeyError("a bug")
