"""The journal during a database outage, against a real PostgreSQL server the tests stop and start
(a private one) and real SQLite: which errors mean "unavailable", the outbox that catches up in
order, the halt that survives the process, and the order paths (no entry sent, exits sent).
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import pytest
from faulty_broker import FaultyBroker
from private_postgres import PrivatePostgres, private_postgres, stop_quietly
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine
from stubs import risk_watch, sim_components
from support import eventually, make_settings

from catalyst.config.models import RiskFile, RiskLimits, SimulationConfig
from catalyst.domain.errors import JournalUnavailable, OperationalError
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import LegRole, OrderEvent, OrderEventKind, OrderRequest, Side
from catalyst.domain.risk_events import RiskEventKind, Severity
from catalyst.domain.trading_state import TradingState
from catalyst.execution.flatten import Flattener
from catalyst.execution.submitter import OrderSubmitter, Outcome
from catalyst.redaction import redact_url
from catalyst.risk.daily_loss import LossLevel
from catalyst.sim.broker import build_sim_broker
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.failures import is_journal_unavailable
from catalyst.store.migrate import upgrade_database
from catalyst.store.outbox import HaltSpool, JournalOutbox, SpooledHalt
from catalyst.store.records import OrderIntent
from catalyst.store.repository import Store
from catalyst.tasks.order_events import OrderEventRecorder
from catalyst.tasks.watch_journal import WatchJournal
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

START = datetime.combine(date(2026, 11, 24), time(10, 0), tzinfo=EXCHANGE_TZ)


@dataclass
class Journal:
    server: PrivatePostgres
    engine: AsyncEngine
    store: Store
    spool: Path

    def fresh_store(self) -> Store:
        """A store as a new process builds it: a new outbox over the same spool file."""
        return Store(make_session_factory(self.engine), JournalOutbox(HaltSpool(self.spool)))


@pytest.fixture
async def journal(tmp_path: Path) -> AsyncIterator[Journal]:
    server = private_postgres()
    try:
        server.start()
        await asyncio.to_thread(upgrade_database, server.url())
        engine = make_engine(server.url())
        spool = HaltSpool.for_database(tmp_path, server.url()).path
        store = Store(make_session_factory(engine), JournalOutbox(HaltSpool(spool)))
        try:
            yield Journal(server, engine, store, spool)
        finally:
            await engine.dispose()
    finally:
        stop_quietly(server)


# ------------------------------------------------------------------ classification


async def test_a_stopped_server_is_journal_unavailable_and_a_restarted_one_answers(
    journal: Journal,
) -> None:
    store = journal.store
    assert (await store.get_trading_state()).status is TradingState.ACTIVE
    journal.server.stop()

    with pytest.raises(JournalUnavailable, match="get_trading_state"):
        await store.get_trading_state()
    assert store.outbox.unavailable

    journal.server.start()
    assert (await store.get_trading_state()).status is TradingState.ACTIVE
    assert not store.outbox.unavailable


async def test_a_connection_cut_mid_statement_counts_as_unavailable(journal: Journal) -> None:
    async def long_statement() -> None:
        async with journal.engine.begin() as connection:
            await connection.execute(text("SELECT pg_sleep(30)"))

    async def statement_running() -> bool:
        async with journal.engine.connect() as connection:
            active = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE state = 'active' AND query = 'SELECT pg_sleep(30)'"
                )
            )
        return bool(active)

    running = asyncio.create_task(long_statement())
    await eventually(statement_running)  # on the server (it takes 30 s)
    await asyncio.to_thread(journal.server.stop)
    with pytest.raises(Exception) as caught:  # noqa: PT011 - whatever the driver raises
        await running
    assert is_journal_unavailable(caught.value)


async def test_connection_refused_and_sqlite_lock_are_unavailable_a_missing_table_is_not(
    tmp_path: Path, sqlite_url: str
) -> None:
    with pytest.raises(ConnectionRefusedError) as refused:
        await asyncpg.connect("postgresql://postgres@127.0.0.1:1/postgres", timeout=5)
    assert is_journal_unavailable(refused.value)

    path = tmp_path / "locked.db"
    holder = sqlite3.connect(path, timeout=0, isolation_level=None)
    waiter = sqlite3.connect(path, timeout=0, isolation_level=None)
    try:
        holder.execute("BEGIN IMMEDIATE")
        with pytest.raises(sqlite3.OperationalError) as locked:
            waiter.execute("BEGIN IMMEDIATE")
        assert is_journal_unavailable(locked.value)
    finally:
        holder.close()
        waiter.close()

    engine = make_engine(sqlite_url)  # never migrated: no tables
    try:
        with pytest.raises(OperationalError) as missing:
            await Store(make_session_factory(engine)).get_trading_state()
        assert not isinstance(missing.value, JournalUnavailable)
    finally:
        await engine.dispose()


# ------------------------------------------------------------------ the outbox


async def test_writes_deferred_during_an_outage_land_in_order_before_the_next_read(
    journal: Journal,
) -> None:
    store = journal.store
    watch = WatchJournal(store)
    journal.server.stop()

    await watch.record_risk_event(
        RiskEventKind.POSITION_GONE, Severity.INFO, "deferred first", START
    )
    await watch.halt("loss limit", "risk-watch", START + timedelta(seconds=1))
    await watch.record_risk_event(
        RiskEventKind.POSITION_APPEARED, Severity.INFO, "deferred second", START
    )
    assert await watch.is_halted()  # held in memory while the journal is down
    assert store.outbox.pending == 3
    assert journal.spool.exists()

    journal.server.start()
    # The first read after the outage already sees the deferred writes: the outbox goes first.
    state = await store.get_trading_state()
    assert state.status is TradingState.HALTED
    assert state.reason == "loss limit"
    assert [e.kind for e in await store.risk_events_since(START)] == [
        RiskEventKind.POSITION_GONE,
        RiskEventKind.POSITION_APPEARED,
    ]
    assert store.outbox.pending == 0
    assert not journal.spool.exists()


async def test_a_halt_spooled_during_an_outage_survives_the_process(journal: Journal) -> None:
    journal.server.stop()
    await WatchJournal(journal.store).halt("loss limit", "risk-watch", START)
    assert journal.spool.exists()
    # The process dies here: its in-memory outbox is gone, the spool file is not.

    journal.server.start()
    restarted = journal.fresh_store()
    spooled = restarted.restore_spooled_halt()
    assert spooled is not None
    assert spooled.reason == "loss limit"

    state = await restarted.get_trading_state()
    assert state.status is TradingState.HALTED
    assert state.changed_at == START
    events = await restarted.risk_events_since(START)
    assert [e.kind for e in events] == ["emergency_stop"]
    assert "spooled during a database outage" in events[0].message
    assert not journal.spool.exists()
    assert journal.fresh_store().restore_spooled_halt() is None


async def test_the_loss_warning_goes_out_once_whether_journaled_now_or_later(
    journal: Journal,
) -> None:
    store = journal.store
    await store.get_or_set_day_start_equity(START.date(), Decimal(100_000))
    watch = WatchJournal(store)
    journal.server.stop()
    assert await watch.mark_warning_sent(START.date(), START)
    journal.server.start()
    assert not await watch.mark_warning_sent(START.date(), START)
    assert not await WatchJournal(store).mark_warning_sent(START.date(), START)  # in the journal


# ------------------------------------------------------------------ orders during the outage


async def test_with_the_journal_down_no_entry_is_sent_an_exit_is_and_both_paths_catch_up(
    journal: Journal,
) -> None:
    store = journal.store
    clock = SimClock(START)
    broker = FaultyBroker(build_sim_broker(SimulationConfig(symbols=50), ExchangeCalendar(), clock))
    submitter = OrderSubmitter(broker, store, clock)
    flattener = Flattener(broker, store, clock, submitter)
    recorder = OrderEventRecorder(broker, store, clock, on_fill=lambda: None)
    symbol = sorted(a.symbol for a in broker.inner.exchange.assets() if a.tradable)[0]

    def entry(cid: str) -> tuple[OrderIntent, OrderRequest]:
        request = OrderRequest(cid, symbol, Side.BUY, 5)
        return OrderIntent.from_request(
            request, role=LegRole.ENTRY, created_at=clock.now()
        ), request

    intent, request = entry("cat-outage-entry-1")
    placed = await submitter.place(intent, lambda: broker.submit_order(request))
    assert placed.outcome is Outcome.PLACED
    await clock.sleep(120)  # the market order fills
    assert [p.symbol for p in await broker.list_positions()] == [symbol]
    journal.server.stop()

    # An entry whose intent cannot be journaled is never sent.
    intent, request = entry("cat-outage-entry-2")
    with pytest.raises(JournalUnavailable):
        await submitter.place(intent, lambda: broker.submit_order(request))
    assert broker.submit_calls == 1

    # Closing the position goes ahead at the broker; what happens is journaled later.
    result = await flattener.flatten_all("emergency-test", deadline=None)
    assert result.flat
    assert broker.close_calls == 1
    exit_fill = next(f for f in await broker.get_fills(START) if f.side is Side.SELL)
    exit_order = await broker.get_order_by_client_id(exit_fill.client_order_id)
    assert exit_order is not None
    await recorder.handle(
        OrderEvent(OrderEventKind.FILL, exit_order, exit_fill.timestamp, exit_fill)
    )

    journal.server.start()
    await store.check_available()
    assert store.outbox.pending == 0
    journaled = await store.get_order(exit_fill.client_order_id)
    assert journaled is not None
    assert (journaled.role, journaled.status, journaled.filled_qty) == (LegRole.EXIT, "filled", 5)
    fills = await store.fills_for_day(START.date())
    assert exit_fill.order_id in {f.order_id for f in fills}
    assert await store.get_order("cat-outage-entry-2") is None


# ------------------------------------------------------------------ the risk-watch


async def test_risk_watch_with_the_journal_down_keeps_beating_and_a_breach_flattens_at_the_broker(
    tmp_path: Path, journal: Journal
) -> None:
    store = journal.store
    clock = SimClock(START)
    calendar = ExchangeCalendar()
    broker = FaultyBroker(build_sim_broker(SimulationConfig(symbols=50), calendar, clock))
    submitter = OrderSubmitter(broker, store, clock)
    flattener = Flattener(broker, store, clock, submitter)
    watch = risk_watch(
        broker,
        store,
        clock,
        calendar=calendar,
        risk=RiskFile(risk_limits=RiskLimits(max_daily_loss_usd=Decimal(100))),
        flattener=flattener,
    )
    symbol = sorted(a.symbol for a in broker.inner.exchange.assets() if a.tradable)[0]
    price = (await broker.get_snapshots([symbol]))[symbol].last_price
    request = OrderRequest("cat-watch-entry", symbol, Side.BUY, int(5000 / price))
    intent = OrderIntent.from_request(request, role=LegRole.ENTRY, created_at=clock.now())
    await submitter.place(intent, lambda: broker.submit_order(request))
    assert await watch.check_once() is LossLevel.OK  # day-start equity read (and cached)
    await clock.sleep(60)
    assert await broker.list_positions()
    journal.server.stop()
    broker.inner.exchange.shock(clock.now() + timedelta(minutes=2), -0.2)

    async def run_watch() -> None:
        async with clock.participant():
            await watch.run()

    task = asyncio.create_task(run_watch())
    await clock.sleep_until(START + timedelta(minutes=6))
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)

    assert watch.last_beat is not None
    assert watch.last_beat >= START + timedelta(minutes=6) - timedelta(seconds=5)
    assert watch.last_level is LossLevel.BREACHED
    assert await broker.list_positions() == []
    assert broker.close_calls >= 1
    journal.server.start()
    await store.check_available()
    assert (await store.get_trading_state()).status is TradingState.HALTED
    kinds = [e.kind for e in await store.risk_events_since(START)]
    assert kinds[:2] == ["emergency_stop", "emergency_flatten"]


async def test_a_daemon_built_over_a_spooled_halt_starts_halted(
    tmp_path: Path, sqlite_url: str
) -> None:
    settings = make_settings(tmp_path / "state", simulation={"symbols": 50})
    await asyncio.to_thread(upgrade_database, sqlite_url)
    spool = HaltSpool.for_database(settings.trading.paths.state_dir, redact_url(sqlite_url))
    spool.save(SpooledHalt(reason="loss limit", by="risk-watch", at=START))
    # A spool for another database (a demo's, say) is not this journal's business.
    other = HaltSpool.for_database(settings.trading.paths.state_dir, "sqlite+aiosqlite:///x.db")
    other.save(SpooledHalt(reason="another journal's halt", by="risk-watch", at=START))
    components = await sim_components(settings, SimClock(START), sqlite_url)
    try:
        state = await components.store.get_trading_state()
    finally:
        await components.close()
    assert state.status is TradingState.HALTED
    assert state.reason == "loss limit"
    assert not spool.path.exists()
    assert other.path.exists()
