"""The equity curve in the journal: snapshots stored, read back by day, sampled sparingly."""

from __future__ import annotations

import asyncio
import itertools
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

import pytest
from stubs import risk_watch

from catalyst.config.models import SimulationConfig
from catalyst.domain.errors import JournalUnavailable
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import Account
from catalyst.sim.broker import build_sim_broker
from catalyst.store.records import AccountSnapshotRecord
from catalyst.store.repository import Store
from catalyst.tasks.account_samples import (
    SAMPLE_EVERY_IN_SESSION,
    SAMPLE_EVERY_OUT_OF_SESSION,
    AccountSamples,
)
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

DAY = date(2026, 11, 24)  # a Tuesday: 09:30-16:00 New York
CALENDAR = ExchangeCalendar()


def at(hour: int, minute: int = 0, second: int = 0, day: date = DAY) -> datetime:
    return datetime.combine(day, time(hour, minute, second), tzinfo=EXCHANGE_TZ)


def snapshot(when: datetime, equity: str = "100000") -> AccountSnapshotRecord:
    return AccountSnapshotRecord(
        at=when,
        equity=Decimal(equity),
        cash=Decimal("40000.50"),
        buying_power=Decimal("80001.00"),
        day_start_equity=Decimal("99500"),
    )


def account(equity: str = "100250.25") -> Account:
    return Account(
        equity=Decimal(equity),
        last_equity=Decimal("99500"),
        cash=Decimal("40000.50"),
        buying_power=Decimal("80001.00"),
    )


async def test_snapshots_read_back_by_new_york_day_oldest_first(migrated_store: Store) -> None:
    assert await migrated_store.latest_account_snapshot() is None
    # 23:30 New York on the day before is 04:30 UTC on DAY: it belongs to the day before.
    day_before_late = at(23, 30, day=DAY - timedelta(days=1))
    rows = [snapshot(at(10, 1), "100100"), snapshot(at(9, 31), "99900.10"), snapshot(at(15, 59))]
    for row in [snapshot(day_before_late), *rows]:
        await migrated_store.record_account_snapshot(row)

    curve = await migrated_store.account_snapshots_for_day(DAY)

    assert [s.at for s in curve] == sorted(r.at for r in rows)
    assert [s.equity for s in curve] == [Decimal("99900.10"), Decimal("100100"), Decimal(100000)]
    assert curve[0].day_pnl == Decimal("400.10")
    assert curve[0].buying_power == Decimal("80001.00")
    assert curve[0].at.tzinfo is not None
    latest = await migrated_store.latest_account_snapshot()
    assert latest is not None
    assert latest.at == at(15, 59)


def test_a_snapshot_without_a_time_zone_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        snapshot(datetime(2026, 11, 24, 10, 0))


def test_in_session_a_sample_a_minute_outside_one_every_fifteen() -> None:
    samples = AccountSamples(store=None, calendar=CALENDAR)  # type: ignore[arg-type]
    assert samples.is_due(at(10, 0)), "the first reading is always a sample"
    samples._last_at = at(10, 0)
    assert not samples.is_due(at(10, 0) + SAMPLE_EVERY_IN_SESSION - timedelta(seconds=1))
    assert samples.is_due(at(10, 0) + SAMPLE_EVERY_IN_SESSION)
    samples._last_at = at(17, 0)
    assert not samples.is_due(at(17, 14, 59))
    assert samples.is_due(at(17, 0) + SAMPLE_EVERY_OUT_OF_SESSION)
    thanksgiving = date(2026, 11, 26)  # no session at all: the out-of-session rate all day
    samples._last_at = at(11, 0, day=thanksgiving)
    assert not samples.is_due(at(11, 14, 59, day=thanksgiving))
    assert samples.is_due(at(11, 15, day=thanksgiving))


class _DownStore:
    async def record_account_snapshot(self, snapshot: AccountSnapshotRecord) -> None:
        raise JournalUnavailable("database record_account_snapshot failed: down")


async def test_a_journal_outage_skips_the_sample_and_the_next_reading_tries_again() -> None:
    samples = AccountSamples(store=_DownStore(), calendar=CALENDAR)  # type: ignore[arg-type]

    assert not await samples.offer(account(), Decimal("99500"), at(10, 0))
    assert samples.is_due(at(10, 0, 2)), "nothing was written, so the next reading is due"


async def test_the_risk_watch_writes_the_session_s_equity_curve_once_a_minute(
    migrated_store: Store,
) -> None:
    start = at(9, 25)
    clock = SimClock(start)
    broker = build_sim_broker(SimulationConfig(symbols=20, seed=5), CALENDAR, clock)
    watch = risk_watch(broker, migrated_store, clock, calendar=CALENDAR)

    async def run() -> None:
        async with clock.participant():
            await watch.run()

    task = asyncio.create_task(run())
    await clock.sleep_until(at(10, 30))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    curve = await migrated_store.account_snapshots_for_day(DAY)
    in_session = [s for s in curve if s.at >= at(9, 30)]
    gaps = [b.at - a.at for a, b in itertools.pairwise(in_session)]
    assert curve[0].at == start, "the first check after start-up is recorded"
    assert 55 <= len(in_session) <= 61, len(in_session)  # 09:30-10:30, one a minute
    assert all(SAMPLE_EVERY_IN_SESSION <= gap < SAMPLE_EVERY_IN_SESSION * 2 for gap in gaps)
    equity = (await broker.get_account()).equity
    assert curve[-1].equity == equity, "flat book: the simulator's equity, as read"
    assert all(s.at.astimezone(UTC).date() == DAY for s in curve)
