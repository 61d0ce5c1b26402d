"""A unit of work cancelled again and again (as the daemon's stop does) still hands its
connection back cleanly: no rollback is cut short and left to the garbage collector."""

from __future__ import annotations

import asyncio
import gc
import logging

import pytest
from conftest import MigratedDatabase

ROUNDS = 150


async def _keep_checking(db: MigratedDatabase) -> None:
    while True:
        await db.store.check_available()


async def test_repeatedly_cancelled_transactions_leave_no_connection_to_the_collector(
    migrated_db: MigratedDatabase, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="sqlalchemy.pool")
    for round_ in range(ROUNDS):
        task = asyncio.create_task(_keep_checking(migrated_db))
        await asyncio.sleep(0.001 * (round_ % 7))  # land the cancellations at varied points
        while not task.done():
            task.cancel()
            await asyncio.sleep(0.002)
        assert task.cancelled()
    gc.collect()  # a connection abandoned mid-rollback is reset (and fails) here

    assert [r.getMessage() for r in caplog.records if r.name.startswith("sqlalchemy")] == []
    assert migrated_db.engine.pool.checkedout() == 0
    await migrated_db.store.check_available()  # and the store still works
