"""Max hold: a position held past `max_hold_time_minutes` is closed, by its age from the fill that
opened it; nothing younger is touched; nothing at all while the risk-watch keeps the book flat."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time, timedelta

from stubs import max_hold_watch

from catalyst.config.models import SimulationConfig
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import OrderRequest, Side
from catalyst.domain.risk_events import RiskEventKind
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.store.repository import Store
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

OPEN = datetime.combine(date(2026, 11, 24), time(10, 0), tzinfo=EXCHANGE_TZ)
MAX_HOLD = timedelta(minutes=20)


async def _two_positions(clock: SimClock) -> tuple[SimBroker, str, str]:
    """One bought at 10:00, one at 10:15."""
    broker = build_sim_broker(SimulationConfig(symbols=40), ExchangeCalendar(), clock)
    snapshots = await broker.get_snapshots([a.symbol for a in await broker.list_assets()])
    old, young = sorted(s for s, snap in snapshots.items() if 10 <= snap.last_price <= 300)[:2]
    await broker.submit_order(OrderRequest("entry-old", old, Side.BUY, 5))
    clock.advance_to(OPEN + timedelta(minutes=15))
    await broker.submit_order(OrderRequest("entry-young", young, Side.BUY, 5))
    clock.advance_to(OPEN + timedelta(minutes=16))
    assert {p.symbol for p in await broker.list_positions() if p.qty} == {old, young}
    return broker, old, young


async def test_max_hold_closes_only_what_is_held_too_long(migrated_store: Store) -> None:
    clock = SimClock(OPEN)
    broker, old, young = await _two_positions(clock)
    watch = max_hold_watch(broker, migrated_store, clock, MAX_HOLD)

    assert await watch.check_once() == frozenset(), "16 minutes is within the max hold"
    clock.advance_to(OPEN + timedelta(minutes=21))
    assert await watch.check_once() == {old}
    clock.advance_to(OPEN + timedelta(minutes=22))

    assert {p.symbol for p in await broker.list_positions() if p.qty} == {young}
    kinds = [e.kind for e in await migrated_store.risk_events_since(OPEN)]
    assert kinds == [RiskEventKind.MAX_HOLD_TIME]


async def test_max_hold_leaves_the_book_alone_while_the_risk_watch_keeps_it_flat(
    migrated_store: Store,
) -> None:
    clock = SimClock(OPEN)
    broker, old, young = await _two_positions(clock)
    watch = max_hold_watch(broker, migrated_store, clock, MAX_HOLD, book_kept_flat=lambda: True)
    clock.advance_to(OPEN + timedelta(minutes=40))

    async def run() -> None:
        async with clock.participant():
            await watch.run()

    task = asyncio.create_task(run())
    await clock.sleep_until(clock.now() + timedelta(minutes=3))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert {p.symbol for p in await broker.list_positions() if p.qty} == {old, young}
    assert await migrated_store.risk_events_since(OPEN) == []


async def test_max_hold_after_a_reload_uses_the_new_limit(migrated_store: Store) -> None:
    clock = SimClock(OPEN)
    broker, old, _young = await _two_positions(clock)
    watch = max_hold_watch(broker, migrated_store, clock, timedelta(hours=3))
    assert await watch.check_once() == frozenset()

    watch.update(timedelta(minutes=10))

    assert await watch.check_once() == {old}
