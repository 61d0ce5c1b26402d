"""The fake Alpaca trading API, driven by alpaca-py's real TradingClient over HTTP."""

from __future__ import annotations

import warnings
from collections.abc import AsyncIterator
from datetime import date, datetime
from decimal import Decimal

import pytest
from test_fake_alpaca_env import Env, serving

from catalyst.domain.exchange import EXCHANGE_TZ

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", "websockets.legacy is deprecated", DeprecationWarning)
    from alpaca.common.exceptions import APIError
    from alpaca.trading.enums import (
        AssetClass,
        AssetStatus,
        OrderSide,
        OrderStatus,
        QueryOrderStatus,
        TimeInForce,
    )
    from alpaca.trading.enums import OrderClass as AlpacaOrderClass
    from alpaca.trading.models import TradeActivity
    from alpaca.trading.requests import (
        ClosePositionRequest,
        GetAssetsRequest,
        GetCalendarRequest,
        GetOrderByIdRequest,
        GetOrdersRequest,
        LimitOrderRequest,
        MarketOrderRequest,
        StopLossRequest,
        TakeProfitRequest,
    )


@pytest.fixture
async def env() -> AsyncIterator[Env]:
    """A fake server at 2026-11-24 10:00 ET (in session)."""
    async with serving() as running:
        yield running


AFTER_CLOSE = datetime(2026, 11, 24, 18, 0, tzinfo=EXCHANGE_TZ)


def _market(symbol: str, qty: int, cid: str, side: OrderSide = OrderSide.BUY) -> MarketOrderRequest:
    return MarketOrderRequest(
        symbol=symbol, qty=qty, side=side, time_in_force=TimeInForce.DAY, client_order_id=cid
    )


def _bracket(env: Env, cid: str) -> tuple[str, MarketOrderRequest]:
    symbol, snap = env.priced(20, 300)[0]
    price = snap.last_price
    request = MarketOrderRequest(
        symbol=symbol,
        qty=10,
        side=OrderSide.BUY,
        time_in_force=TimeInForce.DAY,
        client_order_id=cid,
        order_class=AlpacaOrderClass.BRACKET,
        take_profit=TakeProfitRequest(
            limit_price=float((price * Decimal("1.2")).quantize(Decimal("0.01")))
        ),
        stop_loss=StopLossRequest(
            stop_price=float((price * Decimal("0.8")).quantize(Decimal("0.01")))
        ),
    )
    return symbol, request


async def test_account_parses_with_string_money_and_the_exchanges_last_equity(env: Env) -> None:
    account = await env.call(env.trading.get_account)
    assert account.status.value == "ACTIVE"
    assert account.equity == account.cash == account.last_equity == "100000"
    assert account.pattern_day_trader is None
    assert account.daytrade_count is None


async def test_clock_is_open_at_ten_and_names_todays_close(env: Env) -> None:
    clock = await env.call(env.trading.get_clock)
    assert clock.is_open
    assert clock.next_close.astimezone(env.clock.now().tzinfo).hour == 21  # 16:00 ET in UTC
    assert clock.next_open.date() == date(2026, 11, 25)


async def test_calendar_has_hh_mm_times_and_the_thanksgiving_early_close(env: Env) -> None:
    request = GetCalendarRequest(start=date(2026, 11, 23), end=date(2026, 11, 27))
    days = await env.call(env.trading.get_calendar, request)
    assert [d.date for d in days] == [date(2026, 11, d) for d in (23, 24, 25, 27)]
    assert days[-1].close.hour == 13
    assert days[0].open.hour == 9
    assert days[0].open.minute == 30


async def test_assets_are_active_us_equities_with_class_key_and_sector_extension(env: Env) -> None:
    assets = await env.call(
        env.trading.get_all_assets,
        GetAssetsRequest(status=AssetStatus.ACTIVE, asset_class=AssetClass.US_EQUITY),
    )
    assert len(assets) == 300
    assert {a.asset_class for a in assets} == {AssetClass.US_EQUITY}
    assert any(not a.tradable for a in assets)
    env.trading._use_raw_data = True
    raw = await env.call(env.trading.get_all_assets, GetAssetsRequest())
    assert "sector" in raw[0]
    assert raw[0]["class"] == "us_equity"


