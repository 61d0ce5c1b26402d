"""A database outage in the middle of a simulated day of the real daemon, on a real PostgreSQL
server that the test stops and starts again (a private one: never the shared server).

The day (the early close after Thanksgiving): an entry at 10:30; the server stops at 10:40 with
the position open; the 10:50 scan finds the journal unavailable; a 20 % price shock at 11:00
breaches the daily loss limit, so the risk-watch, measuring from the broker alone, pulls the
emergency stop at the broker while the database is down (fills happen during the outage); the
server comes back at 11:10. Afterwards the journal must equal the broker (orders, fills,
positions), the halt be recorded, and the rest of the day run halted without a crash.
"""

from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from faulty_broker import FaultyBroker
from private_postgres import PrivatePostgres, private_postgres, stop_quietly
from sqlalchemy import select
from structlog.testing import capture_logs
from support import make_settings

from catalyst.daemon.entry import simulate_session, simulation_clock
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import Account, Fill
from catalyst.ports import Clock
from catalyst.sim.broker import build_sim_broker
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.records import FINAL_ORDER_STATUSES, INTENT_STATUS, NOT_PLACED_STATUS
from catalyst.store.repository import Store
from catalyst.store.tables import orders, trading_cycles
from catalyst.tasks.risk_watch import HALTED_CHECK_EVERY
from catalyst.timekeeping.calendar import ExchangeCalendar

pytestmark = pytest.mark.slow

DAY = date(2026, 11, 27)  # closes at 13:00: a short halted afternoon keeps the test quick
SCANS = ("09:15", "09:30", "10:30", "10:50", "12:00")


def _at(hour: int, minute: int) -> datetime:
    return datetime.combine(DAY, time(hour, minute), tzinfo=EXCHANGE_TZ)


STOP_AT, SHOCK_AT, START_AT = _at(10, 40), _at(11, 0), _at(11, 10)


class WatchedBroker(FaultyBroker):
    """The simulator, noting when the account was read (the risk-watch's beat)."""

    def __init__(self, inner, clock: Clock) -> None:  # type: ignore[no-untyped-def]
        super().__init__(inner, clock)
        self.account_reads: list[datetime] = []

    async def get_account(self) -> Account:
        assert self.clock is not None
        self.account_reads.append(self.clock.now())
        return await super().get_account()


@dataclass
class Outage:
    server: PrivatePostgres
    positions_at_stop: list[str] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    async def run(self, clock: Clock, broker: WatchedBroker) -> None:
        async with clock.participant():
            await clock.sleep_until(STOP_AT)
            self.positions_at_stop = [p.symbol for p in await broker.list_positions()]
            self.server.stop()  # in the loop on purpose: nothing runs while it goes down
            await clock.sleep_until(START_AT)
            self.server.start()


@pytest.fixture
def server():  # type: ignore[no-untyped-def]
    pg = private_postgres()
    pg.start()
    try:
        yield pg
    finally:
        stop_quietly(pg)


