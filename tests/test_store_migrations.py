"""Migrations: upgrade from empty on both backends, refusal of an un-migrated database."""

from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, make_url

from catalyst.domain.errors import DatabaseNotMigratedError
from catalyst.domain.funnel import FunnelStage
from catalyst.redaction import redact_url
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.migrate import (
    check_schema_current,
    current_revision,
    head_revision,
    migrations_directory,
    upgrade_database,
)
from catalyst.store.repository import Store
from catalyst.store.tables import metadata

EXPECTED_TABLES = {
    "securities",
    "trading_cycles",
    "scan_results",
    "orders",
    "order_events",
    "fills",
    "positions",
    "risk_events",
    "alert_outbox",
    "trading_state",
    "trading_state_history",
    "daily_equity",
    "daemon_heartbeats",
    "account_snapshots",
    "entry_proposals",
    "alembic_version",
}


def test_head_revision_is_entry_proposals_and_migrations_are_found() -> None:
    assert head_revision() == "0006"
    assert (migrations_directory() / "versions" / "0001_initial_schema.py").is_file()


async def test_upgrade_from_empty_creates_the_schema_and_is_idempotent(db_url: str) -> None:
    await asyncio.to_thread(upgrade_database, db_url)
    await asyncio.to_thread(upgrade_database, db_url)  # second run: nothing to do, no error

    engine = make_engine(db_url)
    try:
        await check_schema_current(engine)
        assert await current_revision(engine) == head_revision()
        async with engine.connect() as connection:
            tables = await connection.run_sync(lambda c: set(inspect(c).get_table_names()))
            state_rows = (
                await connection.execute(text("SELECT id, status FROM trading_state"))
            ).all()
            versions = (await connection.execute(text("SELECT * FROM alembic_version"))).all()
    finally:
        await engine.dispose()
    assert tables == EXPECTED_TABLES
    assert [tuple(row) for row in state_rows] == [(1, "active")]
    assert len(versions) == 1


def _schema_differences(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    return list(compare_metadata(context, metadata))


async def test_migrated_schema_matches_the_tables_module(db_url: str) -> None:
    await asyncio.to_thread(upgrade_database, db_url)
    engine = make_engine(db_url)
    try:
        async with engine.connect() as connection:
            differences = await connection.run_sync(_schema_differences)
    finally:
        await engine.dispose()
    assert differences == []


async def test_check_schema_current_when_database_is_empty_names_revisions_and_the_fix(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    try:
        with pytest.raises(DatabaseNotMigratedError) as raised:
            await check_schema_current(engine)
    finally:
        await engine.dispose()
    message = str(raised.value)
    assert "is not migrated (at revision none, need 0006)" in message
    assert "run `catalyst db upgrade`" in message
    assert redact_url(db_url) in message


async def test_check_schema_current_when_revision_is_unknown_says_a_newer_release_migrated_it(
    db_url: str,
) -> None:
    await asyncio.to_thread(upgrade_database, db_url)
    engine = make_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text("UPDATE alembic_version SET version_num = 'ffff9999'"))
        with pytest.raises(DatabaseNotMigratedError, match=r"ffff9999.*newer Catalyst"):
            await check_schema_current(engine)
    finally:
        await engine.dispose()


async def test_not_migrated_error_never_shows_the_database_password(db_url: str) -> None:
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        pytest.skip("SQLite URLs carry no password")
    # The test server either ignores passwords (trust) or needs the real one: use whichever.
    password = url.password or "s3cret-Pa55word"
    engine = make_engine(url.set(password=password).render_as_string(hide_password=False))
    try:
        with pytest.raises(DatabaseNotMigratedError) as raised:
            await check_schema_current(engine)
    finally:
        await engine.dispose()
    message = str(raised.value)
    assert password not in message
    assert f"{url.username}:***@{url.host}" in message


def _sqlite_tables_and_revisions(sqlite_url: str) -> tuple[set[str], list[str]]:
    # Read with the stdlib driver: no event loop anywhere in the test.
    with closing(sqlite3.connect(str(make_url(sqlite_url).database))) as connection:
        tables = {
            name
            for (name,) in connection.execute("SELECT name FROM sqlite_master WHERE type='table'")
        }
        revisions = [
            rev for (rev,) in connection.execute("SELECT version_num FROM alembic_version")
        ]
    return tables, revisions


def test_upgrade_database_from_plain_sync_code(sqlite_url: str) -> None:
    upgrade_database(sqlite_url)
    assert _sqlite_tables_and_revisions(sqlite_url) == (EXPECTED_TABLES, [head_revision()])

    upgrade_database(sqlite_url)  # second run: nothing to do, no error
    assert _sqlite_tables_and_revisions(sqlite_url) == (EXPECTED_TABLES, [head_revision()])


async def test_upgrade_database_called_inside_a_running_event_loop_still_works(
    sqlite_url: str,
) -> None:
    upgrade_database(sqlite_url)  # blocks the loop, but must not fail on asyncio.run nesting
    engine = make_engine(sqlite_url)
    try:
        await check_schema_current(engine)
    finally:
        await engine.dispose()


async def test_scan_results_written_before_stages_read_back_as_the_catalyst_stage(
    db_url: str,
) -> None:
    await asyncio.to_thread(upgrade_database, db_url, "0002")
    engine = make_engine(db_url)
    try:
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO trading_cycles (cycle_id, cycle_date, cycle_number, session_mode,"
                    " triggered_by, status, started_at, candidates_identified, trades_executed)"
                    " VALUES ('20261124-0930', '2026-11-24', 1, 'autonomous', 'schedule',"
                    " 'completed', '2026-11-24 14:30:00', 1, 0)"
                )
            )
            await connection.execute(
                text(
                    "INSERT INTO scan_results (cycle_id, symbol, scan_timestamp, price_at_scan,"
                    " volume_at_scan, rank_in_scan, scan_type, composite_score, final_candidate)"
                    " VALUES ('20261124-0930', 'AAA', '2026-11-24 14:30:00', '12.5', 1000, 1,"
                    " 'intraday', 0.8, :yes)"
                ),
                {"yes": True},
            )
    finally:
        await engine.dispose()

    await asyncio.to_thread(upgrade_database, db_url)

    engine = make_engine(db_url)
    try:
        (row,) = await Store(make_session_factory(engine)).scan_results_for_cycle("20261124-0930")
    finally:
        await engine.dispose()
    assert (row.symbol, row.stage, row.kept) == ("AAA", FunnelStage.CATALYSTS, None)
    assert row.features == {}
    assert row.final_candidate is True