async def test_market_order_fills_and_shows_up_as_position_and_fill_activity(env: Env) -> None:
    symbol = env.symbol()
    order = await env.call(env.trading.submit_order, _market(symbol, 10, "m-1"))
    assert order.status is OrderStatus.FILLED
    assert order.filled_qty == "10"
    assert order.filled_avg_price is not None
    position = await env.call(env.trading.get_open_position, symbol)
    assert position.qty == "10"
    assert position.side.value == "long"
    activities = await env.call(env.trading.get, "/account/activities/FILL", {"direction": "asc"})
    parsed = [TradeActivity(**a) for a in activities]
    assert [(a.symbol, a.qty, a.order_status) for a in parsed] == [(symbol, 10, OrderStatus.FILLED)]
    assert str(parsed[0].order_id) == str(order.id)


async def test_bracket_legs_are_held_until_the_entry_fills(env: Env) -> None:
    env.clock.advance_to(AFTER_CLOSE)  # entry queued for the next open
    _symbol, request = _bracket(env, "b-1")
    order = await env.call(env.trading.submit_order, request)
    assert order.status is OrderStatus.ACCEPTED
    fetched = await env.call(
        env.trading.get_order_by_id, order.id, GetOrderByIdRequest(nested=True)
    )
    assert fetched.legs is not None
    assert {leg.status for leg in fetched.legs} == {OrderStatus.HELD}
    flat = await env.call(env.trading.get_order_by_id, order.id)
    assert flat.legs is None
    open_flat = await env.call(
        env.trading.get_orders, GetOrdersRequest(status=QueryOrderStatus.OPEN)
    )
    assert [o.id for o in open_flat] == [order.id]  # held legs are not listed on their own
    env.clock.advance_to(datetime(2026, 11, 25, 10, 0, tzinfo=EXCHANGE_TZ))
    filled = await env.call(env.trading.get_order_by_client_id, "b-1")
    assert filled.status is OrderStatus.FILLED
    assert filled.legs is not None
    assert {leg.status for leg in filled.legs} == {OrderStatus.NEW}
    nested_open = await env.call(
        env.trading.get_orders, GetOrdersRequest(status=QueryOrderStatus.OPEN, nested=True)
    )
    assert {o.type.value for o in nested_open} == {"limit", "stop"}  # legs no longer nested


async def test_client_order_id_lookup_misses_with_404(env: Env) -> None:
    with pytest.raises(APIError) as caught:
        await env.call(env.trading.get_order_by_client_id, "nope")
    assert caught.value.status_code == 404
    assert caught.value.code == 40410000


async def test_cancel_answers_204_then_422_and_404_for_unknown(env: Env) -> None:
    symbol, snap = env.priced()[0]
    limit = float((snap.last_price * Decimal("0.5")).quantize(Decimal("0.01")))
    order = await env.call(
        env.trading.submit_order,
        LimitOrderRequest(
            symbol=symbol,
            qty=1,
            side=OrderSide.BUY,
            time_in_force=TimeInForce.DAY,
            limit_price=limit,
        ),
    )
    assert order.status is OrderStatus.NEW
    assert await env.call(env.trading.cancel_order_by_id, order.id) is None
    again = await env.call(env.trading.get_order_by_id, order.id)
    assert again.status is OrderStatus.CANCELED
    assert again.canceled_at is not None
    with pytest.raises(APIError) as final:
        await env.call(env.trading.cancel_order_by_id, order.id)
    assert final.value.status_code == 422
    with pytest.raises(APIError) as unknown:
        await env.call(env.trading.cancel_order_by_id, "00000000-0000-0000-0000-000000000000")
    assert unknown.value.status_code == 404


async def test_cancel_all_answers_207_per_order(env: Env) -> None:
    env.clock.advance_to(AFTER_CLOSE)
    _, request = _bracket(env, "b-2")
    await env.call(env.trading.submit_order, request)
    responses = await env.call(env.trading.cancel_orders)
    assert len(responses) == 3
    assert {r.status for r in responses} == {200}
    left = await env.call(env.trading.get_orders)
    assert left == []


