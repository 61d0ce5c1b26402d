"""Fill-price rules of the matching engine, as pure functions."""

from __future__ import annotations

from decimal import Decimal

from catalyst.domain.models import OrderType, Side
from catalyst.domain.ticks import tick_size
from catalyst.sim.orders import SimOrder
from catalyst.sim.ticks import round_to_tick

SLIPPAGE = Decimal("0.0001")  # 1 bp against every market fill, before rounding to the tick


def slipped_price(price: Decimal, side: Side) -> Decimal:
    """`price` moved 1 bp against the order and rounded to the tick against it."""
    if side is Side.BUY:
        return round_to_tick(price * (1 + SLIPPAGE), "up")
    return max(round_to_tick(price * (1 - SLIPPAGE), "down"), tick_size(price))


def trigger_price(
    order: SimOrder, bar_open: Decimal, high: Decimal, low: Decimal
) -> Decimal | None:
    """The fill price if `order` trades in a bar with this open, high and low, else None."""
    if order.type is OrderType.LIMIT and order.limit_price is not None:
        limit = order.limit_price
        if order.side is Side.BUY and low <= limit:
            return min(limit, bar_open)
        if order.side is Side.SELL and high >= limit:
            return max(limit, bar_open)
    if order.type is OrderType.STOP and order.stop_price is not None:
        stop = order.stop_price
        if order.side is Side.SELL and low <= stop:
            return min(stop, bar_open)
        if order.side is Side.BUY and high >= stop:
            return max(stop, bar_open)
    return None
