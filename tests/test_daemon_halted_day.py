"""A whole simulated day with a provoked breach: the real daemon's broker traffic after the halt,
counted at the Broker seam (tests/counting_broker.py), and a position opened by hand while halted.

The loss limit is 150 USD and every price drops 20 % at 10:45, as in test_daemon_simulated_session.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from counting_broker import CountingBroker
from stubs import sim_components
from support import make_settings

from catalyst.config.models import Settings
from catalyst.daemon.entry import simulate_session, simulation_clock
from catalyst.daemon.supervisor import Supervisor
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import OrderRequest, Side
from catalyst.ops.sdnotify import SystemdNotifier
from catalyst.reporting.summary import DaySummary
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.migrate import upgrade_database
from catalyst.store.records import RiskEventRecord
from catalyst.store.repository import Store
from catalyst.tasks.risk_watch import HALTED_CHECK_EVERY
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

pytestmark = pytest.mark.slow

DAY = date(2026, 11, 24)
MINUTE = timedelta(minutes=1)
EOD_FLATTEN = datetime.combine(DAY, time(15, 50), tzinfo=EXCHANGE_TZ)

Extra = Callable[[SimBroker, SimClock], Awaitable[None]]  # runs beside the daemon, from its start


def _et(hhmmss: str) -> datetime:
    return datetime.combine(DAY, time.fromisoformat(hhmmss), tzinfo=EXCHANGE_TZ)


def _settings(tmp_path: Path) -> Settings:
    return make_settings(
        tmp_path, simulation={"symbols": 800}, risk_limits={"max_daily_loss_usd": Decimal("150")}
    )


def _quiet_minutes(broker: CountingBroker, start: datetime, end: datetime) -> list[int]:
    """Broker calls in each whole minute of [start, end) in which no scan ran."""
    window = broker.between(start, end)
    by_minute = Counter((call.at - start) // MINUTE for call in window)
    scanning = {(call.at - start) // MINUTE for call in window if call.method == "get_snapshots"}
    return [by_minute[m] for m in range((end - start) // MINUTE) if m not in scanning]


async def _halted_day(
    tmp_path: Path, url: str, also: Extra | None = None
) -> tuple[CountingBroker, SimBroker, list[RiskEventRecord], DaySummary]:
    settings = _settings(tmp_path)
    calendar = ExchangeCalendar()
    session = calendar.session(DAY)
    assert session is not None
    clock = simulation_clock(session)
    sim = build_sim_broker(settings.trading.simulation, calendar, clock)
    sim.exchange.shock(_et("10:45:00"), -0.2)
    broker = CountingBroker(sim, clock)

    async def extra() -> None:
        # Not a participant, and started only once the risk-watch runs (its first account
        # request): waiting for its moment must not move time while the daemon starts.
        if also is not None:
            await broker.first_call("get_account")
            await also(sim, clock)

    side = asyncio.create_task(extra())
    try:
        summary = await simulate_session(settings, session, clock, broker, url)
    finally:
        if not side.done():
            side.cancel()
        await asyncio.gather(side, return_exceptions=True)
    if also is not None:
        side.result()  # the scripted action happened (or its error is the test's)
    engine = make_engine(url)
    try:
        events = await Store(make_session_factory(engine)).risk_events_since(_et("00:00:00"))
    finally:
        await engine.dispose()
    return broker, sim, events, summary


async def test_after_the_halt_the_daemon_asks_the_broker_a_dozen_times_a_minute_not_120(
    tmp_path: Path, sqlite_url: str
) -> None:
    broker, _, events, summary = await _halted_day(tmp_path, sqlite_url)

    assert summary.trading_state == "halted"
    assert summary.flat
    flat_at = next(e.at for e in events if e.kind == "emergency_flatten")
    start = flat_at + MINUTE
    quiet = _quiet_minutes(broker, start, EOD_FLATTEN)
    assert len(quiet) > 200, "most of the afternoon is in the window"
    assert broker.methods(start, EOD_FLATTEN)["cancel_all_orders"] == 0
    assert max(quiet) <= 20, f"busiest quiet minute: {max(quiet)} broker calls"
    assert sum(quiet) / len(quiet) <= 14, f"{sum(quiet) / len(quiet):.1f} broker calls a minute"


async def _buy_by_hand(sim: SimBroker) -> None:
    tradable = [a.symbol for a in await sim.list_assets() if a.tradable]
    snapshots = await sim.get_snapshots(tradable)
    symbol = min(s for s, snap in snapshots.items() if 5 < snap.last_price < 100)
    await sim.submit_order(OrderRequest("by-hand-1", symbol, Side.BUY, 25))


async def test_a_position_opened_by_hand_while_halted_is_closed_at_once(
    tmp_path: Path, sqlite_url: str
) -> None:
    bought_at = _et("13:05:03")

    async def manual_trade(sim: SimBroker, clock: SimClock) -> None:
        await clock.sleep_until(bought_at)
        async with clock.participant():  # the trade itself holds time still, like a request would
            await _buy_by_hand(sim)

    _, sim, events, summary = await _halted_day(tmp_path, sqlite_url, manual_trade)

    assert summary.trading_state == "halted"
    assert summary.flat
    late = [f for f in sim.fills if f.timestamp >= bought_at]
    bought = [f for f in late if f.side is Side.BUY]
    sold = [f for f in late if f.side is Side.SELL]
    assert [(f.client_order_id, f.qty) for f in bought] == [("by-hand-1", 25)]
    assert sum(f.qty for f in sold if f.symbol == bought[0].symbol) == 25
    assert max(f.timestamp for f in sold) - bought[0].timestamp <= HALTED_CHECK_EVERY
    assert [e.kind for e in events if e.at >= bought_at] == ["halted_exposure"]


async def test_a_daemon_restarted_while_halted_does_not_flood_the_broker_either(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = _settings(tmp_path)
    await asyncio.to_thread(upgrade_database, sqlite_url)
    calendar = ExchangeCalendar()
    clock = SimClock(_et("08:00:00"))
    sim = build_sim_broker(settings.trading.simulation, calendar, clock)
    sim.exchange.shock(_et("10:45:00"), -0.2)
    broker = CountingBroker(sim, clock)

    async def life(start: str, until: str) -> None:
        clock.advance_to(_et(start))
        components = await sim_components(
            settings,
            clock,
            sqlite_url,
            broker=broker,
            calendar=calendar,
            entries_stopped=lambda: supervisor.stopping,
        )
        supervisor = Supervisor(
            components, systemd=SystemdNotifier.from_environment({}), simulated_until=_et(until)
        )
        try:
            await supervisor.run()
        finally:
            await components.close()

    await life("08:00:00", until="12:00:00")  # the breach at 10:45 halts it
    halted_at = broker.methods(_et("10:45:00"), _et("12:00:00"))["cancel_all_orders"]
    assert halted_at > 0, "the first life flattened after the breach"
    await life("12:05:00", until="14:00:00")  # restarted while halted

    assert broker.methods(_et("12:05:00"), _et("14:00:00"))["cancel_all_orders"] == 0
    quiet = _quiet_minutes(broker, _et("12:05:00"), _et("14:00:00"))
    assert max(quiet) <= 20, f"busiest quiet minute: {max(quiet)} broker calls"
    assert sum(quiet) / len(quiet) <= 14, f"{sum(quiet) / len(quiet):.1f} broker calls a minute"
    assert await sim.list_positions() == []
