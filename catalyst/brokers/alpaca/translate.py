"""Alpaca payloads (alpaca-py models and raw JSON) into Catalyst's domain objects, and back.

Pure functions only: no I/O, no clock. Money goes through `Decimal(str(x))` so a JSON float such as
`161.19` becomes exactly `Decimal("161.19")`. Quantities are whole shares: a fractional quantity
(possible only for orders placed outside Catalyst) is truncated toward zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from typing import Any

from alpaca.trading.enums import OrderSide as AlpacaSide
from alpaca.trading.enums import TimeInForce
from alpaca.trading.models import Calendar as AlpacaCalendar
from alpaca.trading.models import Order as AlpacaOrder
from alpaca.trading.models import Position as AlpacaPosition
from alpaca.trading.models import TradeAccount, TradeUpdate
from alpaca.trading.requests import (
    LimitOrderRequest,
    MarketOrderRequest,
    StopLimitOrderRequest,
    StopLossRequest,
    StopOrderRequest,
    TakeProfitRequest,
)
from alpaca.trading.requests import OrderRequest as AlpacaOrderRequest

from catalyst.domain.errors import OrderRejected
from catalyst.domain.exchange import EXCHANGE_TZ
from catalyst.domain.models import (
    FILL_EVENT_KINDS,
    Account,
    Asset,
    Bar,
    Fill,
    LegRole,
    NewsItem,
    Order,
    OrderClass,
    OrderEvent,
    OrderEventKind,
    OrderRequest,
    OrderStatus,
    OrderType,
    Position,
    Side,
    Snapshot,
    TradingSession,
)
from catalyst.domain.ticks import round_down_to_tick, round_up_to_tick

_REGULAR_CLOSE = time(16, 0)

# Alpaca has more states than Catalyst; each maps to the Catalyst state that makes the daemon act
# safely. Transitional states stay open (reconciliation must keep watching them); states after
# which the order will not trade again today are final.
_STATUS = {
    "new": OrderStatus.NEW,
    "pending_new": OrderStatus.ACCEPTED,
    "accepted": OrderStatus.ACCEPTED,
    "accepted_for_bidding": OrderStatus.ACCEPTED,
    "pending_review": OrderStatus.ACCEPTED,
    "held": OrderStatus.HELD,
    "suspended": OrderStatus.HELD,  # not eligible to trade now, may resume: still open
    "partially_filled": OrderStatus.PARTIALLY_FILLED,
    "filled": OrderStatus.FILLED,
    "canceled": OrderStatus.CANCELED,
    "replaced": OrderStatus.CANCELED,  # superseded by another order (that one is tracked)
    "expired": OrderStatus.EXPIRED,
    "done_for_day": OrderStatus.EXPIRED,  # no more executions today: final for an intraday bot
    "rejected": OrderStatus.REJECTED,
}
# Still working at the exchange; reported as NEW, or PARTIALLY_FILLED once something filled.
_WORKING = frozenset({"pending_cancel", "pending_replace", "stopped"})

_TYPE = {
    "market": OrderType.MARKET,
    "limit": OrderType.LIMIT,
    "stop": OrderType.STOP,
    "stop_limit": OrderType.STOP_LIMIT,
    "trailing_stop": OrderType.STOP,  # a stop whose price moves; only ever placed outside Catalyst
}


# ------------------------------------------------------------------------------------ helpers


def to_decimal(value: object) -> Decimal | None:
    """A Decimal from an Alpaca number or numeric string; None for null, empty or non-numeric."""
    if value is None or value == "":
        return None
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        return None
    return result if result.is_finite() else None


def _money(value: object, default: Decimal = Decimal(0)) -> Decimal:
    result = to_decimal(value)
    return default if result is None else result


def whole_shares(value: object) -> int:
    """Whole shares from an Alpaca quantity ("10", 10.0, "-3"), truncated toward zero."""
    result = to_decimal(value)
    return 0 if result is None else int(result)


def _enum_value(value: object) -> str:
    raw = getattr(value, "value", value)
    return str(raw) if raw is not None else ""


def parse_timestamp(value: object) -> datetime:
    """An aware UTC datetime from an RFC 3339 string (9-digit fractions allowed) or datetime."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip().replace("Z", "+00:00")
        # Python 3.11 parses at most 6 fractional digits: trim nanoseconds.
        if "." in text:
            head, _, tail = text.partition(".")
            count = next((i for i, ch in enumerate(tail) if not ch.isdigit()), len(tail))
            digits, zone = tail[:count], tail[count:]
            text = f"{head}.{digits[:6].ljust(6, '0')}{zone}"
        parsed = datetime.fromisoformat(text)
    else:
        raise ValueError(f"not a timestamp: {value!r}")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


# ----------------------------------------------------------------------------------- account


