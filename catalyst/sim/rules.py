"""Alpaca's order-acceptance rules, as one pure function the exchange simulator calls on submit.

Rejections raise Catalyst's own error classes with the messages Alpaca's order endpoint
answers with (as documented in Alpaca's API reference).
Limits of this simulated account, on purpose:
- a cash account: buying power is cash minus what open buy orders reserve, no margin;
- long only: selling more than held is refused ("account is not allowed to short");
- whole shares, `day`/`gtc` only, no extended hours, no stop-limit orders.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from catalyst.domain.errors import InsufficientBuyingPower, OrderRejected
from catalyst.domain.models import Asset, BracketSpec, OrderRequest, OrderType, Side
from catalyst.domain.ticks import PENNY
from catalyst.sim.ticks import round_to_tick, sub_penny_reason

# Alpaca checks a market buy against a price 2.5-4 % above the market; we reserve +3 %.
MARKET_BUY_MARKUP = Decimal("1.03")
SUPPORTED_TIME_IN_FORCE = frozenset({"day", "gtc"})


@dataclass(frozen=True, slots=True)
class OrderContext:
    """What the exchange knows about the account and symbol when an order arrives."""

    asset: Asset | None
    last_price: Decimal | None
    position_qty: int  # shares held now
    committed_sell_qty: int  # shares already promised to open sell orders (an OCO pair once)
    buying_power: Decimal


def check_order(request: OrderRequest, context: OrderContext) -> Decimal:
    """Accept `request` or raise `OrderRejected`/`InsufficientBuyingPower`.

    Returns the per-share price a buy reserves from buying power (0 for sells).
    """
    cid = request.client_order_id
    asset = context.asset
    if asset is None or context.last_price is None:
        raise OrderRejected(cid, f"asset {request.symbol} not found")
    if not asset.tradable:
        raise OrderRejected(cid, f"asset {request.symbol} is not tradable")
    if request.qty <= 0:
        raise OrderRejected(cid, "qty must be > 0")
    if request.time_in_force not in SUPPORTED_TIME_IN_FORCE:
        raise OrderRejected(cid, f"time_in_force {request.time_in_force} is not supported")
    _check_prices(request)
    if request.bracket is not None:
        _check_bracket(request, request.bracket, context.last_price, context.position_qty)
    if request.side is Side.SELL:
        _check_sell(request, context)
        return Decimal(0)
    reserve = _reserve_price(request, context.last_price)
    if reserve * request.qty > context.buying_power:
        raise InsufficientBuyingPower(cid, "insufficient buying power")
    return reserve


def _check_prices(request: OrderRequest) -> None:
    cid = request.client_order_id
    if request.type is OrderType.STOP_LIMIT:
        raise OrderRejected(cid, "order type stop_limit is not supported by the simulator")
    if request.type is OrderType.LIMIT and request.limit_price is None:
        raise OrderRejected(cid, "limit_price is required for limit orders")
    if request.type is OrderType.STOP and request.stop_price is None:
        raise OrderRejected(cid, "stop_price is required for stop orders")
    if request.type is OrderType.MARKET and (request.limit_price or request.stop_price):
        raise OrderRejected(cid, "market orders take neither limit_price nor stop_price")
    prices = [("limit_price", request.limit_price), ("stop_price", request.stop_price)]
    if request.bracket is not None:
        prices.append(("take_profit.limit_price", request.bracket.take_profit_limit))
        prices.append(("stop_loss.stop_price", request.bracket.stop_loss_stop))
    for field, price in prices:
        if price is None:
            continue
        if price <= 0:
            raise OrderRejected(cid, f"{field} must be > 0")
        reason = sub_penny_reason(field, price)
        if reason is not None:
            raise OrderRejected(cid, reason)


def _check_bracket(
    request: OrderRequest, bracket: BracketSpec, last_price: Decimal, position_qty: int
) -> None:
    cid = request.client_order_id
    if request.side is Side.SELL:
        # Long only: a sell bracket would open a short (or is an exit, which brackets cannot be).
        if position_qty > 0:
            raise OrderRejected(cid, "bracket orders must be entry orders")
        raise OrderRejected(cid, "account is not allowed to short")
    if request.type not in (OrderType.MARKET, OrderType.LIMIT):
        raise OrderRejected(cid, "bracket entry must be a market or limit order")
    if bracket.take_profit_limit <= bracket.stop_loss_stop:
        raise OrderRejected(cid, "take_profit.limit_price must be > stop_loss.stop_price")
    # Alpaca's "base price": the entry limit for a limit entry, and in every case the market.
    stop_base = last_price
    target_base = last_price
    if request.limit_price is not None:
        stop_base = min(stop_base, request.limit_price)
        target_base = request.limit_price
    if bracket.stop_loss_stop > stop_base - PENNY:
        raise OrderRejected(cid, "stop_loss.stop_price must be <= base_price - 0.01")
    if bracket.take_profit_limit < target_base + PENNY:
        raise OrderRejected(cid, "take_profit.limit_price must be >= base_price + 0.01")


def _check_sell(request: OrderRequest, context: OrderContext) -> None:
    if request.qty > context.position_qty:
        raise OrderRejected(request.client_order_id, "account is not allowed to short")
    available = context.position_qty - context.committed_sell_qty
    if request.qty > available:
        raise OrderRejected(
            request.client_order_id,
            f"insufficient qty available for order (requested: {request.qty}, "
            f"available: {max(available, 0)})",
        )


def _reserve_price(request: OrderRequest, last_price: Decimal) -> Decimal:
    if request.type is OrderType.LIMIT and request.limit_price is not None:
        return request.limit_price
    reference = last_price
    if request.type is OrderType.STOP and request.stop_price is not None:
        reference = max(reference, request.stop_price)
    return round_to_tick(reference * MARKET_BUY_MARKUP, "up")
