"""The risk-watch after an emergency stop: it stands (cheap checks every 15 s, acting only when
something appears) instead of re-running flatten-all on every 1.5 s tick; a restart while halted
does not flood either; a position that appears while halted is closed; only a person ends it.

The real watch, flattener and submitter over the exchange simulator on a simulated clock, behind
a hand-written counting broker (tests/counting_broker.py).
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

from counting_broker import CountingBroker
from stubs import risk_watch

from catalyst.config.models import EmergencyActions, RiskFile, RiskLimits, SimulationConfig
from catalyst.domain.alerts import Alert, AlertKind
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import OrderRequest, Side
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.store.repository import Store
from catalyst.tasks.risk_watch import HALTED_CHECK_EVERY, RISK_WATCH_ACTOR
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)
START = datetime.combine(DAY, time(10, 0), tzinfo=EXCHANGE_TZ)
MINUTE = timedelta(minutes=1)
CALENDAR = ExchangeCalendar()
OLD_RATE = 120  # requests a minute before: account + cancel-all + positions every 1.5 s


class Inbox:
    def __init__(self) -> None:
        self.alerts: list[tuple[AlertKind, bool]] = []

    async def alert(self, alert: Alert) -> None:
        self.alerts.append((alert.kind, alert.critical))


class Rig:
    """One watch over a counted simulator; `run_until` runs it (and `also`) on the clock."""

    def __init__(self, tmp_path: Path, store: Store) -> None:
        self.clock = SimClock(START)
        self.sim: SimBroker = build_sim_broker(
            SimulationConfig(symbols=40, seed=3), CALENDAR, self.clock
        )
        self.broker = CountingBroker(self.sim, self.clock)
        self.store = store
        self.inbox = Inbox()
        self.watch = risk_watch(
            self.broker,
            store,
            self.clock,
            calendar=CALENDAR,
            risk=RiskFile(
                risk_limits=RiskLimits(max_daily_loss_usd=Decimal(500)),
                emergency_actions=EmergencyActions(),
            ),
            notifier=self.inbox,
        )

    async def hold(self, count: int) -> list[str]:
        """Open `count` positions by hand, straight at the simulator (not counted)."""
        assets = sorted(a.symbol for a in await self.sim.list_assets() if a.tradable)
        snapshots = await self.sim.get_snapshots(assets)
        chosen = [s for s in assets if s in snapshots and 5 < snapshots[s].last_price < 200]
        for symbol in chosen[:count]:
            await self.sim.submit_order(
                OrderRequest(f"manual-{symbol}-{self.clock.now():%H%M%S}", symbol, Side.BUY, 10)
            )
        return chosen[:count]

    async def breach_the_day(self) -> None:
        """Make today's starting equity so high that the daily loss is far past the limit."""
        equity = (await self.sim.get_account()).equity
        await self.store.get_or_set_day_start_equity(DAY, equity + Decimal(10_000))

    async def run_until(self, until: datetime, *also: asyncio.Task[None]) -> None:
        async def watch() -> None:
            async with self.clock.participant():
                await self.watch.run()

        task = asyncio.create_task(watch())
        await self.clock.sleep_until(until)
        for running in (task, *also):
            running.cancel()
        await asyncio.gather(task, *also, return_exceptions=True)

    def per_minute(self, start: datetime, end: datetime) -> list[int]:
        counts = Counter((c.at - start) // MINUTE for c in self.broker.between(start, end))
        return [counts[m] for m in range((end - start) // MINUTE)]


async def test_after_the_emergency_stop_the_watch_stands_at_12_requests_a_minute(
    tmp_path: Path, migrated_store: Store
) -> None:
    rig = Rig(tmp_path, migrated_store)
    await rig.hold(3)
    await rig.breach_the_day()

    await rig.run_until(START + 10 * MINUTE)

    after = rig.broker.methods(START + MINUTE, START + 10 * MINUTE)
    assert max(rig.per_minute(START + MINUTE, START + 10 * MINUTE)) <= 12 < OLD_RATE
    assert after["cancel_all_orders"] == 0, "nothing appeared: nothing to cancel"
    assert after["get_account"] == 9 * 4, "still measured, every 15 s"
    assert (await migrated_store.get_trading_state()).is_halted
    assert await rig.sim.list_positions() == []
    assert rig.watch.standing


async def test_a_position_that_appears_while_halted_is_closed_within_the_check_interval(
    tmp_path: Path, migrated_store: Store
) -> None:
    rig = Rig(tmp_path, migrated_store)
    await rig.hold(2)
    await rig.breach_the_day()
    appear_at = START + 5 * MINUTE + timedelta(seconds=3)  # no fill is pushed: found by polling

    async def manual_trade() -> None:
        async with rig.clock.participant():
            await rig.clock.sleep_until(appear_at)
            await rig.hold(1)

    trade = asyncio.create_task(manual_trade())
    await rig.run_until(START + 8 * MINUTE, trade)

    assert await rig.sim.list_positions() == []
    late = [f for f in rig.sim.fills if f.timestamp >= appear_at]
    bought = [f for f in late if f.side is Side.BUY]
    sold = [f for f in late if f.side is Side.SELL]
    assert len(bought) == 1
    assert [(f.symbol, f.qty) for f in sold] == [(bought[0].symbol, bought[0].qty)]
    assert sold[0].timestamp - bought[0].timestamp <= HALTED_CHECK_EVERY + timedelta(seconds=2)
    kinds = [e.kind for e in await migrated_store.risk_events_since(START)]
    assert kinds.count("halted_exposure") == 1
    assert (AlertKind.HALTED_EXPOSURE, True) in rig.inbox.alerts
    assert (await migrated_store.get_trading_state()).is_halted


async def test_a_restart_while_halted_by_the_emergency_stop_does_not_flatten_again(
    tmp_path: Path, migrated_store: Store
) -> None:
    rig = Rig(tmp_path, migrated_store)
    await rig.breach_the_day()  # still breached: the old watch re-ran flatten-all every tick
    await migrated_store.halt("daily loss limit reached", RISK_WATCH_ACTOR, START - MINUTE)

    await rig.run_until(START + 5 * MINUTE)

    assert rig.broker.methods(START, START + 5 * MINUTE)["cancel_all_orders"] == 0
    assert rig.per_minute(START, START + 5 * MINUTE) == [12] * 5
    assert [e.kind for e in await migrated_store.risk_events_since(START)] == []


async def test_a_person_clearing_the_halt_ends_the_standing_watch(
    tmp_path: Path, migrated_store: Store
) -> None:
    rig = Rig(tmp_path, migrated_store)
    await migrated_store.halt("yesterday's loss limit", RISK_WATCH_ACTOR, START - MINUTE)
    resume_at = START + 2 * MINUTE

    async def person() -> None:
        async with rig.clock.participant():
            await rig.clock.sleep_until(resume_at)
            await migrated_store.resume("checked the book", "alice", rig.clock.now())

    await rig.run_until(START + 4 * MINUTE, asyncio.create_task(person()))

    assert not rig.watch.standing
    accounts = rig.broker.methods(START + 3 * MINUTE, START + 4 * MINUTE)["get_account"]
    assert accounts == 40, "back to one measurement every 1.5 s"


async def test_a_halt_latched_by_a_person_keeps_its_positions_and_full_rate_measurement(
    tmp_path: Path, migrated_store: Store
) -> None:
    rig = Rig(tmp_path, migrated_store)
    held = await rig.hold(2)
    await migrated_store.halt("investigating a data feed", "alice", START)

    await rig.run_until(START + 2 * MINUTE)

    assert not rig.watch.standing
    assert sorted(p.symbol for p in await rig.sim.list_positions()) == sorted(held)
    assert rig.broker.methods(START + MINUTE, START + 2 * MINUTE)["get_account"] == 40