def account_from_alpaca(account: TradeAccount) -> Account:
    """Catalyst `Account` from Alpaca's; any block flag counts as trading blocked."""
    equity = _money(account.equity)
    return Account(
        equity=equity,
        last_equity=_money(account.last_equity, equity),
        cash=_money(account.cash),
        buying_power=_money(account.buying_power),
        trading_blocked=bool(
            account.trading_blocked or account.account_blocked or account.trade_suspended_by_user
        ),
        account_number=account.account_number or str(account.id),
    )


def session_from_alpaca(day: date, calendar: list[AlpacaCalendar]) -> TradingSession | None:
    """The session on `day` from a `/v2/calendar` answer; None when `day` is not listed."""
    for entry in calendar:
        if entry.date != day:
            continue
        # alpaca-py parses "HH:MM" into a naive datetime: it is New York wall time.
        opens = _new_york(entry.open)
        closes = _new_york(entry.close)
        return TradingSession(
            day=day, open=opens, close=closes, early_close=closes.time() < _REGULAR_CLOSE
        )
    return None


def _new_york(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value.replace(tzinfo=EXCHANGE_TZ)
    return value.astimezone(EXCHANGE_TZ)


def asset_from_json(raw: Mapping[str, Any]) -> Asset | None:
    """Catalyst `Asset` from one raw `/v2/assets` item; None for anything but an active equity.

    Alpaca has no sector; a `sector` key (the fake server may send one) is used when present.
    """
    if raw.get("class", "us_equity") != "us_equity" or raw.get("status", "active") != "active":
        return None
    symbol = raw.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        return None
    sector = raw.get("sector")
    return Asset(
        symbol=symbol,
        name=str(raw.get("name") or ""),
        exchange=str(raw.get("exchange") or ""),
        sector=sector if isinstance(sector, str) and sector else None,
        tradable=bool(raw.get("tradable", False)),
        shortable=bool(raw.get("shortable", False)),
        fractionable=bool(raw.get("fractionable", False)),
    )


def position_from_alpaca(position: AlpacaPosition) -> Position:
    """Catalyst `Position` (negative qty for a short) from Alpaca's."""
    qty = abs(whole_shares(position.qty))
    if _enum_value(position.side) == "short":
        qty = -qty
    entry = _money(position.avg_entry_price)
    return Position(
        symbol=position.symbol,
        qty=qty,
        avg_entry_price=entry,
        current_price=_money(position.current_price, entry),
    )


# ------------------------------------------------------------------------------------ orders


def order_from_alpaca(order: AlpacaOrder, *, parent: AlpacaOrder | None = None) -> Order:
    """Catalyst `Order` from Alpaca's, with bracket legs nested and each leg's role named."""
    type_ = _TYPE.get(_enum_value(order.type or order.order_type), OrderType.MARKET)
    side = Side(_enum_value(order.side) or "buy")
    filled_qty = whole_shares(order.filled_qty)
    raw_status = _enum_value(order.status)
    if raw_status in _WORKING:
        status = OrderStatus.PARTIALLY_FILLED if filled_qty > 0 else OrderStatus.NEW
    else:
        status = _STATUS.get(raw_status, OrderStatus.NEW)  # unknown: keep watching it
    order_class = (
        OrderClass.BRACKET
        if _enum_value(order.order_class) == "bracket" or (parent is not None)
        else OrderClass.SIMPLE
    )
    legs = tuple(order_from_alpaca(leg, parent=order) for leg in (order.legs or ()))
    submitted = order.submitted_at or order.created_at
    filled_avg = to_decimal(order.filled_avg_price)
    return Order(
        id=str(order.id),
        client_order_id=order.client_order_id,
        symbol=order.symbol or "",
        side=side,
        qty=whole_shares(order.qty),
        filled_qty=filled_qty,
        type=type_,
        status=status,
        order_class=order_class,
        submitted_at=parse_timestamp(submitted),
        filled_avg_price=filled_avg if filled_avg else None,  # Alpaca sends 0 before a fill
        limit_price=to_decimal(order.limit_price),
        stop_price=to_decimal(order.stop_price),
        role=_role(side, type_, parent),
        legs=legs,
    )


def _role(side: Side, type_: OrderType, parent: AlpacaOrder | None) -> LegRole:
    if parent is None:
        # Catalyst only opens longs: a standalone sell is an exit (as the simulator reports it).
        return LegRole.ENTRY if side is Side.BUY else LegRole.EXIT
    return LegRole.TAKE_PROFIT if type_ is OrderType.LIMIT else LegRole.STOP_LOSS


def fill_from_json(raw: Mapping[str, Any], client_order_id: str) -> Fill:
    """Catalyst `Fill` from one `/v2/account/activities/FILL` item (per-fill qty, not cum_qty)."""
    return Fill(
        order_id=str(raw["order_id"]),
        client_order_id=client_order_id,
        symbol=str(raw["symbol"]),
        side=Side(str(raw["side"]).lower().removesuffix("_short")),  # "sell_short" is a sell
        qty=abs(whole_shares(raw["qty"])),
        price=_money(raw["price"]),
        timestamp=parse_timestamp(raw["transaction_time"]),
    )


def order_event_from_trade_update(update: TradeUpdate) -> OrderEvent:
    """Catalyst `OrderEvent` from one `trade_updates` message (alpaca-py's parsed model).

    A fill or partial_fill carries the update's own `qty` and `price` (this execution), never
    the order's cumulative `filled_qty`. Raises ValueError for a fill event without a positive
    quantity or a price: better dropped (reconciliation still sees the fill) than journaled wrong.
    """
    kind = OrderEventKind(_enum_value(update.event))
    order = order_from_alpaca(update.order)
    at = parse_timestamp(update.timestamp)
    fill: Fill | None = None
    if kind in FILL_EVENT_KINDS:
        qty = abs(whole_shares(update.qty))
        price = to_decimal(update.price)
        if qty <= 0 or price is None or price <= 0:
            raise ValueError(f"{kind} event for order {order.id} without qty or price")
        fill = Fill(
            order_id=order.id,
            client_order_id=order.client_order_id,
            symbol=order.symbol,
            side=order.side,
            qty=qty,
            price=price,
            timestamp=at,
        )
    return OrderEvent(kind=kind, order=order, timestamp=at, fill=fill)


def order_event_from_activity(raw: Mapping[str, Any], fill: Fill, current: Order) -> OrderEvent:
    """A fill event from one polled FILL activity and its order as the broker reports it now.

    The order is set back to how it stood right after this fill (status and `cum_qty` from the
    activity), so a late poll does not report an earlier fill as the one that completed it.
    """
    cum = whole_shares(raw.get("cum_qty")) or current.filled_qty
    leaves = raw.get("leaves_qty")
    kind = OrderEventKind(str(raw.get("type") or ""))
    if kind not in FILL_EVENT_KINDS:
        done = whole_shares(leaves) == 0 if leaves is not None else cum >= current.qty
        kind = OrderEventKind.FILL if done else OrderEventKind.PARTIAL_FILL
    status = OrderStatus.FILLED if kind is OrderEventKind.FILL else OrderStatus.PARTIALLY_FILLED
    average = current.filled_avg_price if cum == current.filled_qty else None
    order = replace(current, status=status, filled_qty=cum, filled_avg_price=average)
    return OrderEvent(kind=kind, order=order, timestamp=fill.timestamp, fill=fill)


def order_request_to_alpaca(request: OrderRequest) -> AlpacaOrderRequest:
    """The alpaca-py request for `request`: whole shares, valid ticks, day orders, checked bracket.

    Prices are moved onto valid ticks in the direction that never makes the order more
    aggressive or the protection weaker than asked: a buy limit rounds down and a sell limit up;
    a long's take-profit rounds up and its stop down (the reverse for a short). Raises
    `OrderRejected` locally (nothing is sent) for a bracket whose prices are in the wrong order.
    """
    cid = request.client_order_id
    if request.time_in_force != "day":
        raise OrderRejected(cid, f"only day orders are placed, got {request.time_in_force!r}")
    buy = request.side is Side.BUY
    limit = _tick(request.limit_price, down=buy)
    stop = _tick(request.stop_price, down=not buy)
    common: dict[str, Any] = {
        "symbol": request.symbol,
        "qty": request.qty,
        "side": AlpacaSide.BUY if buy else AlpacaSide.SELL,
        "time_in_force": TimeInForce.DAY,
        "client_order_id": cid,
    }
    if request.bracket is not None:
        take_profit = _tick_price(request.bracket.take_profit_limit, down=not buy)
        stop_loss = _tick_price(request.bracket.stop_loss_stop, down=buy)
        _check_bracket(cid, buy, stop_loss, limit, take_profit)
        common |= {
            "order_class": "bracket",
            "take_profit": TakeProfitRequest(limit_price=float(take_profit)),
            "stop_loss": StopLossRequest(stop_price=float(stop_loss)),
        }
    if request.type is OrderType.MARKET:
        return MarketOrderRequest(**common)
    if request.type is OrderType.LIMIT:
        return LimitOrderRequest(limit_price=_required(cid, "limit_price", limit), **common)
    if request.type is OrderType.STOP:
        return StopOrderRequest(stop_price=_required(cid, "stop_price", stop), **common)
    return StopLimitOrderRequest(
        limit_price=_required(cid, "limit_price", limit),
        stop_price=_required(cid, "stop_price", stop),
        **common,
    )


def _tick(price: Decimal | None, *, down: bool) -> Decimal | None:
    return None if price is None else _tick_price(price, down=down)


def _tick_price(price: Decimal, *, down: bool) -> Decimal:
    if not price.is_finite() or price <= 0:
        raise ValueError(f"price must be positive and finite, got {price}")
    return round_down_to_tick(price) if down else round_up_to_tick(price)


def _required(cid: str, name: str, price: Decimal | None) -> float:
    if price is None:
        raise OrderRejected(cid, f"{name} is required for this order type")
    return float(price)


def _check_bracket(
    cid: str, buy: bool, stop: Decimal, entry: Decimal | None, target: Decimal
) -> None:
    # Alpaca answers 422 for these too; checking first keeps the reason clear and saves a call.
    low, high = (stop, target) if buy else (target, stop)
    if not low < high:
        side = "buy" if buy else "sell"
        raise OrderRejected(
            cid, f"bracket {side}: stop {stop} and take-profit {target} are on the wrong sides"
        )
    if entry is not None and not low < entry < high:
        raise OrderRejected(
            cid, f"bracket entry {entry} must lie between stop {stop} and take-profit {target}"
        )


# ------------------------------------------------------------------------------- market data


def bar_from_json(symbol: str, raw: Mapping[str, Any]) -> Bar:
    """Catalyst `Bar` from one raw Alpaca bar (`t, o, h, l, c, v, vw`)."""
    return Bar(
        symbol=symbol,
        timestamp=parse_timestamp(raw["t"]),
        open=_money(raw["o"]),
        high=_money(raw["h"]),
        low=_money(raw["l"]),
        close=_money(raw["c"]),
        volume=whole_shares(raw["v"]),
        vwap=to_decimal(raw.get("vw")),
    )


def snapshot_from_json(symbol: str, raw: Mapping[str, Any] | None, today: date) -> Snapshot | None:
    """Catalyst `Snapshot` from one raw `/v2/stocks/snapshots` entry; None if data is missing.

    `today` is the exchange (New York) date of the asking instant. Until the session opens
    Alpaca has no bar for today: `dailyBar` is then the latest completed session's bar and
    `prevDailyBar` the one before. So when `dailyBar`'s exchange date is before `today`, it gives
    the previous close and volume, the day's open, high, low and volume are 0 (no session yet),
    and the last price is the latest trade (pre-market, or yesterday's close if nothing traded).
    When it is today's, `prevDailyBar` gives the previous close and volume, and the snapshot is
    skipped without one. Without a latest trade or a daily bar there is no snapshot either.
    """
    if not raw:
        return None
    trade, daily = raw.get("latestTrade"), raw.get("dailyBar")
    if not trade or not daily:
        return None
    last = to_decimal(trade.get("p"))
    if last is None or last <= 0:
        return None
    try:
        traded_at = parse_timestamp(trade.get("t"))
        daily_date = parse_timestamp(daily.get("t")).astimezone(EXCHANGE_TZ).date()
    except ValueError:
        return None
    if daily_date < today:  # before the open: dailyBar is the previous session
        previous: Mapping[str, Any] = daily
        session: tuple[object, object, object, object] = (0, 0, 0, 0)
    else:
        previous = raw.get("prevDailyBar") or {}
        if not previous:
            return None
        session = (daily.get("o"), daily.get("h"), daily.get("l"), daily.get("v"))
    quote = raw.get("latestQuote") or {}
    day_open, day_high, day_low, day_volume = session
    return Snapshot(
        symbol=symbol,
        timestamp=traded_at,
        last_price=last,
        day_open=_money(day_open),
        day_high=_money(day_high),
        day_low=_money(day_low),
        day_volume=whole_shares(day_volume),
        prev_close=_money(previous.get("c")),
        prev_volume=whole_shares(previous.get("v")),
        bid=_positive(quote.get("bp")),
        ask=_positive(quote.get("ap")),
    )


def _positive(value: object) -> Decimal | None:
    result = to_decimal(value)
    return result if result is not None and result > 0 else None


def news_from_json(raw: Mapping[str, Any]) -> NewsItem:
    """Catalyst `NewsItem` from one raw `/v1beta1/news` item."""
    return NewsItem(
        id=str(raw["id"]),
        headline=str(raw.get("headline") or ""),
        symbols=tuple(str(s) for s in raw.get("symbols") or ()),
        created_at=parse_timestamp(raw["created_at"]),
        source=str(raw.get("source") or ""),
    )


def rfc3339(when: datetime) -> str:
    """`when` as RFC 3339 UTC with a `Z` (what Alpaca's query parameters expect)."""
    if when.tzinfo is None:
        raise ValueError(f"timestamps sent to Alpaca must be aware, got {when!r}")
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
