"""Order events pushed as they happen: the simulator's fill listener, Alpaca's trade_updates
stream over the fake server (with REST polling while it is down), the recorder that journals them,
and the risk-watch that checks the daily loss at once after a fill."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from alpaca_broker import alpaca_broker
from structlog.testing import capture_logs
from support import eventually, make_settings

from catalyst.brokers.alpaca import AlpacaBroker
from catalyst.brokers.alpaca.stream import fill_key, stream_url_for
from catalyst.config.models import SimulationConfig
from catalyst.domain.alerts import Alert
from catalyst.domain.models import (
    LegRole,
    OrderClass,
    OrderEvent,
    OrderEventKind,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from catalyst.execution.flatten import Flattener
from catalyst.execution.submitter import OrderSubmitter
from catalyst.fake_alpaca.app import create_app
from catalyst.fake_alpaca.faults import FaultPlan
from catalyst.fake_alpaca.state import STATE
from catalyst.risk.daily_loss import LossLevel
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.store.engine import make_engine, make_session_factory
from catalyst.store.migrate import upgrade_database
from catalyst.store.records import OrderIntent
from catalyst.store.repository import Store
from catalyst.tasks.order_events import OrderEventRecorder
from catalyst.tasks.risk_watch import RiskWatch
from catalyst.tasks.watch_journal import WatchJournal
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

NY = ZoneInfo("America/New_York")
CALENDAR = ExchangeCalendar(first_day=date(2026, 1, 1), last_day=date(2027, 12, 31))
START = datetime(2026, 11, 24, 10, 0, tzinfo=NY)
CONFIG = SimulationConfig(seed=11, symbols=300, history_days=10, catalyst_fraction=0.05)


def _symbol(sim: SimBroker) -> str:
    """A tradable symbol priced 10..300 right now (deterministic for the seed)."""
    market = sim.exchange.market
    tradable = sorted(a.symbol for a in sim.exchange.assets() if a.tradable)
    snaps = market.snapshots(tradable, sim.exchange.now)
    return next(s for s in tradable if s in snaps and 10 <= snaps[s].last_price <= 300)


def _probe_symbol(start: datetime = START) -> str:
    return _symbol(build_sim_broker(CONFIG, CALENDAR, SimClock(start.astimezone(UTC))))


class Collector:
    """Consumes an event iterator in a task of its own, keeping every event."""

    def __init__(self, events: AsyncGenerator[OrderEvent, None]) -> None:
        self.events: list[OrderEvent] = []
        self._source = events
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self._source:
            self.events.append(event)

    def fills(self) -> list[OrderEvent]:
        return [e for e in self.events if e.fill is not None]

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self._source.aclose()


# ------------------------------------------------------------------------------- SimBroker


async def test_sim_broker_when_order_fills_in_pieces_emits_one_event_per_piece() -> None:
    symbol = _probe_symbol()
    clock = SimClock(START.astimezone(UTC))
    broker = build_sim_broker(CONFIG, CALENDAR, clock, partial_fill_symbols=[symbol])
    collector = Collector(broker.order_events())
    try:
        await asyncio.sleep(0)  # the iterator subscribes when it first runs
        order = await broker.submit_order(OrderRequest("cat-p-1", symbol, Side.BUY, 10))
        await eventually(lambda: len(collector.events) == 1)
        clock.advance_to(clock.now() + timedelta(minutes=1))
        await broker.get_account()  # the exchange catches up: the second piece fills
        await eventually(lambda: len(collector.events) == 2)
    finally:
        await collector.stop()
    first, second = collector.events
    assert [first.kind, second.kind] == ["partial_fill", "fill"]
    assert first.fill is not None
    assert second.fill is not None
    assert (first.fill.qty, second.fill.qty) == (5, 5)  # per fill, never cumulative
    assert (first.order.filled_qty, second.order.filled_qty) == (5, 10)
    assert first.order.status is OrderStatus.PARTIALLY_FILLED
    assert second.order.status is OrderStatus.FILLED
    assert {first.order.id, second.order.id} == {order.id}
    assert second.timestamp > first.timestamp


async def test_sim_broker_events_carry_the_orders_average_price_as_of_each_fill() -> None:
    symbol = _probe_symbol()
    clock = SimClock(START.astimezone(UTC))
    broker = build_sim_broker(CONFIG, CALENDAR, clock, partial_fill_symbols=[symbol])
    collector = Collector(broker.order_events())
    try:
        await asyncio.sleep(0)
        await broker.submit_order(OrderRequest("cat-p-2", symbol, Side.BUY, 10))
        clock.advance_to(clock.now() + timedelta(minutes=1))
        await broker.get_account()
        await eventually(lambda: len(collector.events) == 2)
    finally:
        await collector.stop()
    first, second = collector.fills()
    assert first.fill is not None
    assert second.fill is not None
    assert first.order.filled_avg_price == first.fill.price
    expected = (first.fill.price * 5 + second.fill.price * 5) / 10
    assert second.order.filled_avg_price == expected.quantize(Decimal("0.0001"))


# ----------------------------------------------------------------------- AlpacaBroker stream


@dataclass
class AlpacaRig:
    broker: AlpacaBroker
    sim: SimBroker
    clock: SimClock
    faults: FaultPlan
    app: web.Application
    symbol: str


@pytest.fixture
async def alpaca() -> AsyncIterator[AlpacaRig]:
    symbol = _probe_symbol()
    clock = SimClock(START.astimezone(UTC))
    sim = build_sim_broker(CONFIG, CALENDAR, clock)
    faults = FaultPlan()
    app = create_app(sim.exchange, CALENDAR, clock, faults=faults)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}"
    broker = alpaca_broker(url, clock, timeout_seconds=2.0, stream_poll_seconds=1.0)
    try:
        yield AlpacaRig(broker, sim, clock, faults, app, symbol)
    finally:
        await runner.cleanup()


def test_stream_url_sits_beside_the_trading_api() -> None:
    assert stream_url_for("https://paper-api.alpaca.markets") == (
        "wss://paper-api.alpaca.markets/stream"
    )
    assert stream_url_for("https://api.alpaca.markets") == "wss://api.alpaca.markets/stream"
    assert stream_url_for("http://127.0.0.1:8765") == "ws://127.0.0.1:8765/stream"


async def test_alpaca_order_events_deliver_a_fill_pushed_by_the_stream(alpaca: AlpacaRig) -> None:
    collector = Collector(alpaca.broker.order_events())
    try:
        await eventually(
            lambda: alpaca.broker.stream is not None and alpaca.broker.stream.connected
        )
        await eventually(lambda: alpaca.app[STATE].hub.listeners == 1)
        order = await alpaca.broker.submit_order(
            OrderRequest("cat-s-1", alpaca.symbol, Side.BUY, 3)
        )
        await eventually(lambda: len(collector.fills()) == 1)
    finally:
        await collector.stop()
    [event] = collector.fills()
    assert event.kind == "fill"
    assert event.fill is not None
    assert event.fill.qty == 3
    assert event.fill.client_order_id == "cat-s-1"
    assert event.order.id == order.id
    assert event.order.status is OrderStatus.FILLED
    assert "new" in [e.kind for e in collector.events]
    [at_broker] = await alpaca.broker.get_fills(START)
    assert fill_key(at_broker) == fill_key(event.fill)  # same identity as the REST record


async def test_alpaca_order_events_when_stream_drops_poll_fills_then_reconnect_once_each(
    alpaca: AlpacaRig,
) -> None:
    broker = alpaca.broker
    with capture_logs() as logs:
        collector = Collector(broker.order_events())
        try:
            await eventually(lambda: broker.stream is not None and broker.stream.connected)
            stream = broker.stream
            assert stream is not None
            await eventually(lambda: alpaca.app[STATE].hub.listeners == 1)
            await broker.submit_order(OrderRequest("cat-d-1", alpaca.symbol, Side.BUY, 2))
            await eventually(lambda: len(collector.fills()) == 1)

            # The stream goes down and stays down: reconnects are refused with a 503.
            alpaca.faults.fail(503, count=1_000_000, path="/stream")
            await alpaca.app[STATE].hub.disconnect_all()
            await eventually(lambda: not stream.connected)
            await broker.submit_order(OrderRequest("cat-d-2", alpaca.symbol, Side.BUY, 4))
            await eventually(lambda: len(collector.fills()) == 2)
            assert not stream.connected  # delivered by polling, not by the socket
            polled = collector.fills()[1]

            # The stream comes back; its catch-up poll sees both fills again.
            alpaca.faults.clear()
            await eventually(lambda: stream.connected, within=20)
            await eventually(lambda: alpaca.app[STATE].hub.listeners == 1)
            await broker.submit_order(OrderRequest("cat-d-3", alpaca.symbol, Side.BUY, 1))
            await eventually(lambda: len(collector.fills()) == 3)
            # The socket delivers in order: once a later fill is in, any duplicate of the earlier
            # ones (from the catch-up poll or the socket) has been delivered too.
            await broker.submit_order(OrderRequest("cat-d-4", alpaca.symbol, Side.BUY, 1))
            await eventually(lambda: collector.fills()[-1].order.client_order_id == "cat-d-4")
        finally:
            await collector.stop()
    assert polled.fill is not None
    assert polled.fill.client_order_id == "cat-d-2"
    assert polled.fill.qty == 4
    assert polled.order.status is OrderStatus.FILLED
    fills = [e.fill for e in collector.fills() if e.fill is not None]
    assert [f.client_order_id for f in fills] == ["cat-d-1", "cat-d-2", "cat-d-3", "cat-d-4"]
    assert len({fill_key(f) for f in fills}) == 4
    assert stream.transitions == ["up", "down", "up"]
    messages = [entry["event"] for entry in logs]
    assert messages.count("order stream up") == 2
    assert messages.count("order stream down; polling fills") == 1


async def test_alpaca_order_events_when_stream_never_connects_still_poll_fills(
    alpaca: AlpacaRig,
) -> None:
    alpaca.faults.fail(503, count=1_000_000, path="/stream")
    collector = Collector(alpaca.broker.order_events())
    try:
        await eventually(lambda: alpaca.broker.stream is not None)
        await alpaca.broker.submit_order(OrderRequest("cat-n-1", alpaca.symbol, Side.BUY, 2))
        await eventually(lambda: len(collector.fills()) == 1)
    finally:
        await collector.stop()
    stream = alpaca.broker.stream
    assert stream is not None
    assert stream.transitions == ["down"]
    [event] = collector.fills()
    assert event.fill is not None
    assert event.fill.qty == 2


# ---------------------------------------------------------------------------------- recorder


async def _store(url: str) -> tuple[Store, Callable[[], object]]:
    await asyncio.to_thread(upgrade_database, url)
    engine = make_engine(url)
    return Store(make_session_factory(engine)), engine.dispose


def _intent(cid: str, symbol: str, qty: int, at: datetime) -> OrderIntent:
    return OrderIntent(
        client_order_id=cid,
        symbol=symbol,
        side=Side.BUY,
        qty=qty,
        order_type=OrderType.MARKET,
        order_class=OrderClass.SIMPLE,
        role=LegRole.ENTRY,
        created_at=at,
    )


async def test_recorder_journals_a_fill_and_the_order_status_as_soon_as_it_happens(
    sqlite_url: str,
) -> None:
    symbol = _probe_symbol()
    clock = SimClock(START.astimezone(UTC))
    broker = build_sim_broker(CONFIG, CALENDAR, clock)
    store, dispose = await _store(sqlite_url)
    woken: list[datetime] = []
    recorder = OrderEventRecorder(broker, store, clock, on_fill=lambda: woken.append(clock.now()))
    task = asyncio.create_task(recorder.run())
    try:
        await asyncio.sleep(0)
        await store.record_order_intent(_intent("cat-r-1", symbol, 6, clock.now()))
        await broker.submit_order(OrderRequest("cat-r-1", symbol, Side.BUY, 6))
        await broker.submit_order(OrderRequest("someone-else", symbol, Side.BUY, 1))
        await eventually(lambda: recorder.events_handled == 2)
        journaled = await store.get_order("cat-r-1")
        fills = await store.fills_for_day(START.date())
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await dispose()  # type: ignore[misc]
    assert journaled is not None
    assert journaled.status == "filled"
    assert journaled.filled_qty == 6
    assert sorted(f.client_order_id for f in fills) == ["cat-r-1", "someone-else"]
    assert recorder.fills_recorded == 2
    assert woken == [clock.now(), clock.now()]  # no simulated time passed: at once


async def test_recorder_when_one_event_cannot_be_journaled_keeps_going(sqlite_url: str) -> None:
    store, dispose = await _store(sqlite_url)
    clock = SimClock(START.astimezone(UTC))
    broker = build_sim_broker(CONFIG, CALENDAR, clock)
    recorder = OrderEventRecorder(broker, store, clock, on_fill=lambda: None)
    order = await broker.submit_order(OrderRequest("cat-x-1", _symbol(broker), Side.BUY, 1))
    fill = (await broker.get_fills(START))[0]
    naive = dataclasses.replace(fill, timestamp=fill.timestamp.replace(tzinfo=None))
    try:
        await recorder.handle(
            OrderEvent(OrderEventKind.FILL, order, fill.timestamp, naive)
        )  # store refuses
        await recorder.handle(OrderEvent(OrderEventKind.FILL, order, fill.timestamp, fill))
    finally:
        await dispose()  # type: ignore[misc]
    assert recorder.events_handled == 2
    assert recorder.fills_recorded == 1


# -------------------------------------------------------------------------------- risk-watch


class _Notifier:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def alert(self, alert: Alert) -> None:
        self.sent.append(alert.headline)


class _TimedWatch(RiskWatch):
    """The real risk-watch, noting when each check ran."""

    checks: list[datetime]

    async def check_once(self) -> LossLevel:
        self.checks.append(self._clock.now())
        return await super().check_once()


async def test_risk_watch_when_a_fill_arrives_checks_at_that_instant_under_sim_clock(
    tmp_path: Path, sqlite_url: str
) -> None:
    begin = datetime(2026, 11, 24, 10, 45, tzinfo=NY).astimezone(UTC)
    fill_at = begin + timedelta(milliseconds=200)
    symbol = _probe_symbol(begin)
    settings = make_settings(tmp_path, emergency_actions={"risk_watch_interval_seconds": 10})
    clock = SimClock(begin)
    broker = build_sim_broker(CONFIG, CALENDAR, clock)
    store, dispose = await _store(sqlite_url)
    submitter = OrderSubmitter(broker, store, clock)
    watch = _TimedWatch(
        broker=broker,
        store=store,
        clock=clock,
        calendar=CALENDAR,
        risk=settings.risk,
        flattener=Flattener(broker, store, clock, submitter),
        notifier=_Notifier(),
        journal=WatchJournal(store),
    )
    watch.checks = []
    recorder = OrderEventRecorder(broker, store, clock, on_fill=watch.wake)

    async def participate(work: Callable[[], object]) -> None:
        async with clock.participant():
            await work()  # type: ignore[misc]

    async def trade() -> None:
        await clock.sleep_until(fill_at)
        await broker.submit_order(OrderRequest("cat-w-1", symbol, Side.BUY, 2))
        await clock.sleep(3600)

    tasks = [
        asyncio.create_task(participate(watch.run)),
        asyncio.create_task(participate(recorder.run)),
        asyncio.create_task(participate(trade)),
    ]
    try:
        await clock.sleep_until(begin + timedelta(seconds=25))
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await dispose()  # type: ignore[misc]
    offsets = [(at - begin).total_seconds() for at in watch.checks]
    assert offsets == [0.0, 0.2, 10.2, 20.2]
    assert recorder.fills_recorded == 1
