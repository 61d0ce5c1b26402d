"""SimBroker: the Broker port over the exchange simulator, driven by a simulated clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from catalyst.config.models import SimulationConfig
from catalyst.domain.errors import DuplicateClientOrderId, OrderRejected
from catalyst.domain.models import BracketSpec, Fill, OrderRequest, OrderStatus, OrderType, Side
from catalyst.ports import Broker
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.sim.ticks import round_to_tick
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

CALENDAR = ExchangeCalendar(first_day=date(2026, 1, 1), last_day=date(2027, 12, 31))
OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
CONFIG = SimulationConfig(seed=11, symbols=300, history_days=10, catalyst_fraction=0.05)


def _broker(start: datetime = OPEN) -> tuple[SimBroker, SimClock]:
    clock = SimClock(start)
    return build_sim_broker(CONFIG, CALENDAR, clock), clock


async def _tradable_symbol(broker: Broker) -> str:
    assets = await broker.list_assets()
    snapshots = await broker.get_snapshots([a.symbol for a in assets if a.tradable])
    return next(s for s, snap in snapshots.items() if 10 <= snap.last_price <= 300)


async def test_list_assets_returns_the_universe_with_untradable_symbols_flagged() -> None:
    broker, _ = _broker()
    assets = await broker.list_assets()
    assert len(assets) == 300
    assert any(not asset.tradable for asset in assets)
    assert sum(asset.tradable for asset in assets) >= 290


async def test_get_session_comes_from_the_calendar() -> None:
    broker, _ = _broker()
    assert await broker.get_session(date(2026, 11, 26)) is None
    early = await broker.get_session(date(2026, 11, 27))
    assert early is not None
    assert early.early_close


async def test_account_starts_with_the_configured_cash() -> None:
    broker, _ = _broker()
    account = await broker.get_account()
    assert account.equity == account.cash == account.last_equity == Decimal("100000")
    assert account.day_pnl == 0


async def test_market_data_methods_never_return_the_future() -> None:
    broker, clock = _broker()
    clock.advance_to(OPEN + timedelta(minutes=45, seconds=10))
    symbol = await _tradable_symbol(broker)
    bars = await broker.get_intraday_bars([symbol], OPEN, OPEN + timedelta(hours=5))
    assert len(bars[symbol]) == 45
    daily = await broker.get_daily_bars([symbol, "NOPE"], 5)
    assert list(daily) == [symbol]
    assert len(daily[symbol]) == 5
    assert all(bar.timestamp < OPEN for bar in daily[symbol])
    everything = list(broker.exchange.feed.universe.symbols)
    news = await broker.get_news(everything, OPEN - timedelta(days=1))
    assert news
    assert all(item.created_at <= clock.now() for item in news)


async def test_bracket_lifecycle_through_the_port_with_a_fill_listener() -> None:
    broker, clock = _broker(OPEN - timedelta(minutes=20))
    seen: list[Fill] = []
    broker.exchange.add_fill_listener(seen.append)
    symbol = await _tradable_symbol(broker)
    price = (await broker.get_snapshots([symbol]))[symbol].last_price
    request = OrderRequest(
        "entry-1",
        symbol,
        Side.BUY,
        7,
        bracket=BracketSpec(price * 2, round_to_tick(price / 2)),
    )
    queued = await broker.submit_order(request)
    assert queued.status is OrderStatus.ACCEPTED
    (listed,) = await broker.list_open_orders()
    assert [leg.status for leg in listed.legs] == [OrderStatus.HELD, OrderStatus.HELD]
    with pytest.raises(DuplicateClientOrderId):
        await broker.submit_order(request)

    clock.advance_to(OPEN + timedelta(minutes=1))
    entry = await broker.get_order_by_client_id("entry-1")
    assert entry is not None
    assert entry.status is OrderStatus.FILLED
    assert [fill.qty for fill in seen] == [7]
    stop_leg = await broker.get_order_by_client_id("entry-1-sl")
    assert stop_leg is not None
    assert stop_leg.status is OrderStatus.NEW
    (position,) = await broker.list_positions()
    assert position.qty == 7

    closing = await broker.close_position(symbol, "exit-1")
    assert closing.status is OrderStatus.FILLED
    assert await broker.list_positions() == []
    assert await broker.list_open_orders() == []
    assert len(broker.fills) == 2
    assert await broker.get_fills(OPEN + timedelta(minutes=1)) == list(broker.fills[1:])
    assert [f.qty for f in await broker.get_fills(OPEN)] == [7, 7]


async def test_cancel_order_and_cancel_all_through_the_port() -> None:
    broker, _ = _broker()
    symbol = await _tradable_symbol(broker)
    order = await broker.submit_order(
        OrderRequest("l1", symbol, Side.BUY, 1, type=OrderType.LIMIT, limit_price=Decimal("1.00"))
    )
    await broker.cancel_order(order.id)
    await broker.cancel_order(order.id)  # final already: no-op
    await broker.submit_order(
        OrderRequest("l2", symbol, Side.BUY, 1, type=OrderType.LIMIT, limit_price=Decimal("1.00"))
    )
    await broker.cancel_all_orders()
    assert await broker.list_open_orders() == []


async def test_rejections_surface_as_domain_errors() -> None:
    broker, _ = _broker()
    with pytest.raises(OrderRejected, match="not allowed to short"):
        await broker.submit_order(OrderRequest("s1", await _tradable_symbol(broker), Side.SELL, 1))


def test_sim_broker_satisfies_the_broker_protocol() -> None:
    broker, _ = _broker()
    port: Broker = broker
    assert port is broker
