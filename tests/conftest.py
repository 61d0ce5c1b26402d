"""Shared database fixtures: a SQLite file per test, a fresh PostgreSQL database per test.

PostgreSQL comes from CATALYST_TEST_PG_URL (default: trust login as postgres on 127.0.0.1:5432;
`scripts/ensure_postgres.sh` provisions one and prints the URL). When it is unreachable the
PostgreSQL variants are skipped, or fail when CATALYST_REQUIRE_PG=1 (CI).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import asyncpg  # type: ignore[import-untyped]  # no stubs; used only to create test databases
import pytest
import structlog
from day_journal import JournaledDay, journal_a_simulated_day
from hypothesis import settings
from pg_admin import asyncpg_dsn
from processes import Processes
from sqlalchemy.engine import URL, make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from catalyst.redaction import redact_url
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.migrate import upgrade_database
from catalyst.store.repository import Store

# No per-example deadline: the machines are shared and slow at times, and a property must fail
# on its inputs, never on the clock. HYPOTHESIS_PROFILE=thorough runs ten times the examples.
settings.register_profile("catalyst", deadline=None)
settings.register_profile("thorough", deadline=None, max_examples=1000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "catalyst"))

DEFAULT_TEST_PG_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def _pg_unavailable(reason: str) -> NoReturn:
    if os.environ.get("CATALYST_REQUIRE_PG") == "1":
        pytest.fail(f"{reason} (CATALYST_REQUIRE_PG=1)", pytrace=False)
    pytest.skip(reason)


async def _admin_connection(server: URL) -> asyncpg.Connection:
    try:
        return await asyncpg.connect(asyncpg_dsn(server), timeout=5)
    except (OSError, TimeoutError, asyncpg.PostgresError) as exc:
        _pg_unavailable(f"PostgreSQL at {redact_url(server)} is unavailable: {exc}")


@pytest.fixture(autouse=True)
def _structlog_restored() -> Iterator[None]:
    """Each test starts from the logging configuration the one before found: a command run
    in-process (click's CliRunner) configures structlog for its level, which must not leak."""
    saved = structlog.get_config()
    try:
        yield
    finally:
        structlog.configure(**saved)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite database file (not yet created) in the test's temporary directory."""
    return f"sqlite+aiosqlite:///{tmp_path / 'state' / 'catalyst.db'}"


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """A fresh, empty PostgreSQL database, dropped after the test."""
    server = make_url(os.environ.get("CATALYST_TEST_PG_URL", DEFAULT_TEST_PG_URL))
    name = f"catalyst_test_{uuid.uuid4().hex[:8]}"
    admin = await _admin_connection(server)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        admin = await _admin_connection(server)
        try:
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await admin.close()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest) -> str:
    """An empty database on each backend in turn."""
    fixture = "sqlite_url" if request.param == "sqlite" else "pg_url"
    url: str = request.getfixturevalue(fixture)
    return url


@dataclass(frozen=True)
class MigratedDatabase:
    url: str
    engine: AsyncEngine
    store: Store


@pytest.fixture
async def migrated_db(db_url: str) -> AsyncIterator[MigratedDatabase]:
    """An upgraded database on each backend, with its engine and a Store over it."""
    await asyncio.to_thread(upgrade_database, db_url)
    engine = make_engine(db_url)
    try:
        yield MigratedDatabase(db_url, engine, Store(make_session_factory(engine)))
    finally:
        await engine.dispose()


@pytest.fixture
def migrated_store(migrated_db: MigratedDatabase) -> Store:
    """A Store over an upgraded database, on each backend in turn."""
    return migrated_db.store


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Processes]:
    """Spawns real `catalyst` processes; whatever is left is killed at teardown, pass or fail."""
    spawned = Processes(tmp_path)
    try:
        yield spawned
    finally:
        spawned.reap()


@pytest.fixture(scope="session")
def simulated_day(tmp_path_factory: pytest.TempPathFactory) -> JournaledDay:
    """A whole simulated trading day journaled once per session (copy it before use)."""
    return journal_a_simulated_day(tmp_path_factory.mktemp("simulated-day"))
