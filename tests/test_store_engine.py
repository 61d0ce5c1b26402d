"""Engines: SQLite connection settings, URL redaction, the shared session factory."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import text

from catalyst.redaction import redact_url
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.urls import async_database_url


async def test_sqlite_engine_creates_the_directory_and_sets_wal_foreign_keys_and_timeout(
    tmp_path: Path,
) -> None:
    database = tmp_path / "deep" / "state" / "catalyst.db"
    engine = make_engine(f"sqlite+aiosqlite:///{database}")
    try:
        async with engine.connect() as connection:
            journal = await connection.scalar(text("PRAGMA journal_mode"))
            foreign_keys = await connection.scalar(text("PRAGMA foreign_keys"))
            busy_timeout = await connection.scalar(text("PRAGMA busy_timeout"))
    finally:
        await engine.dispose()
    assert database.parent.is_dir()
    assert (journal, foreign_keys, busy_timeout) == ("wal", 1, 5000)


async def test_sqlite_concurrent_read_modify_write_transactions_do_not_lose_updates(
    sqlite_url: str,
) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("CREATE TABLE counter (n INTEGER NOT NULL)"))
            await connection.execute(text("INSERT INTO counter VALUES (0)"))

        async def increment() -> None:
            # read, yield to the other tasks, then write: a lost update without BEGIN IMMEDIATE
            async with sessions() as session, session.begin():
                n = await session.scalar(text("SELECT n FROM counter"))
                await asyncio.sleep(0)
                await session.execute(text("UPDATE counter SET n = :n"), {"n": int(n or 0) + 1})

        await asyncio.gather(*(increment() for _ in range(20)))
        async with engine.connect() as connection:
            final = await connection.scalar(text("SELECT n FROM counter"))
    finally:
        await engine.dispose()
    assert final == 20


async def test_session_factory_keeps_objects_readable_after_commit(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    try:
        assert make_session_factory(engine).kw["expire_on_commit"] is False
    finally:
        await engine.dispose()


@pytest.mark.parametrize(
    ("url", "secret"),
    [
        ("postgresql+asyncpg://catalyst:hunter2-Secret@db.example:5432/catalyst", "hunter2-Secret"),
        ("postgresql+asyncpg://catalyst:p%40ss%3Aword@db/catalyst", "p@ss:word"),
        ("postgresql+asyncpg://db/catalyst?user=catalyst&password=QueryS3cret", "QueryS3cret"),
        ("postgresql://db/catalyst?sslmode=require&sslpassword=KeyS3cret", "KeyS3cret"),
    ],
)
def test_redact_url_never_shows_the_password(url: str, secret: str) -> None:
    redacted = redact_url(url)
    assert secret not in redacted
    assert "p%40ss" not in redacted
    assert "***" in redacted
    assert "catalyst" in redacted  # still says which database


def test_redact_url_of_garbage_says_so_without_echoing_it() -> None:
    assert redact_url("not a url :: secret") == "<unparseable url>"


def test_make_engine_refuses_other_databases_without_showing_the_password() -> None:
    with pytest.raises(ValueError, match="unsupported database") as raised:
        make_engine("mysql+aiomysql://root:TopSecret@db/catalyst")
    assert "TopSecret" not in str(raised.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///var/catalyst.db", "sqlite+aiosqlite:///var/catalyst.db"),
        ("sqlite+aiosqlite:////abs/x.db", "sqlite+aiosqlite:////abs/x.db"),
        ("postgresql://u:pw@db/catalyst", "postgresql+asyncpg://u:pw@db/catalyst"),
        ("postgres://db:5433/catalyst", "postgresql+asyncpg://db:5433/catalyst"),
        ("postgresql+asyncpg://db/catalyst", "postgresql+asyncpg://db/catalyst"),
    ],
)
def test_async_database_url_maps_sync_spellings_onto_the_async_drivers(
    url: str, expected: str
) -> None:
    assert async_database_url(url) == expected


@pytest.mark.parametrize(
    "url", ["mysql://db/catalyst", "postgresql+psycopg2://db/x", "sqlite+pysqlite:///x", "junk"]
)
def test_async_database_url_refuses_other_databases_and_drivers(url: str) -> None:
    with pytest.raises(ValueError, match=r"use postgresql://\.\.\. or sqlite:///<path>"):
        async_database_url(url)