async def test_close_position_returns_the_closing_order_and_partial_qty_works(env: Env) -> None:
    symbol = env.symbol()
    await env.call(env.trading.submit_order, _market(symbol, 10, "c-1"))
    part = await env.call(env.trading.close_position, symbol, ClosePositionRequest(qty="4"))
    assert part.side is OrderSide.SELL
    assert part.qty == "4"
    rest = await env.call(env.trading.close_position, symbol)
    assert rest.qty == "6"
    assert rest.status is OrderStatus.FILLED
    with pytest.raises(APIError) as none:
        await env.call(env.trading.get_open_position, symbol)
    assert none.value.status_code == 404


async def test_close_all_positions_answers_207(env: Env) -> None:
    a, b = env.priced()[0][0], env.priced()[1][0]
    await env.call(env.trading.submit_order, _market(a, 3, "ca-1"))
    await env.call(env.trading.submit_order, _market(b, 2, "ca-2"))
    results = await env.call(env.trading.close_all_positions, True)
    assert sorted(r.symbol for r in results) == sorted([a, b])
    assert all(r.status == 200 for r in results)
    assert await env.call(env.trading.get_all_positions) == []


async def test_duplicate_client_order_id_is_422_40010001(env: Env) -> None:
    symbol = env.symbol()
    await env.call(env.trading.submit_order, _market(symbol, 1, "dup"))
    with pytest.raises(APIError) as caught:
        await env.call(env.trading.submit_order, _market(symbol, 1, "dup"))
    assert caught.value.status_code == 422
    assert caught.value.code == 40010001
    assert caught.value.message == "client_order_id must be unique"


async def test_sub_penny_limit_is_422_with_alpacas_message(env: Env) -> None:
    symbol = env.symbol()
    request = LimitOrderRequest(
        symbol=symbol, qty=1, side=OrderSide.BUY, time_in_force=TimeInForce.DAY, limit_price=10.123
    )
    with pytest.raises(APIError) as caught:
        await env.call(env.trading.submit_order, request)
    assert caught.value.status_code == 422
    assert caught.value.message == (
        "invalid limit_price 10.123. sub-penny increment does not fulfill minimum pricing criteria"
    )


async def test_insufficient_buying_power_is_403(env: Env) -> None:
    symbol = env.symbol(100, 400)
    with pytest.raises(APIError) as caught:
        await env.call(env.trading.submit_order, _market(symbol, 5000, "big"))
    assert caught.value.status_code == 403
    assert caught.value.code == 40310000
    assert caught.value.message == "insufficient buying power"


async def test_selling_unheld_shares_is_403_not_allowed_to_short(env: Env) -> None:
    with pytest.raises(APIError) as caught:
        await env.call(env.trading.submit_order, _market(env.symbol(), 1, "s", OrderSide.SELL))
    assert caught.value.status_code == 403
    assert caught.value.message == "account is not allowed to short"


async def test_unknown_symbol_and_unknown_order_are_errors(env: Env) -> None:
    with pytest.raises(APIError) as asset:
        await env.call(env.trading.submit_order, _market("ZZZZZ", 1, "u"))
    assert asset.value.status_code == 422
    with pytest.raises(APIError) as order:
        await env.call(env.trading.get_order_by_id, "00000000-0000-0000-0000-000000000000")
    assert order.value.status_code == 404


async def test_activities_page_by_token(env: Env) -> None:
    for k, (symbol, _) in enumerate(env.priced()[:3]):
        await env.call(env.trading.submit_order, _market(symbol, 1, f"p-{k}"))
    first = await env.call(
        env.trading.get, "/account/activities/FILL", {"page_size": 2, "direction": "asc"}
    )
    second = await env.call(
        env.trading.get,
        "/account/activities/FILL",
        {"page_size": 2, "direction": "asc", "page_token": first[-1]["id"]},
    )
    assert len(first) == 2
    assert len(second) == 1
    everything = await env.call(env.trading.get, "/account/activities", {"activity_types": "FILL"})
    assert [a["id"] for a in everything] == [a["id"] for a in reversed(first + second)]