async def test_database_outage_mid_day_never_stops_protection_and_the_journal_catches_up(
    tmp_path: Path, server: PrivatePostgres
) -> None:
    url = server.url()
    settings = make_settings(
        tmp_path,
        simulation={"symbols": 800},
        schedule={"scan_times": tuple(time.fromisoformat(t) for t in SCANS)},
        risk_limits={"max_daily_loss_usd": Decimal("150")},
    )
    calendar = ExchangeCalendar()
    session = calendar.session(DAY)
    assert session is not None
    clock = simulation_clock(session)
    broker = WatchedBroker(build_sim_broker(settings.trading.simulation, calendar, clock), clock)
    broker.inner.exchange.shock(SHOCK_AT, -0.2)
    outage = Outage(server)

    def start_outage_clock(fill: Fill) -> None:
        # Only once the daemon's tasks run: before that, a lone sleeping participant would
        # move simulated time on its own during start-up.
        if outage.task is None:
            outage.task = asyncio.get_running_loop().create_task(outage.run(clock, broker))

    broker.inner.exchange.add_fill_listener(start_outage_clock)
    try:
        with capture_logs() as logs:
            summary = await simulate_session(settings, session, clock, broker, url)
    finally:
        if outage.task is not None and not outage.task.done():
            outage.task.cancel()
    assert outage.task is not None
    assert outage.task.done()
    outage.task.result()  # the server did stop and start again

    assert outage.positions_at_stop, "positions should be open when the database stops"
    # The outage is logged once, alerted once after a while, and its end reported.
    messages = [e["event"] for e in logs]
    assert sum(m.startswith("journal unavailable: database unreachable") for m in messages) == 1
    alerts = [e["subject"] for e in logs if e["event"] == "alert"]
    assert (
        sum(a.startswith("[Catalyst PAPER] CRITICAL database unreachable: ") for a in alerts) == 1
    )
    assert sum(" database reachable again" in a for a in alerts) == 1
    assert (
        messages.count("journal caught up after a database outage; reconciling with the broker")
        == 1
    )
    # The risk-watch kept measuring from the broker throughout the outage (every interval, and
    # once halted and flat every HALTED_CHECK_EVERY).
    beats = [t for t in broker.account_reads if STOP_AT <= t <= START_AT]
    gaps = [b - a for a, b in zip([STOP_AT, *beats], [*beats, START_AT], strict=True)]
    assert max(gaps) < HALTED_CHECK_EVERY + timedelta(seconds=5), max(gaps)
    before_breach = [b - a for a, b in itertools.pairwise(beats) if b < SHOCK_AT]
    assert max(before_breach) < timedelta(seconds=5), max(before_breach)

    engine = make_engine(url)
    try:
        store = Store(make_session_factory(engine))
        events = await store.risk_events_since(_at(0, 0))
        history = await store.trading_state_history()
        journal_fills = await store.fills_for_day(DAY)
        journal_positions = await store.list_positions()
        async with engine.connect() as connection:
            journal = [dict(r) for r in (await connection.execute(select(orders))).mappings()]
            cycles = {
                r.cycle_id: r for r in (await connection.execute(select(trading_cycles))).all()
            }
    finally:
        await engine.dispose()

    # The breach during the outage halted trading and flattened the book at the broker.
    assert summary.trading_state == "halted"
    assert summary.flat, summary.render()
    halt = history[-1]
    assert STOP_AT < halt.changed_at < START_AT, halt
    assert halt.changed_by == "risk-watch"
    kinds = [e.kind for e in events]
    assert "emergency_stop" in kinds
    assert "emergency_flatten" in kinds
    assert all(STOP_AT < e.at < START_AT for e in events if e.kind.startswith("emergency"))
    broker_fills = await broker.get_fills(_at(0, 0))
    assert any(STOP_AT < f.timestamp < START_AT for f in broker_fills), "fills during the outage"

    # No scan traded during the outage; the scheduler went on afterwards.
    assert "20261127-1050" not in cycles  # skipped: it could not even be recorded
    assert "20261127-1200" in cycles
    assert all(o["created_at"] <= halt.changed_at or o["role"] != "entry" for o in journal), (
        "no entry after the halt"
    )
    assert not any(STOP_AT <= o["created_at"] <= START_AT for o in journal if o["role"] == "entry")

    # Journal = broker: every broker fill journaled, every journaled order as the broker has it.
    assert {(f.order_id, f.qty, f.price, f.timestamp) for f in journal_fills} == {
        (f.order_id, f.qty, f.price, f.timestamp) for f in broker_fills
    }
    by_cid = {o["client_order_id"]: o for o in journal}
    assert {f.client_order_id for f in broker_fills} <= set(by_cid)
    for cid, row in by_cid.items():
        at_broker = await broker.get_order_by_client_id(cid)
        if row["status"] in (INTENT_STATUS, NOT_PLACED_STATUS):
            assert at_broker is None, cid
            continue
        assert at_broker is not None, cid
        assert (row["status"], row["filled_qty"]) == (
            at_broker.status.value,
            at_broker.filled_qty,
        ), cid
        assert row["status"] in FINAL_ORDER_STATUSES, cid
    assert journal_positions == [] == await broker.list_positions()
    assert len(by_cid) == len(journal)  # no client_order_id twice
    entries = [(o["cycle_id"], o["symbol"]) for o in journal if o["role"] == "entry"]
    assert len(entries) == len(set(entries))
