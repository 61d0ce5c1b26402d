"""A flatten request carries its time and is honoured only while fresh: yesterday's never
flattens today's book; it is recorded as expired and removed."""

from __future__ import annotations

import asyncio
import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import pytest
from stubs import flatten_request_watch

from catalyst.config.models import SimulationConfig
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import OrderRequest, Side
from catalyst.ops.flatten_request import FlattenRequest
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

NOW = datetime.combine(date(2026, 11, 24), time(10, 0), tzinfo=EXCHANGE_TZ)
MAX_AGE = timedelta(seconds=120)


@pytest.mark.parametrize(
    ("requested", "fresh"),
    [
        (NOW, True),
        (NOW - timedelta(seconds=119), True),
        (NOW - timedelta(seconds=120), True),
        (NOW - timedelta(seconds=121), False),
        (NOW - timedelta(days=1), False),
        (NOW + timedelta(seconds=30), True),  # a little clock skew
        (NOW + timedelta(days=1), False),  # dated tomorrow: a wrong clock, not an order
    ],
)
def test_a_request_is_fresh_only_within_its_max_age(
    tmp_path: Path, requested: datetime, fresh: bool
) -> None:
    request = FlattenRequest(tmp_path, max_age=MAX_AGE)
    request.submit("why", "ops", requested)
    pending = request.pending()
    assert pending is not None
    assert pending.requested_at == requested
    assert not pending.dated_by_file
    assert pending.is_fresh(NOW, MAX_AGE) is fresh


def test_a_hand_made_request_is_dated_by_its_modification_time(tmp_path: Path) -> None:
    request = FlattenRequest(tmp_path)
    request.path.write_text("please flatten\n")
    yesterday = (NOW - timedelta(days=1)).timestamp()
    os.utime(request.path, (yesterday, yesterday))
    pending = request.pending()
    assert pending is not None
    assert pending.dated_by_file
    assert pending.requested_at == NOW.astimezone(UTC) - timedelta(days=1)
    assert not pending.is_fresh(NOW, MAX_AGE)


def test_no_file_means_no_request(tmp_path: Path) -> None:
    assert FlattenRequest(tmp_path).pending() is None


async def _book_with_a_position(clock: SimClock) -> SimBroker:
    broker = build_sim_broker(SimulationConfig(symbols=40), ExchangeCalendar(), clock)
    assets = await broker.list_assets()
    snapshots = await broker.get_snapshots([a.symbol for a in assets if a.tradable])
    symbol = next(s for s, snap in snapshots.items() if 10 <= snap.last_price <= 300)
    await broker.submit_order(OrderRequest("entry-1", symbol, Side.BUY, 5))
    clock.advance_to(NOW + timedelta(minutes=1))
    assert [p.qty for p in await broker.list_positions()] == [5]
    return broker


async def _watch_briefly(
    tmp_path: Path, store: Store, requested_at: datetime
) -> tuple[SimBroker, FlattenRequest]:
    clock = SimClock(NOW)
    broker = await _book_with_a_position(clock)
    request = FlattenRequest(tmp_path, max_age=MAX_AGE)
    request.submit("flatten it all", "ops", requested_at)
    watch = flatten_request_watch(request, broker, store, clock)

    async def run() -> None:
        async with clock.participant():
            await watch.run()

    task = asyncio.create_task(run())
    await clock.sleep_until(clock.now() + timedelta(minutes=2))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    return broker, request


async def test_flatten_request_watch_when_request_is_stale_ignores_it_records_expiry_and_removes_it(
    tmp_path: Path, migrated_store: Store
) -> None:
    broker, request = await _watch_briefly(tmp_path, migrated_store, NOW - timedelta(days=1))

    assert [p.qty for p in await broker.list_positions()] == [5], "the book was left alone"
    assert request.pending() is None, "the stale request is removed"
    kinds = [e.kind for e in await migrated_store.risk_events_since(NOW - timedelta(days=2))]
    assert kinds == ["manual_flatten_expired"]


async def test_flatten_request_watch_when_request_is_fresh_flattens(
    tmp_path: Path, migrated_store: Store
) -> None:
    broker, request = await _watch_briefly(tmp_path, migrated_store, NOW + timedelta(minutes=1))

    assert [p.qty for p in await broker.list_positions() if p.qty] == []
    assert request.pending() is None
    kinds = [e.kind for e in await migrated_store.risk_events_since(NOW)]
    assert kinds[:2] == ["manual_flatten", "manual_flatten_done"]
