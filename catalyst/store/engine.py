"""Engines and the one session factory shared by the pipeline, the risk-watch and the flattener.

SQLite (aiosqlite) is the embedded default; PostgreSQL (asyncpg) is production. On SQLite every
transaction is `BEGIN IMMEDIATE`: it takes the write lock up front, so a read-then-write unit of
work can never be overtaken by another writer (and `busy_timeout` makes the others wait instead of
failing). The file is in WAL mode so an operator reading it with the sqlite3 shell blocks nobody.

A unit of work cancelled mid-statement (the daemon's stop cancels again and again) leaves its
SQLite connection invalidated: SQLAlchemy drops it from the pool, but aiosqlite's worker thread
still runs what was already sent to it, a `BEGIN IMMEDIATE` included, before it reaches the
close. Such a connection can hold the write lock after the pool has opened a new one, and a
storm of them queues up for the lock, so the next real write waited out `busy_timeout`. Each
transaction therefore first waits for the abandoned connections to finish closing
(`settle_abandoned_connections`).
"""

from __future__ import annotations

import asyncio
import threading
import weakref
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import URL, Connection, make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

from catalyst.ops.filesystem import unusable_path
from catalyst.store.urls import async_database_url, is_memory_database, sqlite_path

_BUSY_TIMEOUT_MS = 5000


def _prepare_sqlite_file(url: URL) -> None:
    """Create the SQLite file and its directory (the state directory may be new).

    An empty file is an empty database. Opening it here makes a permission problem surface as
    one clear `StorageUnusable`, rather than inside aiosqlite's connect, whose failure path races
    the closing event loop and prints a thread traceback.
    """
    path = sqlite_path(url)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("ab"):
            pass
    except OSError as exc:
        raise unusable_path(exc, "SQLite database", path) from exc


class _AbandonedConnections:
    """The worker threads of SQLite connections the pool invalidated that may still be running."""

    def __init__(self) -> None:
        self._threads: set[threading.Thread] = set()

    def note(self, dbapi_connection: Any) -> None:
        # aiosqlite runs each connection in a thread of its own, which ends once it has closed.
        thread = getattr(getattr(dbapi_connection, "_connection", None), "_thread", None)
        if isinstance(thread, threading.Thread):
            self._threads.add(thread)

    async def settle(self) -> None:
        # Every caller waits for every thread (several units of work may start at once), bounded:
        # a thread that never ends must not stall the journal; past the bound, busy_timeout decides.
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _BUSY_TIMEOUT_MS / 1000
        for thread in list(self._threads):
            left = deadline - loop.time()
            if left > 0 and thread.is_alive():
                await asyncio.to_thread(thread.join, left)
            if not thread.is_alive() or loop.time() >= deadline:
                self._threads.discard(thread)  # closed, or given up on: nobody waits for it again


_abandoned: weakref.WeakKeyDictionary[Any, _AbandonedConnections] = weakref.WeakKeyDictionary()


async def settle_abandoned_connections(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Wait until no connection the pool invalidated can still hold SQLite's write lock.

    Returns at once on PostgreSQL, and on SQLite when no connection was abandoned.
    """
    engine = sessions.kw.get("bind")
    abandoned = _abandoned.get(engine.sync_engine) if isinstance(engine, AsyncEngine) else None
    if abandoned is not None:
        await abandoned.settle()


def _install_sqlite_hooks(engine: AsyncEngine, *, foreign_keys: bool) -> None:
    memory = is_memory_database(engine.url)
    abandoned = _abandoned.setdefault(engine.sync_engine, _AbandonedConnections())

    @event.listens_for(engine.sync_engine, "invalidate")
    def _on_invalidate(dbapi_connection: Any, _record: Any, _exception: Any) -> None:
        abandoned.note(dbapi_connection)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take BEGIN away from the sqlite3 module (it skips it before SELECT and DDL) ...
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            if not memory:
                cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute(f"PRAGMA busy_timeout={_BUSY_TIMEOUT_MS}")
            cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        finally:
            cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # ... and emit our own, taking the write lock at once (see module docstring).
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _create(url: str, *, echo: bool, foreign_keys: bool, null_pool: bool) -> AsyncEngine:
    parsed = make_url(async_database_url(url))
    options: dict[str, Any] = {"echo": echo}
    if null_pool:
        options["poolclass"] = NullPool
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _prepare_sqlite_file(parsed)
        engine = create_async_engine(parsed, **options)
        _install_sqlite_hooks(engine, foreign_keys=foreign_keys)
        return engine
    if backend == "postgresql":
        if not null_pool:
            options["pool_pre_ping"] = True
        return create_async_engine(parsed, **options)
    raise AssertionError(f"unreachable: {backend}")  # async_database_url refused the rest


def make_engine(url: str, *, echo: bool = False) -> AsyncEngine:
    """An async engine for `url` (sqlite+aiosqlite or postgresql+asyncpg).

    SQLite: creates the parent directory, WAL, foreign_keys=ON, busy_timeout=5000 ms and
    `BEGIN IMMEDIATE` transactions. PostgreSQL: connections are pinged before use.
    """
    return _create(url, echo=echo, foreign_keys=True, null_pool=False)


def make_migration_engine(url: str) -> AsyncEngine:
    """The engine Alembic migrations run on: no pool, and on SQLite foreign keys off.

    SQLite's batch migrations copy and drop tables, which enforced foreign keys would cascade
    into; `migrations/env.py` runs `PRAGMA foreign_key_check` afterwards instead.
    """
    return _create(url, echo=False, foreign_keys=False, null_pool=True)


def make_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """The session factory for `engine`; objects stay readable after commit."""
    return async_sessionmaker(engine, expire_on_commit=False)
