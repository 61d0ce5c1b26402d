"""The emergency stop through alpaca-py and the fake server while the broker misbehaves.

Close orders meet 500s, a lost response and a timeout; the daemon keeps retrying until the
broker reports flat, never sells more than it holds, and stays halted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import pytest
from alpaca_broker import alpaca_broker
from structlog.testing import capture_logs
from stubs import risk_watch

from catalyst.brokers.alpaca import AlpacaBroker
from catalyst.config.models import SimulationConfig
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import OrderRequest, Side
from catalyst.execution.flatten import Flattener
from catalyst.execution.submitter import OrderSubmitter
from catalyst.fake_alpaca.faults import FaultPlan
from catalyst.fake_alpaca.server import RunningServer, start_fake_alpaca
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.migrate import upgrade_database
from catalyst.store.repository import Store
from catalyst.tasks.risk_watch import RiskWatch
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)
CALENDAR = ExchangeCalendar()


@dataclass
class Rig:
    sim: SimBroker
    broker: AlpacaBroker
    faults: FaultPlan
    store: Store
    watch: RiskWatch
    clock: SimClock


@pytest.fixture
async def rig(tmp_path: Path, sqlite_url: str) -> AsyncIterator[Rig]:
    clock = SimClock(datetime(2026, 11, 24, 10, 0, tzinfo=EXCHANGE_TZ))
    sim = build_sim_broker(SimulationConfig(symbols=60, seed=5), CALENDAR, clock)
    faults = FaultPlan()
    server: RunningServer = await start_fake_alpaca(sim.exchange, CALENDAR, clock, faults=faults)
    broker = alpaca_broker(server.base_url, clock, timeout_seconds=1.0)
    await asyncio.to_thread(upgrade_database, sqlite_url)
    engine = make_engine(sqlite_url)
    store = Store(make_session_factory(engine))
    submitter = OrderSubmitter(broker, store, clock)
    watch = risk_watch(
        broker,
        store,
        clock,
        calendar=CALENDAR,
        flattener=Flattener(broker, store, clock, submitter),
    )
    try:
        yield Rig(sim, broker, faults, store, watch, clock)
    finally:
        await engine.dispose()
        await server.stop()


async def _hold_three_positions(sim: SimBroker) -> dict[str, int]:
    assets = sorted(a.symbol for a in await sim.list_assets() if a.tradable)
    snapshots = await sim.get_snapshots(assets)
    chosen = [s for s in assets if s in snapshots and 5 < snapshots[s].last_price < 200][:3]
    for n, symbol in enumerate(chosen):
        await sim.submit_order(OrderRequest(f"manual-{n}", symbol, Side.BUY, 10 + n))
    return {p.symbol: p.qty for p in await sim.list_positions()}


async def test_emergency_stop_retries_through_5xx_lost_responses_and_timeouts_until_flat(
    rig: Rig,
) -> None:
    held = await _hold_three_positions(rig.sim)
    assert len(held) == 3
    rig.faults.fail(500, count=2, path="/v2/orders", method="POST")
    rig.faults.lose_response(count=1, path="/v2/orders", method="POST")
    rig.faults.fail(503, count=2, path="/v2/positions", method="GET")

    with capture_logs() as logs:
        await rig.watch.emergency_stop("test: loss limit", day=DAY)

    assert rig.faults.describe() == [], "every scripted fault was met"
    assert await rig.sim.list_positions() == []
    assert (await rig.store.get_trading_state()).is_halted
    sold: dict[str, int] = {}
    for fill in rig.sim.fills:
        if fill.side is Side.SELL:
            sold[fill.symbol] = sold.get(fill.symbol, 0) + fill.qty
    assert sold == held, "every position sold exactly once: nothing more, nothing less"
    assert any(e["event"] == "flat" for e in logs)
    kinds = [
        e.kind
        for e in await rig.store.risk_events_since(datetime(2026, 11, 24, tzinfo=EXCHANGE_TZ))
    ]
    assert kinds.count("emergency_stop") == 1


async def test_a_second_breach_check_keeps_the_halt_and_sends_nothing_new(rig: Rig) -> None:
    await _hold_three_positions(rig.sim)
    await rig.watch.emergency_stop("test: loss limit", day=DAY)
    fills_after_first = len(rig.sim.fills)
    counts_after_first = await rig.store.order_counts_for_day(DAY)

    await rig.watch.emergency_stop("test: still breached", day=DAY)

    state = await rig.store.get_trading_state()
    assert state.is_halted
    assert state.reason == "test: loss limit"
    assert len(rig.sim.fills) == fills_after_first
    assert await rig.store.order_counts_for_day(DAY) == counts_after_first
