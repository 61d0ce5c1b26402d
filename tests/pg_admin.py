"""PostgreSQL as its administrator sees it, for the tests: the DSN asyncpg wants, and ending the
sessions of a Catalyst process (what a database restart does to its account lock)."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]  # no stubs; tests only
from sqlalchemy.engine import URL, make_url


def asyncpg_dsn(url: str | URL) -> str:
    """The libpq-style DSN asyncpg wants, from a SQLAlchemy URL."""
    parsed = make_url(url) if isinstance(url, str) else url
    return parsed.set(drivername="postgresql").render_as_string(hide_password=False)


def session_name(pid: int, host: str) -> str:
    """The `application_name` a Catalyst process gives its account-lock session."""
    return f"catalyst pid={pid} host={host}"


async def terminate_sessions(url: str, pid: int, host: str) -> None:
    """End every session of the Catalyst process `pid` on `host`, as a database restart would."""
    admin = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            session_name(pid, host),
        )
    finally:
        await admin.close()
