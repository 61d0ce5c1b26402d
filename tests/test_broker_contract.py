"""One contract for every `Broker`: the simulator in-process and Alpaca over the fake server.

Each test runs twice: against `SimBroker` directly, and against `AlpacaBroker` talking real HTTP to
the fake Alpaca server (`catalyst.fake_alpaca`) that serves the *same kind* of simulated exchange.
Both start on a simulated clock at 2026-11-24 10:00 New York. Tests that need a transport
(lost responses, 429s) run for Alpaca only.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp import web
from alpaca_broker import alpaca_broker

from catalyst.config.models import SimulationConfig
from catalyst.domain.errors import UnknownOrderOutcome
from catalyst.domain.models import (
    BracketSpec,
    LegRole,
    OrderClass,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from catalyst.fake_alpaca.app import create_app
from catalyst.fake_alpaca.faults import FaultPlan
from catalyst.ports import Broker
from catalyst.sim.broker import SimBroker, build_sim_broker
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

NY = ZoneInfo("America/New_York")
CALENDAR = ExchangeCalendar(first_day=date(2026, 1, 1), last_day=date(2027, 12, 31))
START = datetime(2026, 11, 24, 10, 0, tzinfo=NY)
OPEN = datetime(2026, 11, 24, 9, 30, tzinfo=NY)
CONFIG = SimulationConfig(seed=11, symbols=300, history_days=10, catalyst_fraction=0.05)


@dataclass
class Harness:
    kind: str
    broker: Broker
    sim: SimBroker  # the simulator behind the broker (the broker itself for "sim")
    clock: SimClock
    faults: FaultPlan | None


Build = Callable[..., Any]


def _price_symbol(sim: SimBroker) -> str:
    """A tradable symbol priced 10..300 right now (deterministic for the seed)."""
    sim.exchange.advance_to(START)
    market = sim.exchange.market
    tradable = sorted(a.symbol for a in sim.exchange.assets() if a.tradable)
    snaps = market.snapshots(tradable, sim.exchange.now)
    return next(s for s in tradable if s in snaps and 10 <= snaps[s].last_price <= 300)


@pytest.fixture(params=["sim", "alpaca"])
async def build(request: pytest.FixtureRequest) -> AsyncIterator[Build]:
    """Builds a harness of the parametrised kind; `partial_fill=True` makes one symbol fill in
    pieces (that symbol is `harness.partial_symbol`)."""
    runners: list[web.AppRunner] = []

    async def make(*, partial_fill: bool = False) -> tuple[Harness, str]:
        clock = SimClock(START.astimezone(UTC))
        probe = build_sim_broker(CONFIG, CALENDAR, SimClock(START.astimezone(UTC)))
        symbol = _price_symbol(probe)
        sim = build_sim_broker(
            CONFIG, CALENDAR, clock, partial_fill_symbols=[symbol] if partial_fill else []
        )
        if request.param == "sim":
            return Harness("sim", sim, sim, clock, None), symbol
        faults = FaultPlan()
        app = create_app(sim.exchange, CALENDAR, clock, faults=faults)
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        broker = alpaca_broker(url, clock, requests_per_minute=190, timeout_seconds=2.0)
        return Harness("alpaca", broker, sim, clock, faults), symbol

    yield make
    for runner in runners:
        await runner.cleanup()


async def _harness(build: Build, **options: Any) -> tuple[Harness, str]:
    result: tuple[Harness, str] = await build(**options)
    return result


async def _price(h: Harness, symbol: str) -> Decimal:
    return (await h.sim.get_snapshots([symbol]))[symbol].last_price


def _bracket(cid: str, symbol: str, price: Decimal, *, qty: int = 10) -> OrderRequest:
    """A limit bracket far enough below the market that it stays open."""
    entry = (price * Decimal("0.80")).quantize(Decimal("0.01"))
    return OrderRequest(
        cid,
        symbol,
        Side.BUY,
        qty,
        type=OrderType.LIMIT,
        limit_price=entry,
        bracket=BracketSpec(
            take_profit_limit=(entry * Decimal("1.10")).quantize(Decimal("0.01")),
            stop_loss_stop=(entry * Decimal("0.95")).quantize(Decimal("0.01")),
        ),
    )


# ------------------------------------------------------------------------------- reads


async def test_account_starts_flat_with_configured_cash(build: Build) -> None:
    h, _ = await _harness(build)
    account = await h.broker.get_account()
    assert account.equity == account.last_equity == account.cash == Decimal("100000")
    assert account.buying_power > 0
    assert not account.trading_blocked


@pytest.mark.parametrize(
    ("day", "closes", "early"),
    [(date(2026, 11, 24), 16, False), (date(2026, 11, 27), 13, True)],
)
async def test_session_has_new_york_hours_and_flags_early_close(
    build: Build, day: date, closes: int, early: bool
) -> None:
    h, _ = await _harness(build)
    session = await h.broker.get_session(day)
    assert session is not None
    assert session.day == day
    assert session.open == datetime.combine(day, OPEN.time(), NY)
    assert session.close.astimezone(NY).hour == closes
    assert session.early_close is early


async def test_session_on_thanksgiving_is_none(build: Build) -> None:
    h, _ = await _harness(build)
    assert await h.broker.get_session(date(2026, 11, 26)) is None


async def test_assets_are_the_universe_with_untradable_flagged(build: Build) -> None:
    h, _ = await _harness(build)
    assets = await h.broker.list_assets()
    expected = {(a.symbol, a.tradable) for a in await h.sim.list_assets()}
    assert {(a.symbol, a.tradable) for a in assets} == expected
    assert any(not a.tradable for a in assets)


async def test_snapshots_match_the_exchange_and_skip_unknown_symbols(build: Build) -> None:
    h, symbol = await _harness(build)
    tradable = sorted(a.symbol for a in await h.sim.list_assets() if a.tradable)[:20]
    snapshots = await h.broker.get_snapshots([*tradable, symbol, "NOPE"])
    expected = await h.sim.get_snapshots([*tradable, symbol])
    assert "NOPE" not in snapshots
    assert snapshots.keys() == expected.keys()
    for key, snap in snapshots.items():
        want = expected[key]
        assert (snap.last_price, snap.day_open, snap.day_high, snap.day_low) == (
            want.last_price,
            want.day_open,
            want.day_high,
            want.day_low,
        )
        assert (snap.prev_close, snap.day_volume) == (want.prev_close, want.day_volume)


async def test_daily_bars_are_completed_days_oldest_first(build: Build) -> None:
    h, symbol = await _harness(build)
    symbols = [a.symbol for a in await h.sim.list_assets()]
    bars = await h.broker.get_daily_bars([*symbols, "NOPE"], 5)
    expected = await h.sim.get_daily_bars(symbols, 5)
    assert bars.keys() == expected.keys()
    assert len(bars[symbol]) == 5
    assert [b.timestamp for b in bars[symbol]] == sorted(b.timestamp for b in bars[symbol])
    assert all(b.timestamp < OPEN for b in bars[symbol])
    assert [(b.close, b.volume) for b in bars[symbol]] == [
        (b.close, b.volume) for b in expected[symbol]
    ]


async def test_intraday_bars_span_more_than_one_page(build: Build) -> None:
    h, symbol = await _harness(build)
    h.clock.advance_to((OPEN + timedelta(minutes=90, seconds=5)).astimezone(UTC))
    symbols = [a.symbol for a in await h.sim.list_assets()]
    end = OPEN + timedelta(hours=3)
    bars = await h.broker.get_intraday_bars(symbols, OPEN, end)
    # 300 symbols x 90 minutes = 27,000 bars: three pages of Alpaca's 10,000.
    assert sum(len(series) for series in bars.values()) > 20_000
    assert len(bars[symbol]) == 90
    assert bars[symbol][0].timestamp == OPEN
    expected = await h.sim.get_intraday_bars([symbol], OPEN, end)
    assert [(b.timestamp, b.close) for b in bars[symbol]] == [
        (b.timestamp, b.close) for b in expected[symbol]
    ]


async def test_news_since_a_time_matches_the_exchange(build: Build) -> None:
    h, _ = await _harness(build)
    symbols = [a.symbol for a in await h.sim.list_assets()]
    since = OPEN - timedelta(days=1)
    news = await h.broker.get_news(symbols, since)
    expected = await h.sim.get_news(symbols, since)
    assert news
    assert sorted((n.headline, n.created_at) for n in news) == sorted(
        (n.headline, n.created_at) for n in expected
    )
    assert all(n.created_at >= since for n in news)


# ------------------------------------------------------------------------------ orders


async def test_market_order_fills_and_shows_as_a_position_and_a_fill(build: Build) -> None:
    h, symbol = await _harness(build)
    order = await h.broker.submit_order(OrderRequest("mkt-1", symbol, Side.BUY, 10))
    assert order.client_order_id == "mkt-1"
    assert order.order_class is OrderClass.SIMPLE
    found = await h.broker.get_order_by_client_id("mkt-1")
    assert found is not None
    assert found.id == order.id
    assert found.status is OrderStatus.FILLED
    assert found.filled_qty == 10
    positions = {p.symbol: p for p in await h.broker.list_positions()}
    assert positions[symbol].qty == 10
    fills = await h.broker.get_fills(START)
    assert [(f.client_order_id, f.qty, f.side) for f in fills] == [("mkt-1", 10, Side.BUY)]
    assert fills[0].price == found.filled_avg_price


async def test_bracket_nests_legs_with_the_stop_held_before_the_entry_fills(
    build: Build,
) -> None:
    h, symbol = await _harness(build)
    request = _bracket("br-1", symbol, await _price(h, symbol))
    order = await h.broker.submit_order(request)
    assert order.order_class is OrderClass.BRACKET
    found = await h.broker.get_order_by_client_id("br-1")
    assert found is not None
    assert found.status.is_open
    roles = {leg.role: leg for leg in found.legs}
    assert set(roles) == {LegRole.TAKE_PROFIT, LegRole.STOP_LOSS}
    assert roles[LegRole.STOP_LOSS].status is OrderStatus.HELD
    assert roles[LegRole.STOP_LOSS].stop_price == request.bracket.stop_loss_stop  # type: ignore[union-attr]
    listed = [o for o in await h.broker.list_open_orders() if o.client_order_id == "br-1"]
    assert len(listed) == 1
    assert {leg.role for leg in listed[0].legs} == {LegRole.TAKE_PROFIT, LegRole.STOP_LOSS}


async def test_partial_fills_are_reported_one_record_per_fill(build: Build) -> None:
    h, symbol = await _harness(build, partial_fill=True)
    await h.broker.submit_order(OrderRequest("part-1", symbol, Side.BUY, 100))
    h.clock.advance_to(h.clock.now() + timedelta(minutes=10))
    fills = [f for f in await h.broker.get_fills(START) if f.client_order_id == "part-1"]
    assert len(fills) >= 2
    assert all(0 < f.qty < 100 for f in fills)
    order = await h.broker.get_order_by_client_id("part-1")
    assert order is not None
    assert sum(f.qty for f in fills) == order.filled_qty


async def test_cancel_ends_the_bracket_and_a_second_cancel_is_a_no_op(build: Build) -> None:
    h, symbol = await _harness(build)
    order = await h.broker.submit_order(_bracket("br-2", symbol, await _price(h, symbol)))
    await h.broker.cancel_order(order.id)
    await h.broker.cancel_order(order.id)
    found = await h.broker.get_order_by_client_id("br-2")
    assert found is not None
    assert found.status is OrderStatus.CANCELED
    assert all(not leg.status.is_open for leg in found.legs)
    assert [o for o in await h.broker.list_open_orders() if o.client_order_id == "br-2"] == []


async def test_close_position_sells_everything_with_the_given_client_order_id(
    build: Build,
) -> None:
    h, symbol = await _harness(build)
    price = await _price(h, symbol)
    entry = OrderRequest(
        "br-3",
        symbol,
        Side.BUY,
        10,
        bracket=BracketSpec(
            take_profit_limit=(price * Decimal("1.2")).quantize(Decimal("0.01")),
            stop_loss_stop=(price * Decimal("0.8")).quantize(Decimal("0.01")),
        ),
    )
    await h.broker.submit_order(entry)
    assert {p.symbol: p.qty for p in await h.broker.list_positions()}[symbol] == 10
    close = await h.broker.close_position(symbol, "close-1")
    assert close.client_order_id == "close-1"
    assert close.side is Side.SELL
    assert close.qty == 10
    h.clock.advance_to(h.clock.now() + timedelta(minutes=2))
    assert symbol not in {p.symbol for p in await h.broker.list_positions()}
    assert [o for o in await h.broker.list_open_orders() if o.symbol == symbol] == []


async def test_cancel_all_leaves_no_open_orders(build: Build) -> None:
    h, symbol = await _harness(build)
    price = await _price(h, symbol)
    await h.broker.submit_order(_bracket("br-4", symbol, price))
    await h.broker.submit_order(_bracket("br-5", symbol, price, qty=5))
    assert len(await h.broker.list_open_orders()) == 2
    await h.broker.cancel_all_orders()
    assert await h.broker.list_open_orders() == []


async def test_lookup_of_an_unknown_client_order_id_is_none(build: Build) -> None:
    h, _ = await _harness(build)
    assert await h.broker.get_order_by_client_id("never-sent") is None


# --------------------------------------------------------------- transport (Alpaca only)


async def test_lost_submit_response_is_unknown_outcome_with_one_order_placed(
    build: Build,
) -> None:
    h, symbol = await _harness(build)
    if h.faults is None:
        pytest.skip("the in-process simulator has no transport to lose")
    h.faults.lose_response(method="POST", path="/v2/orders")
    request = _bracket("lost-1", symbol, await _price(h, symbol))
    with pytest.raises(UnknownOrderOutcome):
        await h.broker.submit_order(request)
    found = await h.broker.get_order_by_client_id("lost-1")
    assert found is not None
    open_orders = [o for o in await h.broker.list_open_orders() if o.symbol == symbol]
    assert [o.client_order_id for o in open_orders] == ["lost-1"]


async def test_rate_limited_reads_wait_and_retry(build: Build) -> None:
    h, _ = await _harness(build)
    if h.faults is None:
        pytest.skip("the in-process simulator is never rate limited")
    h.faults.fail(429, count=2, path="/v2/account")
    before = h.clock.now()
    account = await h.broker.get_account()
    assert account.equity == Decimal("100000")
    assert h.clock.now() > before
