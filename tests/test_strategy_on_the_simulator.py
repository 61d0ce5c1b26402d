"""The funnel on the simulator finds the catalysts the simulator planted, and not its noise.

The simulator plants a catalyst (a gap, heavy volume, a headline before the open, a drift) on
3 % of its symbols, independently of every detector; only this test reads which ones it planted,
to grade what the scan picked from the market data alone.
"""

from __future__ import annotations

import asyncio
from datetime import date, datetime, time
from pathlib import Path

import pytest
from stubs import sim_components
from support import make_settings

from catalyst.config.models import SessionMode
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.funnel import FunnelStage
from catalyst.sim.broker import build_sim_broker
from catalyst.store.migrate import upgrade_database
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)
SCAN = datetime.combine(DAY, time(10, 0), tzinfo=EXCHANGE_TZ)


@pytest.mark.parametrize("seed", [11, 23])
async def test_the_scan_picks_planted_catalysts_and_leaves_the_noise(
    tmp_path: Path, sqlite_url: str, seed: int
) -> None:
    settings = make_settings(
        tmp_path,
        simulation={"symbols": 1000, "seed": seed},
        trading_session={"mode": SessionMode.SCAN_ONLY},
    )
    await asyncio.to_thread(upgrade_database, sqlite_url)
    clock = SimClock(datetime.combine(DAY, time(9, 0), tzinfo=EXCHANGE_TZ))
    calendar = ExchangeCalendar()
    broker = build_sim_broker(settings.trading.simulation, calendar, clock)
    components = await sim_components(settings, clock, sqlite_url, broker=broker, calendar=calendar)
    try:
        clock.advance_to(SCAN)
        report = await components.scan_cycle.run_scheduled(SCAN)
        rows = await components.store.scan_results_for_cycle(report.cycle_id)
    finally:
        await components.close()
    market = broker.market
    gaps = dict(zip(market.universe.symbols, market.gap, strict=True))
    planted_up = {s for s in market.catalyst_symbols if gaps[s] > 0}

    ranked = [r for r in rows if r.stage is FunnelStage.RANKED]
    selected = {r.symbol for r in ranked if r.kept}
    assert selected, "a catalyst day selects something"
    assert selected <= planted_up  # every pick is a planted up-catalyst: no noise
    top_five = {r.symbol for r in sorted(ranked, key=lambda r: -(r.composite_score or 0))[:5]}
    assert top_five <= planted_up
    judged = [r for r in rows if r.stage is FunnelStage.CATALYSTS]
    reached = {r.symbol for r in judged} & planted_up
    kept = {r.symbol for r in judged if r.kept} & planted_up
    assert len(kept) >= 0.75 * len(reached)  # the catalyst filter keeps most of what reached it
