"""Exchange simulator: order rules, matching, brackets, accounting and day rollover."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalyst.domain.errors import (
    DuplicateClientOrderId,
    InsufficientBuyingPower,
    NotFound,
    OrderRejected,
)
from catalyst.domain.models import (
    BracketSpec,
    Fill,
    Order,
    OrderRequest,
    OrderStatus,
    OrderType,
    Side,
)
from catalyst.sim.exchange import SimExchange
from catalyst.sim.feed import SyntheticMarketFeed
from catalyst.sim.ticks import price_from_float, round_to_tick
from catalyst.timekeeping.calendar import ExchangeCalendar
from catalyst.timekeeping.clock import SimClock

CALENDAR = ExchangeCalendar(first_day=date(2026, 1, 1), last_day=date(2027, 12, 31))
OPEN = datetime(2026, 11, 24, 14, 30, tzinfo=UTC)
CLOSE = datetime(2026, 11, 24, 21, 0, tzinfo=UTC)
NEXT_OPEN = datetime(2026, 11, 25, 14, 30, tzinfo=UTC)
CENT = Decimal("0.01")


def _exchange(
    start: datetime = OPEN,
    *,
    n: int = 60,
    seed: int = 3,
    cash: Decimal = Decimal("100000"),
    partial: Iterable[str] = (),
) -> tuple[SimExchange, SimClock]:
    clock = SimClock(start)
    feed = SyntheticMarketFeed(
        seed=seed, n_symbols=n, sessions=CALENDAR, history_days=5, catalyst_fraction=0.1
    )
    return SimExchange(feed, cash, clock, partial_fill_symbols=partial), clock


def _symbols(exchange: SimExchange, low: float = 10.0, high: float = 300.0) -> list[str]:
    """Tradable symbols whose opening price lies in [low, high]."""
    market = exchange.market
    return [
        s
        for i, s in enumerate(market.universe.symbols)
        if market.universe.tradable[i] and low <= market.open[0, i] <= high
    ]


def _bar(
    exchange: SimExchange, symbol: str, index: int
) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    return exchange.market.bar_prices(exchange.market.universe.index[symbol], index)


def _buy(cid: str, symbol: str, qty: int, **kwargs: object) -> OrderRequest:
    return OrderRequest(cid, symbol, Side.BUY, qty, **kwargs)  # type: ignore[arg-type]


def _leg(order: Order, cid_suffix: str) -> Order:
    return next(leg for leg in order.legs if leg.client_order_id.endswith(cid_suffix))


def _refresh(exchange: SimExchange, cid: str) -> Order:
    order = exchange.order_by_client_id(cid)
    assert order is not None
    return order


# ------------------------------------------------------------------------------ rejections


def test_sub_penny_limit_price_is_rejected_with_alpacas_message() -> None:
    exchange, _ = _exchange()
    symbol = _symbols(exchange)[0]
    request = _buy("c1", symbol, 1, type=OrderType.LIMIT, limit_price=Decimal("290.123"))
    with pytest.raises(OrderRejected) as info:
        exchange.submit(request)
    assert info.value.reason == (
        "invalid limit_price 290.123. sub-penny increment does not fulfill minimum pricing criteria"
    )


def test_sub_dollar_prices_allow_four_decimals_but_not_five() -> None:
    exchange, _ = _exchange()
    symbol = _symbols(exchange)[0]
    ok = _buy("c1", symbol, 1, type=OrderType.LIMIT, limit_price=Decimal("0.1234"))
    assert exchange.submit(ok).status is OrderStatus.NEW
    bad = _buy("c2", symbol, 1, type=OrderType.LIMIT, limit_price=Decimal("0.12345"))
    with pytest.raises(OrderRejected, match="sub-penny"):
        exchange.submit(bad)


def test_non_positive_quantity_is_rejected_even_if_the_request_bypassed_validation() -> None:
    exchange, _ = _exchange()
    request = _buy("c1", _symbols(exchange)[0], 1)
    object.__setattr__(request, "qty", 0)
    with pytest.raises(OrderRejected, match="qty must be > 0"):
        exchange.submit(request)


def test_unknown_and_untradable_symbols_are_rejected() -> None:
    exchange, _ = _exchange(n=400)
    with pytest.raises(OrderRejected, match="not found"):
        exchange.submit(_buy("c1", "ZZZZZ", 1))
    untradable = next(a.symbol for a in exchange.assets() if not a.tradable)
    with pytest.raises(OrderRejected, match="not tradable"):
        exchange.submit(_buy("c2", untradable, 1))


def test_bracket_with_target_not_above_stop_is_rejected() -> None:
    exchange, _ = _exchange()
    symbol = _symbols(exchange)[0]
    price = exchange.market.price_at(symbol, OPEN)
    assert price is not None
    bracket = BracketSpec(take_profit_limit=price - 2 * CENT, stop_loss_stop=price - CENT)
    with pytest.raises(OrderRejected) as info:
        exchange.submit(_buy("c1", symbol, 1, bracket=bracket))
    assert info.value.reason == "take_profit.limit_price must be > stop_loss.stop_price"


def test_bracket_stop_must_be_at_least_a_cent_below_the_market() -> None:
    exchange, _ = _exchange()
    symbol = _symbols(exchange)[0]
    price = exchange.market.price_at(symbol, OPEN)
    assert price is not None
    too_close = BracketSpec(take_profit_limit=price + 1, stop_loss_stop=price)
    with pytest.raises(OrderRejected, match=r"stop_loss.stop_price must be <= base_price - 0.01"):
        exchange.submit(_buy("c1", symbol, 1, bracket=too_close))
    just_enough = BracketSpec(take_profit_limit=price + 1, stop_loss_stop=price - CENT)
    assert exchange.submit(_buy("c2", symbol, 1, bracket=just_enough)).status.is_open or True


def test_bracket_target_must_be_above_the_market() -> None:
    exchange, _ = _exchange()
    symbol = _symbols(exchange)[0]
    price = exchange.market.price_at(symbol, OPEN)
    assert price is not None
    bracket = BracketSpec(take_profit_limit=price, stop_loss_stop=price - 1)
    with pytest.raises(OrderRejected, match=r"take_profit.limit_price must be >= base_price"):
        exchange.submit(_buy("c1", symbol, 1, bracket=bracket))


def test_buy_beyond_buying_power_raises_insufficient_buying_power() -> None:
    exchange, _ = _exchange(cash=Decimal("1000"))
    symbol = _symbols(exchange, 20, 300)[0]
    with pytest.raises(InsufficientBuyingPower):
        exchange.submit(_buy("c1", symbol, 1000))
    assert exchange.order_by_client_id("c1") is None  # a rejected order does not exist


def test_open_buy_orders_reduce_buying_power_by_their_reserved_notional() -> None:
    exchange, _ = _exchange()
    symbol = _symbols(exchange)[0]
    exchange.submit(_buy("c1", symbol, 10, type=OrderType.LIMIT, limit_price=Decimal("5.00")))
    account = exchange.account()
    assert account.buying_power == account.cash - Decimal("50.00")
    exchange.cancel(_refresh(exchange, "c1").id)
    assert exchange.account().buying_power == exchange.account().cash


def test_selling_more_than_held_is_rejected_as_short_selling() -> None:
    exchange, _ = _exchange()
    symbol = _symbols(exchange)[0]
    with pytest.raises(OrderRejected, match="account is not allowed to short"):
        exchange.submit(OrderRequest("s1", symbol, Side.SELL, 1))
    exchange.submit(_buy("b1", symbol, 5))
    with pytest.raises(OrderRejected, match="account is not allowed to short"):
        exchange.submit(OrderRequest("s2", symbol, Side.SELL, 6))


def test_shares_promised_to_bracket_legs_cannot_be_sold_again() -> None:
    exchange, _ = _exchange()
    symbol = _symbols(exchange)[0]
    price = exchange.market.price_at(symbol, OPEN)
    assert price is not None
    bracket = BracketSpec(take_profit_limit=price * 2, stop_loss_stop=round_to_tick(price / 2))
    exchange.submit(_buy("b1", symbol, 5, bracket=bracket))
    with pytest.raises(OrderRejected, match=r"insufficient qty available .*available: 0"):
        exchange.submit(OrderRequest("s1", symbol, Side.SELL, 5))


def test_duplicate_client_order_id_is_refused_even_after_the_first_was_canceled() -> None:
    exchange, _ = _exchange()
    symbol = _symbols(exchange)[0]
    first = exchange.submit(_buy("c1", symbol, 1, type=OrderType.LIMIT, limit_price=Decimal("1")))
    exchange.cancel(first.id)
    assert _refresh(exchange, "c1").status is OrderStatus.CANCELED
    with pytest.raises(DuplicateClientOrderId):
        exchange.submit(_buy("c1", symbol, 1))


# -------------------------------------------------------------------------------- matching


def test_market_buy_fills_at_once_at_the_minute_open_plus_slippage() -> None:
    exchange, clock = _exchange()
    clock.advance_to(OPEN + timedelta(minutes=7, seconds=12))
    symbol = _symbols(exchange)[0]
    order = exchange.submit(_buy("c1", symbol, 10))
    bar_open = _bar(exchange, symbol, 7)[0]
    assert order.status is OrderStatus.FILLED
    assert order.filled_avg_price == round_to_tick(bar_open * Decimal("1.0001"), "up")
    assert order.filled_avg_price is not None
    assert order.filled_avg_price > bar_open


def test_limit_buy_fills_when_a_later_bar_trades_through_it() -> None:
    exchange, clock = _exchange()
    symbol = _symbols(exchange)[0]
    low = min(_bar(exchange, symbol, i)[2] for i in range(1, 60))
    first_hit = next(i for i in range(1, 60) if _bar(exchange, symbol, i)[2] <= low)
    clock.advance_to(OPEN + timedelta(seconds=30))  # bar 0 is not eligible any more
    order = exchange.submit(_buy("c1", symbol, 3, type=OrderType.LIMIT, limit_price=low))
    assert order.status is OrderStatus.NEW
    clock.advance_to(OPEN + timedelta(minutes=first_hit, seconds=59))
    assert _refresh(exchange, "c1").status is OrderStatus.NEW  # that bar has not completed yet
    clock.advance_to(OPEN + timedelta(minutes=first_hit + 1))
    filled = _refresh(exchange, "c1")
    assert filled.status is OrderStatus.FILLED
    assert filled.filled_avg_price == min(low, _bar(exchange, symbol, first_hit)[0])
    assert exchange.fills[-1].timestamp == OPEN + timedelta(minutes=first_hit + 1)


def _bracket_at_open(
    exchange: SimExchange, symbol: str, target: Decimal, stop: Decimal, qty: int = 10
) -> Order:
    return exchange.submit(
        _buy("b1", symbol, qty, bracket=BracketSpec(take_profit_limit=target, stop_loss_stop=stop))
    )


def test_bracket_entry_fill_activates_held_legs_sized_to_the_fill() -> None:
    exchange, clock = _exchange(OPEN - timedelta(minutes=10))
    symbol = _symbols(exchange)[0]
    price = exchange.market.price_at(symbol, clock.now())
    assert price is not None
    order = _bracket_at_open(exchange, symbol, price * 2, round_to_tick(price / 2))
    assert order.status is OrderStatus.ACCEPTED
    assert {leg.status for leg in order.legs} == {OrderStatus.HELD}
    clock.advance_to(OPEN)
    live = _refresh(exchange, "b1")
    assert live.status is OrderStatus.FILLED
    assert {leg.status for leg in live.legs} == {OrderStatus.NEW}
    assert {leg.qty for leg in live.legs} == {10}


def test_bracket_target_hit_fills_take_profit_and_cancels_stop() -> None:
    exchange, clock = _exchange()
    for symbol in _symbols(exchange):
        entry_base = _bar(exchange, symbol, 0)[0]
        highs = [_bar(exchange, symbol, i)[1] for i in range(60)]
        target = max(highs)
        hit = highs.index(target)
        stop = min(_bar(exchange, symbol, i)[2] for i in range(hit + 1)) - 5 * CENT
        if target >= entry_base + CENT and 0 < stop <= entry_base - CENT:
            break
    else:
        pytest.fail("no symbol suits the scenario")
    _bracket_at_open(exchange, symbol, target, stop)
    clock.advance_to(OPEN + timedelta(minutes=hit + 1))
    order = _refresh(exchange, "b1")
    assert _leg(order, "-tp").status is OrderStatus.FILLED
    assert _leg(order, "-tp").filled_avg_price == max(target, _bar(exchange, symbol, hit)[0])
    assert _leg(order, "-sl").status is OrderStatus.CANCELED
    assert exchange.positions() == []


def test_bracket_stop_hit_fills_stop_loss_and_cancels_target() -> None:
    exchange, clock = _exchange()
    for symbol in _symbols(exchange):
        entry_base = _bar(exchange, symbol, 0)[0]
        lows = [_bar(exchange, symbol, i)[2] for i in range(60)]
        stop = min(lows)
        hit = lows.index(stop)
        target = max(_bar(exchange, symbol, i)[1] for i in range(hit + 1)) + 5 * CENT
        if stop <= entry_base - CENT:
            break
    else:
        pytest.fail("no symbol suits the scenario")
    _bracket_at_open(exchange, symbol, target, stop)
    clock.advance_to(OPEN + timedelta(minutes=hit + 1))
    order = _refresh(exchange, "b1")
    assert _leg(order, "-sl").status is OrderStatus.FILLED
    assert _leg(order, "-sl").filled_avg_price == min(stop, _bar(exchange, symbol, hit)[0])
    assert _leg(order, "-tp").status is OrderStatus.CANCELED


def test_bracket_stop_fills_first_when_stop_and_target_trade_in_the_same_minute() -> None:
    exchange, clock = _exchange(n=300)
    for symbol in _symbols(exchange):
        bar_open, high, low, _ = _bar(exchange, symbol, 0)
        if low <= bar_open - CENT and high >= bar_open + CENT:
            break
    else:
        pytest.fail("no symbol with a wide first minute")
    _bracket_at_open(exchange, symbol, bar_open + CENT, bar_open - CENT)
    clock.advance_to(OPEN + timedelta(minutes=1))
    order = _refresh(exchange, "b1")
    assert _leg(order, "-sl").status is OrderStatus.FILLED
    assert _leg(order, "-tp").status is OrderStatus.CANCELED


def test_stop_that_gaps_fills_at_the_worse_bar_open() -> None:
    exchange, clock = _exchange()
    symbol = _symbols(exchange, 20, 300)[0]
    stop = min(_bar(exchange, symbol, i)[2] for i in range(20)) - 5 * CENT
    _bracket_at_open(exchange, symbol, _bar(exchange, symbol, 0)[0] * 2, stop)
    exchange.shock(OPEN + timedelta(minutes=20), -0.15)
    clock.advance_to(OPEN + timedelta(minutes=21))
    gapped_open = _bar(exchange, symbol, 20)[0]
    assert gapped_open < stop
    stop_leg = _leg(_refresh(exchange, "b1"), "-sl")
    assert stop_leg.status is OrderStatus.FILLED
    assert stop_leg.filled_avg_price == gapped_open


def test_canceling_a_bracket_parent_cancels_its_legs() -> None:
    exchange, _ = _exchange()
    symbol = _symbols(exchange)[0]
    price = exchange.market.price_at(symbol, OPEN)
    assert price is not None
    limit = round_to_tick(price * Decimal("0.5"))
    order = exchange.submit(
        _buy(
            "b1",
            symbol,
            5,
            type=OrderType.LIMIT,
            limit_price=limit,
            bracket=BracketSpec(price * 2, round_to_tick(limit * Decimal("0.9"))),
        )
    )
    assert [leg.status for leg in order.legs] == [OrderStatus.HELD, OrderStatus.HELD]
    exchange.cancel(order.id)
    canceled = _refresh(exchange, "b1")
    assert canceled.status is OrderStatus.CANCELED
    assert [leg.status for leg in canceled.legs] == [OrderStatus.CANCELED] * 2
    assert exchange.open_orders() == []
    exchange.cancel(order.id)  # already final: a no-op


def test_cancel_of_an_unknown_order_raises_not_found() -> None:
    exchange, _ = _exchange()
    with pytest.raises(NotFound):
        exchange.cancel("no-such-order")


def test_open_orders_list_a_filled_bracket_through_its_parent_with_live_legs() -> None:
    exchange, _ = _exchange()
    symbol = _symbols(exchange)[0]
    price = exchange.market.price_at(symbol, OPEN)
    assert price is not None
    _bracket_at_open(exchange, symbol, price * 2, round_to_tick(price / 2))
    (listed,) = exchange.open_orders()
    assert listed.status is OrderStatus.FILLED
    assert {leg.status for leg in listed.legs} == {OrderStatus.NEW}
    leg = exchange.order_by_client_id("b1-sl")
    assert leg is not None
    assert leg.stop_price == round_to_tick(price / 2)


def test_close_position_cancels_the_symbols_legs_first_and_flattens() -> None:
    exchange, clock = _exchange()
    symbol = _symbols(exchange)[0]
    price = exchange.market.price_at(symbol, OPEN)
    assert price is not None
    _bracket_at_open(exchange, symbol, price * 2, round_to_tick(price / 2))
    clock.advance_to(OPEN + timedelta(minutes=5, seconds=30))
    close = exchange.close_position(symbol, "x1")
    assert close.status is OrderStatus.FILLED
    assert close.side is Side.SELL
    assert close.filled_qty == 10
    order = _refresh(exchange, "b1")
    assert {leg.status for leg in order.legs} == {OrderStatus.CANCELED}
    assert exchange.positions() == []
    assert exchange.open_orders() == []
    with pytest.raises(NotFound):
        exchange.close_position(symbol, "x2")


def test_cancel_all_cancels_every_open_order_and_leg() -> None:
    exchange, _ = _exchange()
    first, second = _symbols(exchange)[:2]
    price = exchange.market.price_at(first, OPEN)
    assert price is not None
    _bracket_at_open(exchange, first, price * 2, round_to_tick(price / 2))
    exchange.submit(_buy("l1", second, 1, type=OrderType.LIMIT, limit_price=Decimal("1.00")))
    exchange.cancel_all()
    assert exchange.open_orders() == []


# ----------------------------------------------------------------------------- partial fills


def test_partial_fill_mode_fills_a_market_order_in_two_pieces_across_two_minutes() -> None:
    exchange, clock = _exchange(OPEN + timedelta(seconds=20))
    symbol = _symbols(exchange)[0]
    exchange = SimExchange(exchange.feed, Decimal("100000"), clock, partial_fill_symbols=[symbol])
    seen: list[Fill] = []
    exchange.add_fill_listener(seen.append)
    price = exchange.market.price_at(symbol, clock.now())
    assert price is not None
    order = exchange.submit(
        _buy("b1", symbol, 11, bracket=BracketSpec(price * 2, round_to_tick(price / 2)))
    )
    assert order.status is OrderStatus.PARTIALLY_FILLED
    assert order.filled_qty == 5
    assert {leg.status for leg in order.legs} == {OrderStatus.HELD}
    clock.advance_to(OPEN + timedelta(minutes=1))
    done = _refresh(exchange, "b1")
    assert done.status is OrderStatus.FILLED
    assert [fill.qty for fill in seen] == [5, 6]
    assert seen[1].price == round_to_tick(_bar(exchange, symbol, 1)[0] * Decimal("1.0001"), "up")
    assert {leg.qty for leg in done.legs} == {11}
    assert {leg.status for leg in done.legs} == {OrderStatus.NEW}
    assert exchange.fills_since(1) == seen[1:]


# ------------------------------------------------------------------- sessions and accounting


def test_day_order_after_the_close_stays_accepted_until_the_next_open() -> None:
    exchange, clock = _exchange(CLOSE + timedelta(minutes=30))
    symbol = _symbols(exchange)[0]
    order = exchange.submit(_buy("late", symbol, 4))
    assert order.status is OrderStatus.ACCEPTED
    clock.advance_to(NEXT_OPEN - timedelta(minutes=15))
    assert _refresh(exchange, "late").status is OrderStatus.ACCEPTED
    assert not exchange.fills
    clock.advance_to(NEXT_OPEN)
    filled = _refresh(exchange, "late")
    assert filled.status is OrderStatus.FILLED
    assert exchange.market.session.day == date(2026, 11, 25)
    assert exchange.fills[0].timestamp == NEXT_OPEN
    next_open_price = _bar(exchange, symbol, 0)[0]
    assert exchange.fills[0].price == round_to_tick(next_open_price * Decimal("1.0001"), "up")


def test_rollover_expires_day_orders_and_sets_last_equity_to_the_previous_close() -> None:
    exchange, clock = _exchange()
    held, resting = _symbols(exchange)[:2]
    exchange.submit(_buy("b1", held, 20))
    exchange.submit(_buy("l1", resting, 1, type=OrderType.LIMIT, limit_price=Decimal("1.00")))
    clock.advance_to(CLOSE)
    assert _refresh(exchange, "l1").status is OrderStatus.EXPIRED
    closing_equity = exchange.account().equity
    column = exchange.market.universe.index[held]
    assert closing_equity == exchange.account().cash + 20 * price_from_float(
        float(exchange.market.close[-1, column])
    )
    assert exchange.account().last_equity == Decimal("100000")
    clock.advance_to(NEXT_OPEN + timedelta(hours=1))
    assert exchange.account().last_equity == closing_equity
    assert exchange.market.daily_bars([held], 1)[held][0].close == price_from_float(
        float(exchange.feed.recent_markets()[0].close[-1, column])
    )


def test_rollover_skips_holidays_to_the_next_session() -> None:
    exchange, clock = _exchange()
    clock.advance_to(datetime(2026, 11, 26, 16, 0, tzinfo=UTC))  # Thanksgiving
    assert exchange.account().equity == Decimal("100000")
    assert exchange.market.session.day == date(2026, 11, 25)
    clock.advance_to(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    assert exchange.market.session.day == date(2026, 11, 27)
    assert exchange.market.minutes == 210


def test_shock_makes_equity_and_day_pnl_drop() -> None:
    exchange, clock = _exchange()
    symbol = _symbols(exchange, 50, 300)[0]
    exchange.submit(_buy("b1", symbol, 100))
    clock.advance_to(OPEN + timedelta(minutes=59))
    before = exchange.account()
    exchange.shock(OPEN + timedelta(minutes=60), -0.2)
    clock.advance_to(OPEN + timedelta(minutes=60))
    after = exchange.account()
    position = exchange.positions()[0]
    assert after.equity < before.equity - Decimal("0.15") * position.market_value
    assert after.day_pnl < 0


def test_shocking_an_already_processed_minute_is_refused() -> None:
    exchange, clock = _exchange()
    clock.advance_to(OPEN + timedelta(minutes=10))
    exchange.sync()
    with pytest.raises(ValueError, match="already processed"):
        exchange.shock(OPEN + timedelta(minutes=5), -0.1)


def test_order_ids_are_deterministic_across_runs() -> None:
    ids = []
    for _ in range(2):
        exchange, _ = _exchange()
        ids.append(exchange.submit(_buy("c1", _symbols(exchange)[0], 1)).id)
    assert ids[0] == ids[1]


_OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(["buy", "limit", "sell", "close", "wait"]),
        st.integers(min_value=0, max_value=5),  # symbol index
        st.integers(min_value=1, max_value=400),  # quantity
        st.integers(min_value=0, max_value=120),  # minutes to wait
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(operations=_OPERATIONS)
def test_cash_and_positions_always_match_the_fills_and_cash_never_goes_negative(
    operations: list[tuple[str, int, int, int]],
) -> None:
    exchange, clock = _exchange(OPEN - timedelta(minutes=5), n=20, cash=Decimal("20000"))
    symbols = _symbols(exchange, 1, 400)[:6]
    for step, (kind, index, qty, wait) in enumerate(operations):
        symbol = symbols[index % len(symbols)]
        cid = f"op-{step}"
        try:
            if kind == "buy":
                exchange.submit(_buy(cid, symbol, qty))
            elif kind == "limit":
                price = exchange.market.price_at(symbol, clock.now())
                assert price is not None
                limit = round_to_tick(price * Decimal("0.995"))
                exchange.submit(_buy(cid, symbol, qty, type=OrderType.LIMIT, limit_price=limit))
            elif kind == "sell":
                exchange.submit(OrderRequest(cid, symbol, Side.SELL, qty))
            elif kind == "close":
                exchange.close_position(symbol, cid)
        except (OrderRejected, NotFound):
            pass
        clock.advance_to(clock.now() + timedelta(minutes=wait))
        _check_books(exchange, Decimal("20000"))


def _check_books(exchange: SimExchange, starting_cash: Decimal) -> None:
    account = exchange.account()
    cash = starting_cash
    shares: dict[str, int] = {}
    for fill in exchange.fills:
        sign = 1 if fill.side is Side.BUY else -1
        cash -= sign * fill.qty * fill.price
        shares[fill.symbol] = shares.get(fill.symbol, 0) + sign * fill.qty
    positions = exchange.positions()
    assert account.cash == cash
    assert account.cash >= 0
    assert 0 <= account.buying_power <= account.cash
    assert {p.symbol: p.qty for p in positions} == {s: q for s, q in shares.items() if q}
    assert all(p.qty > 0 for p in positions)
    assert account.equity == account.cash + sum((p.market_value for p in positions), Decimal(0))


def test_queued_market_buy_that_cash_cannot_pay_at_the_open_is_rejected_not_overdrawn() -> None:
    exchange, clock = _exchange(CLOSE + timedelta(minutes=30), cash=Decimal("10000"))
    symbol = _symbols(exchange, 20, 300)[0]
    price = exchange.market.price_at(symbol, clock.now())
    assert price is not None
    qty = int(Decimal("10000") / round_to_tick(price * Decimal("1.03"), "up"))
    exchange.submit(_buy("late", symbol, qty))
    exchange.shock(NEXT_OPEN - timedelta(minutes=30), 0.25)  # overnight news: +25 % at the open
    clock.advance_to(NEXT_OPEN + timedelta(minutes=1))
    assert _refresh(exchange, "late").status is OrderStatus.REJECTED
    assert not exchange.fills
    assert exchange.account().cash == Decimal("10000")
